//! 3x3 convolution with stride 2 (the UNet/VAE downsamplers and the
//! ControlNet conditioning embedding) as one im2col matrix product in NCHW
//! layout, in bands of output rows, for f32 on the CPU. candle 0.11's CPU
//! conv2d ran these at about 22 GFLOP/s here (`adstudio bench diffusion
//! --profile`); other devices and dtypes, and the generic kernels
//! ([`super::kernels`]), still use it.

use super::at_rest::widen;
use super::conv::{im2col_matrix, in_row_bands, load_taps_and_bias};
use super::cpu_input::contiguous_f32;
use super::kernels::fast_cpu;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Module, Shape, Tensor};
use candle_nn::VarBuilder;

/// Most im2col elements built at once (64 M floats, 256 MB in f32).
const MAX_COL_ELEMENTS: usize = 64 << 20;

/// Zero padding around the input of a stride-2 convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stride2Padding {
    /// One pixel on every side (`padding=1`).
    Symmetric,
    /// None on the top and left, one on the bottom and right: diffusers'
    /// `Downsample2D` with `padding=0` (the VAE encoder).
    BottomRight,
}

impl Stride2Padding {
    /// Padding before the first row/column.
    fn leading(self) -> usize {
        match self {
            Self::Symmetric => 1,
            Self::BottomRight => 0,
        }
    }

    /// Output size of one side of length `len` (padding 1 after it in
    /// both cases); `None` when the padded side is shorter than the kernel.
    fn output_len(self, len: usize) -> Option<usize> {
        (len + self.leading() + 1).checked_sub(3).map(|n| n / 2 + 1)
    }
}

/// A 3x3 convolution with stride 2 (weights `weight` `(out, in, 3, 3)` and
/// `bias` `(out,)`, as in diffusers). The taps stay at rest
/// ([`super::at_rest`]) and are widened at each call; with the generic
/// kernels, or off the CPU, candle's `conv2d` runs.
#[derive(Debug, Clone)]
pub struct Conv3x3Stride2 {
    /// `(out, in * 9)`, at rest.
    taps: Tensor,
    /// `(out,)` in the compute dtype.
    bias: Tensor,
    padding: Stride2Padding,
    in_channels: usize,
}

impl Conv3x3Stride2 {
    /// Loads `weight` and `bias` under `vb`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        padding: Stride2Padding,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let (taps, bias) = load_taps_and_bias(in_channels, out_channels, &vb)?;
        Ok(Self {
            taps,
            bias,
            padding,
            in_channels,
        })
    }

    /// Output rows `y0..y0 + rows` (of `out_h x out_w`) by one product.
    fn band(&self, weight: &Tensor, xs: &Tensor, op: Im2ColStride2) -> candle_core::Result<Tensor> {
        let (b, _, _, _) = xs.dims4()?;
        let cols = xs.apply_op1_no_bwd(&op)?;
        let out = super::bf16::product(&weight.broadcast_left(b)?, &cols)?;
        let o = weight.dim(0)?;
        out.reshape((b, o, op.rows, op.out_w))
    }

    /// The im2col weight matrix `(out, in * 9 + 1)` in f32.
    fn im2col_weight(&self) -> candle_core::Result<Tensor> {
        let o = self.bias.dim(0)?;
        let bias = self.bias.to_dtype(DType::F32)?.reshape((o, 1))?;
        Tensor::cat(&[widen(&self.taps, DType::F32)?, bias], 1)
    }

    /// candle's convolution (other devices, the generic kernels).
    fn forward_generic(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let o = self.bias.dim(0)?;
        let weight = widen(&self.taps, xs.dtype())?.reshape((o, self.in_channels, 3, 3))?;
        let bias = self.bias.to_dtype(xs.dtype())?.reshape((1, o, 1, 1))?;
        let out = match self.padding {
            Stride2Padding::Symmetric => xs.conv2d(&weight, 1, 2, 1, 1)?,
            Stride2Padding::BottomRight => xs
                .pad_with_zeros(3, 0, 1)?
                .pad_with_zeros(2, 0, 1)?
                .conv2d(&weight, 0, 2, 1, 1)?,
        };
        out.broadcast_add(&bias)
    }
}

impl Module for Conv3x3Stride2 {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = xs.dims4()?;
        if c != self.in_channels {
            candle_core::bail!(
                "stride-2 convolution expects {} input channels, got {:?}",
                self.in_channels,
                xs.dims()
            );
        }
        let (Some(out_h), Some(out_w)) = (self.padding.output_len(h), self.padding.output_len(w))
        else {
            candle_core::bail!(
                "stride-2 convolution: input {:?} is smaller than the kernel",
                xs.dims()
            )
        };
        if !fast_cpu(xs) {
            return self.forward_generic(xs);
        }
        // Native bf16 products read f16 taps as they are: no f32 weight
        // matrix is built per call (the bias is added to the output).
        let direct = super::bf16::takes_half_weights(&self.taps);
        let weight = if direct {
            self.taps.clone()
        } else {
            self.im2col_weight()?
        };
        let xs = xs.contiguous()?;
        let per_row = (b * (9 * c + 1) * out_w).max(1);
        let leading = self.padding.leading();
        in_row_bands(out_h, MAX_COL_ELEMENTS / per_row, |y0, rows| {
            let op = Im2ColStride2 {
                leading,
                out_w,
                y0,
                rows,
            };
            if direct {
                self.band_taps(&weight, &xs, op)
            } else {
                self.band(&weight, &xs, op)
            }
        })
    }
}

impl Conv3x3Stride2 {
    /// [`Self::band`] with the taps alone (`(out, in * 9)`, f16 at rest)
    /// over the im2col rows without the ones row, then the bias.
    fn band_taps(
        &self,
        taps: &Tensor,
        xs: &Tensor,
        op: Im2ColStride2,
    ) -> candle_core::Result<Tensor> {
        let (b, c, _, _) = xs.dims4()?;
        let cols = xs.apply_op1_no_bwd(&op)?.narrow(1, 0, 9 * c)?;
        let out = super::bf16::product(&taps.broadcast_left(b)?, &cols)?;
        let o = taps.dim(0)?;
        let bias = self.bias.to_dtype(DType::F32)?.reshape((1, o, 1))?;
        out.broadcast_add(&bias)?.reshape((b, o, op.rows, op.out_w))
    }
}

/// `(b, c, h, w)` to the stride-2 im2col matrix `(b, 9 c + 1, rows *
/// out_w)` of output rows `y0..y0 + rows` (the last row is ones, for the
/// bias).
#[derive(Debug, Clone, Copy)]
struct Im2ColStride2 {
    /// Zero rows/columns before the input (after it: one).
    leading: usize,
    out_w: usize,
    y0: usize,
    rows: usize,
}

impl Im2ColStride2 {
    /// The nine tap rows of one channel `plane` `(h, w)` into `out`
    /// (`9 x rows * out_w`).
    fn channel(&self, plane: &[f32], h: usize, w: usize, out: &mut [f32]) {
        let plane_len = self.rows * self.out_w;
        for (tap, dst) in out.chunks_exact_mut(plane_len.max(1)).enumerate() {
            let (ky, kx) = (tap / 3, tap % 3);
            for (oy, dst_row) in dst.chunks_exact_mut(self.out_w.max(1)).enumerate() {
                let y = (2 * (self.y0 + oy) + ky).checked_sub(self.leading);
                let Some(src_row) = y.filter(|&y| y < h).map(|y| &plane[y * w..(y + 1) * w]) else {
                    dst_row.fill(0.0);
                    continue;
                };
                for (ox, value) in dst_row.iter_mut().enumerate() {
                    *value = (2 * ox + kx)
                        .checked_sub(self.leading)
                        .and_then(|x| src_row.get(x))
                        .copied()
                        .unwrap_or(0.0);
                }
            }
        }
    }
}

impl CustomOp1 for Im2ColStride2 {
    fn name(&self) -> &'static str {
        "adstudio-im2col-3x3-stride-2"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(storage, layout, "stride-2 im2col: input")?;
        let (b, c, h, w) = layout.shape().dims4()?;
        let plane = self.rows * self.out_w;
        let dst = im2col_matrix(xs, (b, c, h, w), plane, |src, out| {
            self.channel(src, h, w, out)
        });
        Ok((CpuStorage::F32(dst), Shape::from((b, c * 9 + 1, plane))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::kernels::Kernels;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::Device;
    use std::collections::HashMap;

    fn vb_of(weight: &Tensor, bias: &Tensor, dtype: DType) -> VarBuilder<'static> {
        let mut ts = HashMap::new();
        ts.insert("weight".to_string(), weight.clone());
        ts.insert("bias".to_string(), bias.clone());
        VarBuilder::from_tensors(ts, dtype, &Device::Cpu)
    }

    #[test]
    fn matches_candle_conv2d_for_both_paddings_odd_sizes_and_bands() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(5);
        let dev = Device::Cpu;
        for (b, c, o, h, w) in [
            (2, 3, 5, 8, 8),
            (1, 4, 2, 7, 10),
            (1, 2, 3, 2, 3),
            (2, 1, 1, 5, 2),
        ] {
            let weight = rng.tensor((o, c, 3, 3), &dev).expect("w");
            let bias = rng.tensor(o, &dev).expect("b");
            let x = rng.tensor((b, c, h, w), &dev).expect("x");
            let with_bias = |t: Tensor| {
                t.broadcast_add(&bias.reshape((1, o, 1, 1)).expect("r"))
                    .expect("bias")
            };
            let symmetric = with_bias(x.conv2d(&weight, 1, 2, 1, 1).expect("conv"));
            let padded = x
                .pad_with_zeros(3, 0, 1)
                .expect("pad")
                .pad_with_zeros(2, 0, 1)
                .expect("pad");
            let bottom_right = with_bias(padded.conv2d(&weight, 0, 2, 1, 1).expect("conv"));
            for (padding, want) in [
                (Stride2Padding::Symmetric, symmetric),
                (Stride2Padding::BottomRight, bottom_right),
            ] {
                let ours = Conv3x3Stride2::new(c, o, padding, vb_of(&weight, &bias, DType::F32))
                    .expect("conv");
                let got = ours.forward(&x).expect("forward");
                assert_eq!(got.dims(), want.dims(), "{padding:?} {b}x{c}x{h}x{w}");
                assert!(
                    max_abs_diff(&got, &want) < 1e-5,
                    "{padding:?} {b}x{c}x{h}x{w}"
                );
                // One output row per band gives the same result.
                let taps = &ours.im2col_weight().expect("weight");
                let (out_h, out_w) = (
                    padding.output_len(h).expect("h"),
                    padding.output_len(w).expect("w"),
                );
                let rows: Vec<Tensor> = (0..out_h)
                    .map(|y0| {
                        let op = Im2ColStride2 {
                            leading: padding.leading(),
                            out_w,
                            y0,
                            rows: 1,
                        };
                        ours.band(taps, &x, op).expect("band")
                    })
                    .collect();
                let banded = Tensor::cat(&rows, 2).expect("cat");
                assert!(max_abs_diff(&banded, &want) < 1e-5, "{padding:?} banded");
                // The generic path agrees, in f32 and (candle) in f64.
                let generic = Kernels::Generic
                    .scope(|| ours.forward(&x))
                    .expect("generic");
                assert!(max_abs_diff(&generic, &want) < 1e-5, "{padding:?} generic");
                let candle = Conv3x3Stride2::new(c, o, padding, vb_of(&weight, &bias, DType::F64))
                    .expect("conv");
                let got = candle
                    .forward(&x.to_dtype(DType::F64).expect("f64"))
                    .expect("forward")
                    .to_dtype(DType::F32)
                    .expect("f32");
                assert!(max_abs_diff(&got, &want) < 1e-5, "{padding:?} candle path");
            }
        }
    }

    /// f16 taps under bf16 products: read as they are by the native
    /// kernel (the bias added after), else emulated; within bf16's
    /// precision of the f32 convolution either way.
    #[test]
    fn f16_taps_under_bf16_products_stay_within_bf16_precision() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(9);
        let dev = Device::Cpu;
        let (b, c, o, h, w) = (2, 16, 24, 9, 12);
        let weight = rng.tensor((o, c, 3, 3), &dev).expect("w");
        let weight = weight.to_dtype(DType::F16).expect("f16");
        let bias = rng.tensor(o, &dev).expect("b");
        let x = rng.tensor((b, c, h, w), &dev).expect("x");
        let wide = weight.to_dtype(DType::F32).expect("f32");
        let want = x
            .conv2d(&wide, 1, 2, 1, 1)
            .and_then(|t| t.broadcast_add(&bias.reshape((1, o, 1, 1))?))
            .expect("want");
        let ours = Conv3x3Stride2::new(
            c,
            o,
            Stride2Padding::Symmetric,
            vb_of(&weight, &bias, DType::F16),
        )
        .expect("conv");
        let got =
            crate::ml::diffusion::blocks::kernels::scope(Kernels::Fast, true, || ours.forward(&x))
                .expect("forward");
        let scale = want
            .abs()
            .and_then(|t| t.flatten_all()?.max(0)?.to_scalar::<f32>())
            .expect("scale");
        let gap = max_abs_diff(&got, &want) / scale;
        assert!(gap < 1e-2, "{gap}");
        assert!(gap > 0.0, "bf16 products round");
    }

    #[test]
    fn wrong_channel_count_is_an_error() {
        let dev = Device::Cpu;
        let weight = Tensor::zeros((2, 3, 3, 3), DType::F32, &dev).expect("w");
        let bias = Tensor::zeros(2, DType::F32, &dev).expect("b");
        let conv = Conv3x3Stride2::new(
            3,
            2,
            Stride2Padding::Symmetric,
            vb_of(&weight, &bias, DType::F32),
        )
        .expect("conv");
        let x = Tensor::zeros((1, 4, 8, 8), DType::F32, &dev).expect("x");
        assert!(conv.forward(&x).is_err());
        let conv = Conv3x3Stride2::new(
            3,
            2,
            Stride2Padding::BottomRight,
            vb_of(&weight, &bias, DType::F32),
        )
        .expect("conv");
        let x = Tensor::zeros((1, 3, 1, 8), DType::F32, &dev).expect("x");
        let err = conv.forward(&x).expect_err("1 row padded to 2 < 3");
        assert!(err.to_string().contains("smaller than the kernel"), "{err}");
    }
}
