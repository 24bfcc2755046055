//! `Downsample2D` and `Upsample2D` (with convolution).

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::conv::Conv3x3;
use super::profile::{matmul_flops, scope, scope_flops};
use super::strided_conv::{Conv3x3Stride2, Stride2Padding};

/// Stride-2 3x3 convolution; with padding 0 the input is first padded by one
/// on the right and bottom (diffusers' asymmetric padding).
#[derive(Debug)]
pub struct Downsample2D {
    conv: Conv3x3Stride2,
}

impl Downsample2D {
    /// `vb` points at `downsamplers.0`; `padding` is diffusers' (1, or 0
    /// for the asymmetric padding).
    pub fn new(channels: usize, padding: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let padding = match padding {
            0 => Stride2Padding::BottomRight,
            1 => Stride2Padding::Symmetric,
            other => candle_core::bail!("downsampler padding {other} (expected 0 or 1)"),
        };
        Ok(Self {
            conv: Conv3x3Stride2::new(channels, channels, padding, vb.pp("conv"))?,
        })
    }
}

impl Module for Downsample2D {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = xs.dims4()?;
        let flops = matmul_flops(b * h.div_ceil(2) * w.div_ceil(2), c * 9, c);
        scope_flops("downsample (stride-2 conv)", flops, || {
            self.conv.forward(xs)
        })
    }
}

/// Nearest-neighbour 2x upsampling (or to an explicit size) then a 3x3 conv.
#[derive(Debug)]
pub struct Upsample2D {
    conv: Conv3x3,
}

impl Upsample2D {
    /// `vb` points at `upsamplers.0`.
    pub fn new(channels: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            conv: Conv3x3::new(channels, channels, vb.pp("conv"))?,
        })
    }

    /// Upsamples to `size` `(h, w)` when given, else by 2.
    pub fn forward(
        &self,
        xs: &Tensor,
        size: Option<(usize, usize)>,
    ) -> candle_core::Result<Tensor> {
        let (_, _, h, w) = xs.dims4()?;
        let (th, tw) = size.unwrap_or((2 * h, 2 * w));
        let up = scope("upsample nearest", || xs.upsample_nearest2d(th, tw))?;
        self.conv.forward(&up)
    }
}
