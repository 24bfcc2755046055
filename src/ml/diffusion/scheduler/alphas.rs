//! The cumulative-alpha schedule and the clean-sample estimate that DDIM and
//! LCM share (diffusers' `alphas_cumprod`, `final_alpha_cumprod` and the
//! `prediction_type` / `clip_sample` handling of their `step`).

use candle_core::Tensor;

use super::config::{PredictionType, SchedulerConfig};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// `alphas_cumprod` over the training timesteps, and the value used past
/// the first one (1 with `set_alpha_to_one`, else `alphas_cumprod[0]`).
#[derive(Debug, Clone)]
pub(super) struct AlphaSchedule {
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
}

impl AlphaSchedule {
    /// The schedule of `config`'s betas.
    pub fn new(config: &SchedulerConfig) -> Result<Self> {
        let alphas_cumprod = config.alphas_cumprod()?;
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Ok(Self {
            alphas_cumprod,
            final_alpha_cumprod,
        })
    }

    /// Cumulative alpha at training timestep `t`.
    pub fn at(&self, t: usize) -> Result<f64> {
        self.alphas_cumprod.get(t).copied().ok_or_else(|| {
            DiffusionError::InvalidInput(format!(
                "timestep {t} outside the {} training timesteps",
                self.alphas_cumprod.len()
            ))
        })
    }

    /// Cumulative alpha at the previous timestep: `t` when it is a training
    /// timestep, else (before the first one) the final value.
    pub fn previous(&self, t: Option<usize>) -> Result<f64> {
        match t {
            Some(t) if t < self.alphas_cumprod.len() => self.at(t),
            _ => Ok(self.final_alpha_cumprod),
        }
    }

    /// `sqrt(a) * x0 + sqrt(1 - a) * noise` at training timestep `t`.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, t: usize) -> Result<Tensor> {
        let a = self.at(t)?;
        Ok(((original * a.sqrt())? + (noise * (1.0 - a).sqrt())?)?)
    }
}

/// The model's estimate of the clean sample at cumulative alpha `a_t`,
/// clipped to `clip_sample_range` when the config asks.
pub(super) fn predict_original(
    config: &SchedulerConfig,
    model_output: &Tensor,
    sample: &Tensor,
    a_t: f64,
) -> Result<Tensor> {
    let b_t = 1.0 - a_t;
    let x0 = match config.prediction_type {
        PredictionType::Epsilon => ((sample - (model_output * b_t.sqrt())?)? / a_t.sqrt())?,
        PredictionType::Sample => model_output.clone(),
        PredictionType::VPrediction => ((sample * a_t.sqrt())? - (model_output * b_t.sqrt())?)?,
    };
    if config.clip_sample {
        let r = config.clip_sample_range;
        Ok(x0.clamp(-r, r)?)
    } else {
        Ok(x0)
    }
}
