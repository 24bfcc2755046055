//! `ResnetBlock2D` with an optional timestep embedding.

use candle_core::{Module, Tensor};
use candle_nn::{Conv2d, VarBuilder};

use super::at_rest::{conv2d, linear, pointwise, Linear};

use super::norm::{group_norm, silu, GroupNorm};

use super::conv::Conv3x3;
use super::profile::{matmul_flops, scope, scope_flops};

/// Shape and normalisation parameters of a resnet block.
#[derive(Debug, Clone, Copy)]
pub struct ResnetConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Width of the timestep embedding (`None`: no time conditioning).
    pub temb_channels: Option<usize>,
    /// GroupNorm groups.
    pub groups: usize,
    /// GroupNorm epsilon.
    pub eps: f64,
    /// The output is divided by this.
    pub output_scale_factor: f64,
}

/// diffusers `ResnetBlock2D` (time-scale-shift "default", SiLU).
#[derive(Debug)]
pub struct ResnetBlock2D {
    norm1: GroupNorm,
    conv1: Conv3x3,
    time_emb_proj: Option<Linear>,
    norm2: GroupNorm,
    conv2: Conv3x3,
    conv_shortcut: Option<Conv2d>,
    output_scale_factor: f64,
}

impl ResnetBlock2D {
    /// Builds the block; `vb` points at e.g. `down_blocks.0.resnets.0`.
    pub fn new(cfg: ResnetConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let (i, o) = (cfg.in_channels, cfg.out_channels);
        Ok(Self {
            norm1: group_norm(cfg.groups, i, cfg.eps, vb.pp("norm1"))?,
            conv1: Conv3x3::new(i, o, vb.pp("conv1"))?,
            time_emb_proj: cfg
                .temb_channels
                .map(|t| linear(t, o, vb.pp("time_emb_proj")))
                .transpose()?,
            norm2: group_norm(cfg.groups, o, cfg.eps, vb.pp("norm2"))?,
            conv2: Conv3x3::new(o, o, vb.pp("conv2"))?,
            conv_shortcut: (i != o)
                .then(|| conv2d(i, o, 1, Default::default(), vb.pp("conv_shortcut")))
                .transpose()?,
            output_scale_factor: cfg.output_scale_factor,
        })
    }

    /// `(shortcut(x) + conv2(silu(norm2(conv1(silu(norm1 x)) + temb)))) / scale`.
    pub fn forward(&self, xs: &Tensor, temb: Option<&Tensor>) -> candle_core::Result<Tensor> {
        let shortcut = match &self.conv_shortcut {
            Some(c) => {
                let (b, i, h, w) = xs.dims4()?;
                let o = self.conv2.out_channels();
                scope_flops("resnet 1x1 shortcut", matmul_flops(b * h * w, i, o), || {
                    pointwise(c, xs)
                })?
            }
            None => xs.clone(),
        };
        let h = scope("resnet GroupNorm+SiLU", || self.norm1.forward_silu(xs))?;
        let h = self.conv1.forward(&h)?;
        let h = match (temb, &self.time_emb_proj) {
            (Some(t), Some(p)) => scope("resnet time embedding add", || {
                let t = p.forward(&silu(t)?)?.unsqueeze(2)?.unsqueeze(3)?;
                h.broadcast_add(&t)
            })?,
            _ => h,
        };
        let h = scope("resnet GroupNorm+SiLU", || self.norm2.forward_silu(&h))?;
        let h = self.conv2.forward(&h)?;
        scope("resnet residual add", || {
            let out = (shortcut + h)?;
            if self.output_scale_factor == 1.0 {
                Ok(out)
            } else {
                out / self.output_scale_factor
            }
        })
    }
}
