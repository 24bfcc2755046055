//! Softmax over the last dimension with a vectorised `exp`, parallel over
//! rows, for contiguous f32 tensors on the CPU (other dtypes and devices use
//! candle's `softmax_last_dim`). In attention at 4096 tokens the scalar
//! `exp` of candle's kernel is the largest single cost after the products.

use super::cpu_input::contiguous_f32;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::fast_exp;

/// Elements per parallel task (whole rows are kept together).
const TASK_ELEMENTS: usize = 1 << 14;

/// `softmax(xs)` along the last dimension.
pub fn softmax_last_dim(xs: &Tensor) -> candle_core::Result<Tensor> {
    if super::kernels::fast_cpu(xs) && xs.rank() >= 1 {
        xs.contiguous()?.apply_op1_no_bwd(&SoftmaxOp)
    } else {
        candle_nn::ops::softmax_last_dim(xs)
    }
}

struct SoftmaxOp;

/// Largest element (NaN-ignoring; a NaN still spreads through the `exp`s).
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for (lane, &x) in lanes.iter_mut().zip(c) {
            *lane = lane.max(x);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    lanes.iter().fold(tail, |m, &x| m.max(x))
}

/// Writes `exp(x - max)` into `out` and returns its sum.
fn exp_row(row: &[f32], max: f32, out: &mut [f32]) -> f32 {
    for (o, &x) in out.iter_mut().zip(row) {
        *o = fast_exp::exp(x - max);
    }
    let mut lanes = [0f32; 8];
    let mut chunks = out.chunks_exact(8);
    for c in &mut chunks {
        for (lane, &x) in lanes.iter_mut().zip(c) {
            *lane += x;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

impl CustomOp1 for SoftmaxOp {
    fn name(&self) -> &'static str {
        "adstudio-softmax-last-dim"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(storage, layout, "softmax: input")?;
        let width = layout.shape().dims().last().copied().unwrap_or(1);
        let mut dst = vec![0f32; xs.len()];
        if width == 0 || xs.is_empty() {
            return Ok((CpuStorage::F32(dst), layout.shape().clone()));
        }
        let task = (TASK_ELEMENTS / width).max(1) * width;
        dst.par_chunks_mut(task)
            .zip(xs.par_chunks(task))
            .for_each(|(out, src)| {
                for (o, s) in out.chunks_mut(width).zip(src.chunks(width)) {
                    let sum = exp_row(s, row_max(s), o);
                    for v in o.iter_mut() {
                        *v /= sum;
                    }
                }
            });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::Device;

    #[test]
    fn matches_candle_softmax_on_odd_widths() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(5);
        for shape in [(3usize, 7usize, 1usize), (2, 5, 13), (1, 3, 4099)] {
            let x = (rng.tensor(shape, &Device::Cpu).expect("x") * 8.0).expect("scale");
            let want = candle_nn::ops::softmax_last_dim(&x).expect("candle");
            let got = softmax_last_dim(&x).expect("ours");
            let diff = max_abs_diff(&got, &want);
            assert!(diff < 1e-6, "{shape:?}: {diff}");
        }
    }

    #[test]
    fn nan_spreads_over_its_row_only() {
        let x = Tensor::new(&[[1f32, f32::NAN, 0.5], [0.1, 0.2, 0.3]], &Device::Cpu).expect("x");
        let out = softmax_last_dim(&x)
            .expect("softmax")
            .to_vec2::<f32>()
            .expect("vec");
        assert!(out[0].iter().all(|v| v.is_nan()));
        assert!(out[1].iter().all(|v| v.is_finite()));
    }
}
