//! Blocks of the KL autoencoder: resnet stacks with down/up sampling and the
//! mid block with single-head spatial self-attention.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::at_rest::{compute_vb, Linear};

use super::attention::chunked_attention;
use super::norm::{group_norm, GroupNorm};
use super::resnet::{ResnetBlock2D, ResnetConfig};
use super::sampling::{Downsample2D, Upsample2D};

/// GroupNorm epsilon of every VAE block.
pub const VAE_EPS: f64 = 1e-6;

fn resnet(in_channels: usize, out_channels: usize, groups: usize) -> ResnetConfig {
    ResnetConfig {
        in_channels,
        out_channels,
        temb_channels: None,
        groups,
        eps: VAE_EPS,
        output_scale_factor: 1.0,
    }
}

/// `layers` resnets (`resnets.j`) from `in_channels` to `out_channels`.
fn resnet_chain(
    in_channels: usize,
    out_channels: usize,
    layers: usize,
    groups: usize,
    vb: &VarBuilder,
) -> candle_core::Result<Vec<ResnetBlock2D>> {
    (0..layers)
        .map(|j| {
            let i = if j == 0 { in_channels } else { out_channels };
            ResnetBlock2D::new(resnet(i, out_channels, groups), vb.pp("resnets").pp(j))
        })
        .collect()
}

/// A `(c, c)` projection stored as a linear or as a 1x1 convolution (LDM files).
fn projection(c: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    let weight = match vb.get((c, c), "weight") {
        Ok(w) => w,
        Err(_) => vb.get((c, c, 1, 1), "weight")?.reshape((c, c))?,
    };
    Linear::new(weight, Some(compute_vb(&vb).get(c, "bias")?))
}

/// Single-head self-attention over all pixels, with a residual.
#[derive(Debug)]
pub struct VaeAttention {
    group_norm: GroupNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
}

impl VaeAttention {
    /// `vb` points at `mid_block.attentions.0` (diffusers `to_q`... or the
    /// older `query`/`key`/`value`/`proj_attn` names).
    pub fn new(channels: usize, groups: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let names = if vb.contains_tensor("to_q.weight") {
            ["to_q", "to_k", "to_v", "to_out.0"]
        } else {
            ["query", "key", "value", "proj_attn"]
        };
        Ok(Self {
            group_norm: group_norm(groups, channels, VAE_EPS, vb.pp("group_norm"))?,
            q: projection(channels, vb.pp(names[0]))?,
            k: projection(channels, vb.pp(names[1]))?,
            v: projection(channels, vb.pp(names[2]))?,
            out: projection(channels, vb.pp(names[3]))?,
        })
    }
}

impl Module for VaeAttention {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = xs.dims4()?;
        let tokens = self
            .group_norm
            .forward(xs)?
            .reshape((b, c, h * w))?
            .transpose(1, 2)?
            .contiguous()?;
        let scale = (c as f64).powf(-0.5);
        let q = (self.q.forward(&tokens)? * scale)?.unsqueeze(1)?;
        let k = self.k.forward(&tokens)?.unsqueeze(1)?;
        let v = self.v.forward(&tokens)?.unsqueeze(1)?;
        let attn = chunked_attention(&q, &k, &v)?.squeeze(1)?;
        let out = self
            .out
            .forward(&attn)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, c, h, w))?;
        out + xs
    }
}

/// `UNetMidBlock2D` of the VAE: resnet, attention, resnet.
#[derive(Debug)]
pub struct VaeMidBlock {
    resnet0: ResnetBlock2D,
    attention: VaeAttention,
    resnet1: ResnetBlock2D,
}

impl VaeMidBlock {
    /// `vb` points at `encoder.mid_block` or `decoder.mid_block`.
    pub fn new(channels: usize, groups: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let r = resnet(channels, channels, groups);
        Ok(Self {
            resnet0: ResnetBlock2D::new(r, vb.pp("resnets").pp(0))?,
            attention: VaeAttention::new(channels, groups, vb.pp("attentions").pp(0))?,
            resnet1: ResnetBlock2D::new(r, vb.pp("resnets").pp(1))?,
        })
    }
}

impl Module for VaeMidBlock {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let xs = self.resnet0.forward(xs, None)?;
        let xs = self.attention.forward(&xs)?;
        self.resnet1.forward(&xs, None)
    }
}

/// `DownEncoderBlock2D`: resnets then an optional stride-2 downsampler.
#[derive(Debug)]
pub struct EncoderBlock {
    resnets: Vec<ResnetBlock2D>,
    downsampler: Option<Downsample2D>,
}

impl EncoderBlock {
    /// `vb` points at `encoder.down_blocks.i`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        layers: usize,
        groups: usize,
        add_downsample: bool,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let resnets = resnet_chain(in_channels, out_channels, layers, groups, &vb)?;
        let downsampler = add_downsample
            .then(|| Downsample2D::new(out_channels, 0, vb.pp("downsamplers").pp(0)))
            .transpose()?;
        Ok(Self {
            resnets,
            downsampler,
        })
    }
}

impl Module for EncoderBlock {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for r in &self.resnets {
            xs = r.forward(&xs, None)?;
        }
        match &self.downsampler {
            Some(d) => d.forward(&xs),
            None => Ok(xs),
        }
    }
}

/// `UpDecoderBlock2D`: resnets then an optional 2x upsampler.
#[derive(Debug)]
pub struct DecoderBlock {
    resnets: Vec<ResnetBlock2D>,
    upsampler: Option<Upsample2D>,
}

impl DecoderBlock {
    /// `vb` points at `decoder.up_blocks.i`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        layers: usize,
        groups: usize,
        add_upsample: bool,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let resnets = resnet_chain(in_channels, out_channels, layers, groups, &vb)?;
        let upsampler = add_upsample
            .then(|| Upsample2D::new(out_channels, vb.pp("upsamplers").pp(0)))
            .transpose()?;
        Ok(Self { resnets, upsampler })
    }
}

impl Module for DecoderBlock {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for r in &self.resnets {
            xs = r.forward(&xs, None)?;
        }
        match &self.upsampler {
            Some(u) => u.forward(&xs, None),
            None => Ok(xs),
        }
    }
}
