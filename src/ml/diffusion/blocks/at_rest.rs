//! Weights kept at rest in the dtype they were loaded in (f16 for f16
//! checkpoints: half the memory of f32) and widened to the compute dtype
//! when a layer runs. On the CPU the compute dtype is f32 whatever the
//! weights are stored in; on other devices it is the weights' own dtype
//! (f16 on GPUs), where widening is a no-op.
//!
//! Large weights (3x3 convolutions, linear layers) stay at rest; small
//! ones (norms, biases, embeddings, 1x1 convolutions) are loaded straight
//! in the compute dtype through [`compute_vb`].

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Shape, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Embedding, LayerNorm, VarBuilder};
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

/// The dtype layers compute in for weights stored as `rest` on `device`:
/// f32 on the CPU for half-precision weights, else `rest`.
pub fn compute_dtype(rest: DType, device: &Device) -> DType {
    match rest {
        DType::F16 | DType::BF16 if device.is_cpu() => DType::F32,
        other => other,
    }
}

/// `vb` loading in the compute dtype of its weights (for small weights).
pub fn compute_vb<'a>(vb: &VarBuilder<'a>) -> VarBuilder<'a> {
    let dtype = compute_dtype(vb.dtype(), vb.device());
    vb.clone().set_dtype(dtype)
}

/// Elements converted per parallel task.
const WIDEN_TASK: usize = 1 << 16;

/// Half-precision CPU storage to f32 (vectorised conversion, parallel).
struct Widen;

impl CustomOp1 for Widen {
    fn name(&self) -> &'static str {
        "adstudio-widen"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("widen: the weight must be contiguous")
        };
        let mut out = vec![0f32; end - start];
        let chunks = out.par_chunks_mut(WIDEN_TASK);
        match storage {
            CpuStorage::F16(v) => chunks
                .zip(v[start..end].par_chunks(WIDEN_TASK))
                .for_each(|(dst, src)| src.convert_to_f32_slice(dst)),
            CpuStorage::BF16(v) => chunks
                .zip(v[start..end].par_chunks(WIDEN_TASK))
                .for_each(|(dst, src)| src.convert_to_f32_slice(dst)),
            other => candle_core::bail!(
                "widen: expected f16 or bf16, got {:?}",
                candle_core::backend::BackendStorage::dtype(other)
            ),
        }
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// `w` in `dtype`: a no-op when it already is; half precision to f32 on
/// the CPU by a vectorised conversion; otherwise candle's `to_dtype`.
pub fn widen(w: &Tensor, dtype: DType) -> candle_core::Result<Tensor> {
    if w.dtype() == dtype {
        return Ok(w.clone());
    }
    let half = matches!(w.dtype(), DType::F16 | DType::BF16);
    let fast = super::kernels::Kernels::current() == super::kernels::Kernels::Fast;
    if half && dtype == DType::F32 && w.device().is_cpu() && fast {
        w.contiguous()?.apply_op1_no_bwd(&Widen)
    } else {
        w.to_dtype(dtype)
    }
}

/// A linear layer `x W^T + b` whose weight stays at rest and is widened to
/// the input's dtype for each call (the bias is kept in the compute dtype).
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// From a weight `(out, in)` at rest and an optional bias `(out,)`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> candle_core::Result<Self> {
        let dtype = compute_dtype(weight.dtype(), weight.device());
        let bias = bias.map(|b| b.to_dtype(dtype)).transpose()?;
        Ok(Self { weight, bias })
    }

    /// The weight as stored.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        if !super::kernels::bf16_operands() {
            let w = widen(&self.weight, xs.dtype())?;
            return candle_nn::Linear::new(w, self.bias.clone()).forward(xs);
        }
        // bf16 products: `x W^T + b` over the rows of every batch item (f16
        // weights read as they are and the bias added as the sums are
        // stored, where the native kernel runs).
        let w = super::bf16::weight_operand(&self.weight, xs.dtype())?;
        let dims = xs.dims().to_vec();
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let k = dims[dims.len() - 1];
        let x = xs.reshape((rows, k))?;
        let out = super::bf16::product_bias(&x, &w.t()?, self.bias.as_ref())?;
        let mut shape = dims;
        if let Some(last) = shape.last_mut() {
            *last = out.dim(1)?;
        }
        out.reshape(shape)
    }
}

/// `candle_nn::linear` with the weight kept at rest.
pub fn linear(in_dim: usize, out_dim: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    let weight = vb.get((out_dim, in_dim), "weight")?;
    let bias = compute_vb(&vb).get(out_dim, "bias")?;
    Linear::new(weight, Some(bias))
}

/// `candle_nn::linear_no_bias` with the weight kept at rest.
pub fn linear_no_bias(
    in_dim: usize,
    out_dim: usize,
    vb: VarBuilder,
) -> candle_core::Result<Linear> {
    Linear::new(vb.get((out_dim, in_dim), "weight")?, None)
}

/// `candle_nn::conv2d` in the compute dtype (for 1x1 convolutions).
pub fn conv2d(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    cfg: Conv2dConfig,
    vb: VarBuilder,
) -> candle_core::Result<Conv2d> {
    candle_nn::conv2d(in_channels, out_channels, kernel, cfg, compute_vb(&vb))
}

/// A 1x1 convolution made by [`conv2d`] applied to `xs`: candle's
/// `conv2d`, or, under bf16 products ([`super::bf16`]), one product `W (out, in)` by `x (b, in, h w)` per
/// batch item plus the bias (the native kernel where the CPU has it).
pub fn pointwise(conv: &Conv2d, xs: &Tensor) -> candle_core::Result<Tensor> {
    if !super::kernels::bf16_operands() {
        return conv.forward(xs);
    }
    let (b, i, h, w) = xs.dims4()?;
    let o = conv.weight().dim(0)?;
    let weight = conv.weight().reshape((o, i))?.broadcast_left(b)?;
    let out = super::bf16::product(&weight, &xs.reshape((b, i, h * w))?)?;
    let out = match conv.bias() {
        Some(bias) => out.broadcast_add(&bias.reshape((1, o, 1))?)?,
        None => out,
    };
    out.reshape((b, o, h, w))
}

/// `candle_nn::layer_norm` in the compute dtype.
pub fn layer_norm(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    candle_nn::layer_norm(size, eps, compute_vb(&vb))
}

/// `candle_nn::embedding` in the compute dtype.
pub fn embedding(n: usize, dim: usize, vb: VarBuilder) -> candle_core::Result<Embedding> {
    candle_nn::embedding(n, dim, compute_vb(&vb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_is_exact_and_linear_matches_f32() {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (5, 70_000), &dev).expect("w");
        let w16 = w.to_dtype(DType::F16).expect("f16");
        let exact = w16.to_dtype(DType::F32).expect("candle widen");
        for rest in [w16.clone(), w.to_dtype(DType::BF16).expect("bf16")] {
            let ours = widen(&rest, DType::F32).expect("widen");
            let reference = rest.to_dtype(DType::F32).expect("reference");
            let diff = (ours - reference).expect("d").abs().expect("a");
            let max = diff.max_all().expect("m").to_scalar::<f32>().expect("s");
            assert_eq!(max, 0.0);
        }
        let x = Tensor::randn(0f32, 1.0, (3, 70_000), &dev).expect("x");
        let bias = Tensor::randn(0f32, 1.0, 5, &dev).expect("b");
        let at_rest = Linear::new(w16, Some(bias.clone())).expect("linear");
        assert_eq!(at_rest.weight().dtype(), DType::F16);
        let got = at_rest.forward(&x).expect("forward");
        let want = candle_nn::Linear::new(exact, Some(bias))
            .forward(&x)
            .expect("reference");
        let diff = (got - want).expect("d").abs().expect("a");
        let max = diff.max_all().expect("m").to_scalar::<f32>().expect("s");
        assert_eq!(max, 0.0);
        assert_eq!(compute_dtype(DType::F16, &dev), DType::F32);
        assert_eq!(compute_dtype(DType::F64, &dev), DType::F64);
    }

    use crate::ml::diffusion::blocks::kernels::{scope, Kernels};
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;

    /// Under bf16 products a 1x1 convolution is one product per item: within
    /// bf16 rounding of candle's conv2d, and off it by more than zero on a
    /// CPU with AVX512-BF16 (emulated elsewhere: still rounded). Without
    /// bf16 it is candle's conv2d exactly.
    #[test]
    fn pointwise_convolutions_match_conv2d() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(23);
        let dev = Device::Cpu;
        let (b, i, o, h, w) = (2, 48, 40, 5, 7);
        let weight = rng.tensor((o, i, 1, 1), &dev).expect("w");
        let bias = rng.tensor(o, &dev).expect("b");
        let conv = Conv2d::new(weight, Some(bias), Default::default());
        let x = rng.tensor((b, i, h, w), &dev).expect("x");
        let want = conv.forward(&x).expect("conv2d");
        assert_eq!(
            max_abs_diff(&pointwise(&conv, &x).expect("f32"), &want),
            0.0
        );
        let got = scope(Kernels::Fast, true, || pointwise(&conv, &x)).expect("bf16");
        assert_eq!(got.dims(), want.dims());
        let scale = want.abs().expect("a").max_all().expect("m");
        let relative = max_abs_diff(&got, &want) / scale.to_scalar::<f32>().expect("s");
        assert!(relative > 0.0 && relative < 1e-2, "{relative:e}");
    }
}
