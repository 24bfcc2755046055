//! Down, mid and up blocks of the SD UNet (with or without cross-attention).

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::attention::{SpatialTransformer, TransformerConfig};
use super::profile::scope;
use super::resnet::{ResnetBlock2D, ResnetConfig};
use super::sampling::{Downsample2D, Upsample2D};

/// Settings shared by every block of a UNet.
#[derive(Debug, Clone, Copy)]
pub struct BlockCommon {
    /// Width of the timestep embedding.
    pub temb_channels: usize,
    /// GroupNorm groups.
    pub groups: usize,
    /// Resnet GroupNorm epsilon.
    pub eps: f64,
    /// Width of the text embeddings.
    pub context_dim: usize,
    /// Linear instead of 1x1-conv transformer projections.
    pub linear_projection: bool,
}

impl BlockCommon {
    /// The resnets (`resnets.j`, input channels `inputs[j]`) and, with
    /// cross-attention, the transformers (`attentions.j`) of a down or up
    /// block whose layers all output `out_channels`.
    fn layers(
        &self,
        inputs: &[usize],
        out_channels: usize,
        attention: BlockAttention,
        vb: &VarBuilder,
    ) -> candle_core::Result<(Vec<ResnetBlock2D>, Vec<SpatialTransformer>)> {
        let mut resnets = Vec::with_capacity(inputs.len());
        let mut attentions = Vec::new();
        for (j, &i) in inputs.iter().enumerate() {
            resnets.push(ResnetBlock2D::new(
                self.resnet(i, out_channels, 1.0),
                vb.pp("resnets").pp(j),
            )?);
            if let Some((heads, depth)) = attention {
                attentions.push(SpatialTransformer::new(
                    self.transformer(out_channels, heads, depth),
                    vb.pp("attentions").pp(j),
                )?);
            }
        }
        Ok((resnets, attentions))
    }

    fn resnet(&self, in_channels: usize, out_channels: usize, scale: f64) -> ResnetConfig {
        ResnetConfig {
            in_channels,
            out_channels,
            temb_channels: Some(self.temb_channels),
            groups: self.groups,
            eps: self.eps,
            output_scale_factor: scale,
        }
    }

    fn transformer(&self, channels: usize, heads: usize, depth: usize) -> TransformerConfig {
        TransformerConfig {
            channels,
            heads,
            context_dim: self.context_dim,
            depth,
            groups: self.groups,
            linear_projection: self.linear_projection,
        }
    }
}

/// Attention of a block: `Some((heads, transformer depth))` for cross-attention blocks.
pub type BlockAttention = Option<(usize, usize)>;

/// Shape of a down block.
#[derive(Debug, Clone, Copy)]
pub struct DownBlockConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Number of resnets.
    pub layers: usize,
    /// Cross-attention, if any.
    pub attention: BlockAttention,
    /// Whether a stride-2 downsampler ends the block.
    pub add_downsample: bool,
    /// Padding of the downsampler.
    pub downsample_padding: usize,
}

/// `DownBlock2D` / `CrossAttnDownBlock2D`.
#[derive(Debug)]
pub struct DownBlock {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<SpatialTransformer>,
    downsampler: Option<Downsample2D>,
}

impl DownBlock {
    /// `vb` points at `down_blocks.i`.
    pub fn new(
        cfg: DownBlockConfig,
        common: &BlockCommon,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let inputs: Vec<usize> = (0..cfg.layers)
            .map(|j| {
                if j == 0 {
                    cfg.in_channels
                } else {
                    cfg.out_channels
                }
            })
            .collect();
        let (resnets, attentions) = common.layers(&inputs, cfg.out_channels, cfg.attention, &vb)?;
        let downsampler = cfg
            .add_downsample
            .then(|| {
                Downsample2D::new(
                    cfg.out_channels,
                    cfg.downsample_padding,
                    vb.pp("downsamplers").pp(0),
                )
            })
            .transpose()?;
        Ok(Self {
            resnets,
            attentions,
            downsampler,
        })
    }

    /// Number of skip states the block emits.
    pub fn n_outputs(&self) -> usize {
        self.resnets.len() + usize::from(self.downsampler.is_some())
    }

    /// Returns the block output and its skip states.
    pub fn forward(
        &self,
        xs: &Tensor,
        temb: &Tensor,
        context: &Tensor,
    ) -> candle_core::Result<(Tensor, Vec<Tensor>)> {
        let mut xs = xs.clone();
        let mut states = Vec::with_capacity(self.n_outputs());
        for (j, resnet) in self.resnets.iter().enumerate() {
            xs = resnet.forward(&xs, Some(temb))?;
            if let Some(attn) = self.attentions.get(j) {
                xs = attn.forward(&xs, context)?;
            }
            states.push(xs.clone());
        }
        if let Some(d) = &self.downsampler {
            xs = d.forward(&xs)?;
            states.push(xs.clone());
        }
        Ok((xs, states))
    }
}

/// `UNetMidBlock2DCrossAttn`: resnet, transformer, resnet.
#[derive(Debug)]
pub struct MidBlock {
    resnet0: ResnetBlock2D,
    attention: SpatialTransformer,
    resnet1: ResnetBlock2D,
}

impl MidBlock {
    /// `vb` points at `mid_block`.
    pub fn new(
        channels: usize,
        heads: usize,
        depth: usize,
        output_scale_factor: f64,
        common: &BlockCommon,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let r = common.resnet(channels, channels, output_scale_factor);
        Ok(Self {
            resnet0: ResnetBlock2D::new(r, vb.pp("resnets").pp(0))?,
            attention: SpatialTransformer::new(
                common.transformer(channels, heads, depth),
                vb.pp("attentions").pp(0),
            )?,
            resnet1: ResnetBlock2D::new(r, vb.pp("resnets").pp(1))?,
        })
    }

    /// Applies the block.
    pub fn forward(
        &self,
        xs: &Tensor,
        temb: &Tensor,
        context: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let xs = self.resnet0.forward(xs, Some(temb))?;
        let xs = self.attention.forward(&xs, context)?;
        self.resnet1.forward(&xs, Some(temb))
    }
}

/// Shape of an up block.
#[derive(Debug, Clone)]
pub struct UpBlockConfig {
    /// Channels coming from the previous (deeper) block.
    pub prev_out_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Channels of each skip state consumed, in consumption order.
    pub skip_channels: Vec<usize>,
    /// Cross-attention, if any.
    pub attention: BlockAttention,
    /// Whether an upsampler ends the block.
    pub add_upsample: bool,
}

/// `UpBlock2D` / `CrossAttnUpBlock2D`.
#[derive(Debug)]
pub struct UpBlock {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<SpatialTransformer>,
    upsampler: Option<Upsample2D>,
}

impl UpBlock {
    /// `vb` points at `up_blocks.i`.
    pub fn new(
        cfg: &UpBlockConfig,
        common: &BlockCommon,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let inputs: Vec<usize> = cfg
            .skip_channels
            .iter()
            .enumerate()
            .map(|(j, skip)| {
                let prev = if j == 0 {
                    cfg.prev_out_channels
                } else {
                    cfg.out_channels
                };
                prev + skip
            })
            .collect();
        let (resnets, attentions) = common.layers(&inputs, cfg.out_channels, cfg.attention, &vb)?;
        let upsampler = cfg
            .add_upsample
            .then(|| Upsample2D::new(cfg.out_channels, vb.pp("upsamplers").pp(0)))
            .transpose()?;
        Ok(Self {
            resnets,
            attentions,
            upsampler,
        })
    }

    /// Number of skip states the block consumes.
    pub fn n_inputs(&self) -> usize {
        self.resnets.len()
    }

    /// `skips` in consumption order (the most recent skip state first).
    pub fn forward(
        &self,
        xs: &Tensor,
        skips: &[Tensor],
        temb: &Tensor,
        context: &Tensor,
        upsample_size: Option<(usize, usize)>,
    ) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for (j, (resnet, skip)) in self.resnets.iter().zip(skips).enumerate() {
            xs = scope("skip concat", || Tensor::cat(&[&xs, skip], 1))?;
            xs = resnet.forward(&xs, Some(temb))?;
            if let Some(attn) = self.attentions.get(j) {
                xs = attn.forward(&xs, context)?;
            }
        }
        match &self.upsampler {
            Some(u) => u.forward(&xs, upsample_size),
            None => Ok(xs),
        }
    }
}
