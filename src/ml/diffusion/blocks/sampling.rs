//! `Downsample2D` and `Upsample2D` (with convolution).

use candle_core::{Module, Tensor};
use candle_nn::{conv2d, Conv2d, Conv2dConfig, VarBuilder};

use super::conv::Conv3x3;
use super::profile::{matmul_flops, scope, scope_flops};

/// Stride-2 3x3 convolution; with padding 0 the input is first padded by one
/// on the right and bottom (diffusers' asymmetric padding).
#[derive(Debug)]
pub struct Downsample2D {
    conv: Conv2d,
    asymmetric_pad: bool,
}

impl Downsample2D {
    /// `vb` points at `downsamplers.0`.
    pub fn new(channels: usize, padding: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let cfg = Conv2dConfig {
            padding,
            stride: 2,
            ..Default::default()
        };
        Ok(Self {
            conv: conv2d(channels, channels, 3, cfg, vb.pp("conv"))?,
            asymmetric_pad: padding == 0,
        })
    }
}

impl Module for Downsample2D {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = xs.dims4()?;
        let flops = matmul_flops(b * h.div_ceil(2) * w.div_ceil(2), c * 9, c);
        scope_flops("downsample (stride-2 conv)", flops, || {
            if self.asymmetric_pad {
                let xs = xs.pad_with_zeros(3, 0, 1)?.pad_with_zeros(2, 0, 1)?;
                self.conv.forward(&xs)
            } else {
                self.conv.forward(xs)
            }
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
