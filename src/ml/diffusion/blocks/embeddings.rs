//! Sinusoidal timestep features and the timestep MLP.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use super::at_rest::{linear, linear_no_bias, Linear};

/// Sinusoidal features of timesteps `(b,)` -> `(b, dim)` (diffusers
/// `get_timestep_embedding`, computed in f32).
pub fn timestep_features(
    timesteps: &Tensor,
    dim: usize,
    flip_sin_to_cos: bool,
    freq_shift: f64,
) -> candle_core::Result<Tensor> {
    let half = dim / 2;
    let device = timesteps.device();
    let exponent = (Tensor::arange(0u32, half as u32, device)?.to_dtype(DType::F32)?
        * (-(10000f64.ln()) / (half as f64 - freq_shift)))?;
    let freqs = exponent.exp()?;
    let args = timesteps
        .to_dtype(DType::F32)?
        .unsqueeze(1)?
        .broadcast_mul(&freqs.unsqueeze(0)?)?;
    let (sin, cos) = (args.sin()?, args.cos()?);
    let emb = if flip_sin_to_cos {
        Tensor::cat(&[&cos, &sin], 1)?
    } else {
        Tensor::cat(&[&sin, &cos], 1)?
    };
    if dim % 2 == 1 {
        emb.pad_with_zeros(1, 0, 1)
    } else {
        Ok(emb)
    }
}

/// `TimestepEmbedding`: linear, SiLU, linear; with `cond_proj` (LCM-distilled
/// UNets) a guidance embedding is projected and added to the input first.
#[derive(Debug)]
pub struct TimestepEmbedding {
    linear_1: Linear,
    linear_2: Linear,
    cond_proj: Option<Linear>,
}

impl TimestepEmbedding {
    /// `vb` points at `time_embedding`.
    pub fn new(
        in_dim: usize,
        out_dim: usize,
        cond_proj_dim: Option<usize>,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            linear_1: linear(in_dim, out_dim, vb.pp("linear_1"))?,
            linear_2: linear(out_dim, out_dim, vb.pp("linear_2"))?,
            cond_proj: cond_proj_dim
                .map(|c| linear_no_bias(c, in_dim, vb.pp("cond_proj")))
                .transpose()?,
        })
    }

    /// Embeds timestep features, with an optional condition `(b, cond_proj_dim)`.
    pub fn forward(
        &self,
        features: &Tensor,
        condition: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let xs = match (&self.cond_proj, condition) {
            (Some(p), Some(c)) => (features + p.forward(c)?)?,
            _ => features.clone(),
        };
        let xs = super::norm::silu(&self.linear_1.forward(&xs)?)?;
        self.linear_2.forward(&xs)
    }
}

/// Guidance-scale embedding of LCM-distilled UNets (`w` -> `(b, dim)`).
pub fn guidance_embedding(w: &Tensor, dim: usize) -> candle_core::Result<Tensor> {
    let w = (w.to_dtype(DType::F32)? * 1000.0)?;
    let half = dim / 2;
    let device = w.device();
    let freqs = (Tensor::arange(0u32, half as u32, device)?.to_dtype(DType::F32)?
        * (-(10000f64.ln()) / (half as f64 - 1.0)))?
        .exp()?;
    let args = w.unsqueeze(1)?.broadcast_mul(&freqs.unsqueeze(0)?)?;
    let emb = Tensor::cat(&[&args.sin()?, &args.cos()?], 1)?;
    if dim % 2 == 1 {
        emb.pad_with_zeros(1, 0, 1)
    } else {
        Ok(emb)
    }
}

impl Module for TimestepEmbedding {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        TimestepEmbedding::forward(self, xs, None)
    }
}
