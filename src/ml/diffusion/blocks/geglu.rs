//! GEGLU gating `hidden * gelu(gate)` (exact, erf-based GELU as in
//! diffusers) over the two halves of the last dimension in one parallel,
//! vectorised pass for contiguous f32 tensors on the CPU. candle's
//! `gelu_erf` is a scalar one-thread pass over a strided view, followed by
//! a separate product. Other dtypes and devices use those generic ops.

use super::cpu_input::contiguous_f32;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use super::fast_exp;

/// Elements of input per parallel task (whole rows are kept together).
const TASK_ELEMENTS: usize = 1 << 15;

/// `erf(x)`, Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7),
/// branch-free so loops over it vectorise.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let magnitude = 1.0 - poly * fast_exp::exp(-a * a);
    magnitude.copysign(x)
}

/// `x * Φ(x)` with the exact (erf) normal CDF.
#[inline(always)]
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `h[..., :n] * gelu(h[..., n:])` for `h` `(..., 2n)`.
pub fn geglu(h: &Tensor) -> candle_core::Result<Tensor> {
    if super::kernels::fast_cpu(h) {
        h.contiguous()?.apply_op1_no_bwd(&GegluOp)
    } else {
        let inner = h.dim(D::Minus1)? / 2;
        let hidden = h.narrow(D::Minus1, 0, inner)?;
        let gate = h.narrow(D::Minus1, inner, inner)?;
        hidden * gate.gelu_erf()?
    }
}

struct GegluOp;

impl CustomOp1 for GegluOp {
    fn name(&self) -> &'static str {
        "adstudio-geglu"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(storage, layout, "geglu: input")?;
        let mut dims = layout.shape().dims().to_vec();
        let Some(last) = dims.last_mut() else {
            candle_core::bail!("geglu: input must have at least one dimension")
        };
        if !last.is_multiple_of(2) {
            candle_core::bail!("geglu: last dimension {} is odd", last)
        }
        let width = *last;
        let inner = width / 2;
        *last = inner;
        let mut dst = vec![0f32; xs.len() / 2];
        if inner == 0 || xs.is_empty() {
            return Ok((CpuStorage::F32(dst), Shape::from_dims(&dims)));
        }
        let rows_per_task = (TASK_ELEMENTS / width).max(1);
        dst.par_chunks_mut(rows_per_task * inner)
            .zip(xs.par_chunks(rows_per_task * width))
            .for_each(|(out, src)| {
                for (o, row) in out.chunks_mut(inner).zip(src.chunks(width)) {
                    let (hidden, gate) = row.split_at(inner);
                    for ((o, &h), &g) in o.iter_mut().zip(hidden).zip(gate) {
                        *o = h * gelu_erf(g);
                    }
                }
            });
        Ok((CpuStorage::F32(dst), Shape::from_dims(&dims)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::DType;
    use candle_core::Device;

    #[test]
    fn matches_candle_gelu_erf_product() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(13);
        for shape in [(2usize, 3usize, 10usize), (1, 7, 2), (3, 5, 2562)] {
            let h = (rng.tensor(shape, &Device::Cpu).expect("h") * 4.0).expect("scale");
            let inner = shape.2 / 2;
            let want = (h.narrow(2, 0, inner).expect("n")
                * h.narrow(2, inner, inner)
                    .expect("n")
                    .gelu_erf()
                    .expect("gelu"))
            .expect("mul");
            let want_max = want
                .abs()
                .expect("abs")
                .flatten_all()
                .expect("flat")
                .max(0)
                .expect("max")
                .to_scalar::<f32>()
                .expect("scalar");
            let got = geglu(&h).expect("geglu");
            assert_eq!(got.dims(), want.dims());
            let diff = max_abs_diff(&got, &want);
            let scale = want_max.max(1.0);
            assert!(diff <= 1e-5 * scale, "{shape:?}: {diff} (max {want_max})");
        }
    }

    #[test]
    fn odd_width_is_an_error() {
        let h = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).expect("h");
        assert!(geglu(&h).is_err());
    }
}
