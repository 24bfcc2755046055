//! ControlNet conditioning embedding: maps the pixel-space control image to
//! the latent grid with small convolutions, three of them with stride 2
//! (for the usual four-entry channel list), i.e. a downsampling by 8.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::blocks::conv::Conv3x3;
use super::blocks::strided_conv::{Conv3x3Stride2, Stride2Padding};
use super::blocks::{norm, profile};

/// `controlnet_cond_embedding` of a diffusers ControlNet.
#[derive(Debug)]
pub struct ConditioningEmbedding {
    conv_in: Conv3x3,
    blocks: Vec<Block>,
    conv_out: Conv3x3,
}

#[derive(Debug)]
enum Block {
    Same(Conv3x3),
    Down(Conv3x3Stride2),
}

impl Module for Block {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Same(c) => c.forward(xs),
            Self::Down(c) => profile::scope("downsample (stride-2 conv)", || c.forward(xs)),
        }
    }
}

impl ConditioningEmbedding {
    /// `channels`: `conditioning_embedding_out_channels` of the config;
    /// `out_channels`: the UNet's first block width.
    pub fn new(
        in_channels: usize,
        channels: &[usize],
        out_channels: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let first = *channels.first().ok_or_else(|| {
            candle_core::Error::Msg("empty conditioning_embedding_out_channels".into())
        })?;
        let last = channels[channels.len() - 1];
        let conv_in = Conv3x3::new(in_channels, first, vb.pp("conv_in"))?;
        let mut blocks = Vec::with_capacity(2 * channels.len());
        for pair in channels.windows(2) {
            let idx = blocks.len();
            blocks.push(Block::Same(Conv3x3::new(
                pair[0],
                pair[0],
                vb.pp("blocks").pp(idx),
            )?));
            blocks.push(Block::Down(Conv3x3Stride2::new(
                pair[0],
                pair[1],
                Stride2Padding::Symmetric,
                vb.pp("blocks").pp(idx + 1),
            )?));
        }
        let conv_out = Conv3x3::new(last, out_channels, vb.pp("conv_out"))?;
        Ok(Self {
            conv_in,
            blocks,
            conv_out,
        })
    }
}

impl Module for ConditioningEmbedding {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let silu = |t: &Tensor| profile::scope("SiLU", || norm::silu(t));
        let mut xs = silu(&self.conv_in.forward(xs)?)?;
        for block in &self.blocks {
            xs = silu(&block.forward(&xs)?)?;
        }
        self.conv_out.forward(&xs)
    }
}
