//! GroupNorm (optionally fused with the SiLU that follows it in every
//! resnet) and SiLU as single-pass CPU kernels for contiguous f32 tensors,
//! parallel over (batch, group). candle 0.11's GroupNorm is about ten
//! element-wise passes on one thread and its SiLU a scalar `exp` on one
//! thread; other dtypes and devices fall back to those generic forms.

use super::cpu_input::contiguous_f32;
use candle_core::{CpuStorage, CustomOp1, CustomOp3, DType, Layout, Shape, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::fast_exp;

/// Elements summed in f32 before the partial sum is added to an f64 total.
const SUM_BLOCK: usize = 1024;
/// Elements per parallel task of the element-wise SiLU.
const SILU_TASK: usize = 1 << 15;

/// diffusers `GroupNorm` with affine weight and bias over `(b, c, ...)`.
#[derive(Debug, Clone)]
pub struct GroupNorm {
    weight: Tensor,
    bias: Tensor,
    groups: usize,
    eps: f64,
    generic: candle_nn::GroupNorm,
}

/// Loads `weight` and `bias` (`channels` each) under `vb`, like
/// `candle_nn::group_norm`.
pub fn group_norm(
    groups: usize,
    channels: usize,
    eps: f64,
    vb: VarBuilder,
) -> candle_core::Result<GroupNorm> {
    let vb = super::at_rest::compute_vb(&vb);
    let weight = vb.get_with_hints(channels, "weight", candle_nn::Init::Const(1.))?;
    let bias = vb.get_with_hints(channels, "bias", candle_nn::Init::Const(0.))?;
    GroupNorm::new(weight, bias, groups, eps)
}

impl GroupNorm {
    /// `weight` and `bias` are `(channels,)`; `groups` must divide `channels`.
    pub fn new(weight: Tensor, bias: Tensor, groups: usize, eps: f64) -> candle_core::Result<Self> {
        let channels = weight.dim(0)?;
        let generic =
            candle_nn::GroupNorm::new(weight.clone(), bias.clone(), channels, groups, eps)?;
        Ok(Self {
            weight,
            bias,
            groups,
            eps,
            generic,
        })
    }

    fn fast_path(&self, xs: &Tensor) -> bool {
        super::kernels::fast_cpu(xs)
            && self.weight.dtype() == DType::F32
            && self.bias.dtype() == DType::F32
            && xs.rank() >= 3
    }

    fn apply(&self, xs: &Tensor, silu: bool) -> candle_core::Result<Tensor> {
        let op = GroupNormOp {
            groups: self.groups,
            eps: self.eps,
            silu,
        };
        xs.contiguous()?
            .apply_op3_no_bwd(&self.weight, &self.bias, &op)
    }

    /// Normalises `xs` `(b, c, ...)`.
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        if self.fast_path(xs) {
            self.apply(xs, false)
        } else {
            candle_core::Module::forward(&self.generic, xs)
        }
    }

    /// `silu(norm(xs))` in the same pass.
    pub fn forward_silu(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        if self.fast_path(xs) {
            self.apply(xs, true)
        } else {
            candle_core::Module::forward(&self.generic, xs)?.silu()
        }
    }
}

impl candle_core::Module for GroupNorm {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        GroupNorm::forward(self, xs)
    }
}

/// The CPU kernel: x, weight, bias.
struct GroupNormOp {
    groups: usize,
    eps: f64,
    silu: bool,
}

/// Sum of `f(x)` over `xs`, in f32 blocks added up in f64.
fn blocked_sum(xs: &[f32], f: impl Fn(f32) -> f32 + Copy) -> f64 {
    xs.chunks(SUM_BLOCK)
        .map(|block| {
            let mut lanes = [0f32; 8];
            let mut chunks = block.chunks_exact(8);
            for c in &mut chunks {
                for (lane, &x) in lanes.iter_mut().zip(c) {
                    *lane += f(x);
                }
            }
            let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
            f64::from(lanes.iter().sum::<f32>() + tail)
        })
        .sum()
}

impl CustomOp3 for GroupNormOp {
    fn name(&self) -> &'static str {
        "adstudio-group-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(s1, l1, "group norm: input")?;
        let weight = contiguous_f32(s2, l2, "group norm: weight")?;
        let bias = contiguous_f32(s3, l3, "group norm: bias")?;
        let dims = l1.shape().dims();
        let (b, c) = (dims[0], dims[1]);
        let spatial: usize = dims[2..].iter().product();
        if self.groups == 0 || !c.is_multiple_of(self.groups) {
            candle_core::bail!(
                "group norm: {} groups do not divide {c} channels",
                self.groups
            )
        }
        if weight.len() != c || bias.len() != c {
            candle_core::bail!(
                "group norm: weight/bias of {}/{} for {c} channels",
                weight.len(),
                bias.len()
            )
        }
        let per_group = c / self.groups;
        let group_len = per_group * spatial;
        let mut dst = vec![0f32; b * c * spatial];
        if group_len == 0 {
            return Ok((CpuStorage::F32(dst), l1.shape().clone()));
        }
        dst.par_chunks_mut(group_len)
            .zip(xs.par_chunks(group_len))
            .enumerate()
            .for_each(|(index, (out, src))| {
                let n = group_len as f64;
                let mean = blocked_sum(src, |x| x) / n;
                let mean32 = mean as f32;
                let var = blocked_sum(src, |x| (x - mean32) * (x - mean32)) / n;
                let rstd = (1.0 / (var + self.eps).sqrt()) as f32;
                let first_channel = (index % self.groups) * per_group;
                for (ch, (o, s)) in out.chunks_mut(spatial).zip(src.chunks(spatial)).enumerate() {
                    let scale = rstd * weight[first_channel + ch];
                    let shift = bias[first_channel + ch];
                    if self.silu {
                        for (o, &x) in o.iter_mut().zip(s) {
                            *o = fast_exp::silu((x - mean32) * scale + shift);
                        }
                    } else {
                        for (o, &x) in o.iter_mut().zip(s) {
                            *o = (x - mean32) * scale + shift;
                        }
                    }
                }
            });
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// `x * sigmoid(x)`; parallel and vectorised for f32 on the CPU.
pub fn silu(xs: &Tensor) -> candle_core::Result<Tensor> {
    if super::kernels::fast_cpu(xs) {
        xs.contiguous()?.apply_op1_no_bwd(&SiluOp)
    } else {
        xs.silu()
    }
}

struct SiluOp;

impl CustomOp1 for SiluOp {
    fn name(&self) -> &'static str {
        "adstudio-silu"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(storage, layout, "group norm: silu input")?;
        let mut dst = vec![0f32; xs.len()];
        dst.par_chunks_mut(SILU_TASK)
            .zip(xs.par_chunks(SILU_TASK))
            .for_each(|(out, src)| {
                for (o, &x) in out.iter_mut().zip(src) {
                    *o = fast_exp::silu(x);
                }
            });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::{Device, Module as _};

    fn random(shape: &[usize], seed: u64, offset: f32) -> Tensor {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(seed);
        (rng.tensor(shape, &Device::Cpu).expect("tensor") + f64::from(offset)).expect("offset")
    }

    #[test]
    fn group_norm_matches_candle_with_and_without_silu() {
        // Odd spatial sizes, 3-D and 4-D inputs, a non-zero mean.
        for (shape, groups) in [
            (vec![2usize, 12, 7, 5], 4usize),
            (vec![1, 6, 33], 3),
            (vec![3, 8, 1, 1], 8),
            (vec![2, 64, 17, 19], 32),
        ] {
            let c = shape[1];
            let x = random(&shape, 7, 3.0);
            let weight = random(&[c], 8, 1.0);
            let bias = random(&[c], 9, 0.0);
            let ours = GroupNorm::new(weight.clone(), bias.clone(), groups, 1e-5).expect("ours");
            let reference =
                candle_nn::GroupNorm::new(weight, bias, c, groups, 1e-5).expect("reference");
            let want = reference.forward(&x).expect("reference forward");
            let got = ours.forward(&x).expect("forward");
            assert!(max_abs_diff(&got, &want) < 1e-5, "{shape:?}");
            let want_silu = want.silu().expect("silu");
            let got_silu = ours.forward_silu(&x).expect("forward_silu");
            assert!(max_abs_diff(&got_silu, &want_silu) < 1e-5, "{shape:?}");
        }
    }

    #[test]
    fn group_norm_accepts_strided_input_and_rejects_bad_groups() {
        // (2, 5, 3, 8) -> (2, 8, 3, 5): 8 channels, not contiguous.
        let x = random(&[2, 5, 3, 8], 3, 0.0).transpose(1, 3).expect("t");
        let weight = random(&[8], 4, 1.0);
        let bias = random(&[8], 5, 0.0);
        let ours = GroupNorm::new(weight.clone(), bias.clone(), 4, 1e-6).expect("ours");
        let reference = candle_nn::GroupNorm::new(weight, bias, 8, 4, 1e-6).expect("reference");
        let want = reference.forward(&x).expect("reference");
        assert!(max_abs_diff(&ours.forward(&x).expect("forward"), &want) < 1e-5);
        let bad = GroupNorm::new(random(&[6], 1, 0.0), random(&[6], 2, 0.0), 4, 1e-5);
        assert!(bad.is_err());
    }

    #[test]
    fn silu_matches_candle_and_keeps_nan() {
        let x = (random(&[3, 1001], 11, 0.0) * 6.0).expect("scale");
        let want = x.silu().expect("candle silu");
        let got = silu(&x).expect("silu");
        assert!(max_abs_diff(&got, &want) < 1e-5);
        let nan = Tensor::new(&[f32::NAN, 1.0], &Device::Cpu).expect("nan");
        let out = silu(&nan).expect("silu").to_vec1::<f32>().expect("vec");
        assert!(out[0].is_nan());
    }
}
