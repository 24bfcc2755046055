//! DDIM (diffusers `DDIMScheduler`), deterministic for `eta = 0`.

use candle_core::Tensor;

use super::config::{PredictionType, SchedulerConfig};
use super::{check_index, StepOutput};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// DDIM with a fixed number of inference steps.
#[derive(Debug, Clone)]
pub struct Ddim {
    timesteps: Vec<usize>,
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
    step_ratio: usize,
    eta: f64,
    config: SchedulerConfig,
}

impl Ddim {
    /// The schedule for `steps` inference steps (`set_timesteps`).
    pub fn new(config: &SchedulerConfig, steps: usize) -> Result<Self> {
        let alphas_cumprod = config.alphas_cumprod()?;
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Ok(Self {
            timesteps: config.discrete_timesteps(steps)?,
            alphas_cumprod,
            final_alpha_cumprod,
            step_ratio: config.num_train_timesteps / steps,
            eta: 0.0,
            config: config.clone(),
        })
    }

    /// Sets the stochasticity (0 = DDIM, 1 = DDPM-like); `eta > 0` needs noise.
    pub fn with_eta(mut self, eta: f64) -> Self {
        self.eta = eta;
        self
    }

    /// The stochasticity.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// Descending integer timesteps.
    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// Cumulative alpha at a training timestep.
    pub fn alpha_cumprod(&self, t: usize) -> Result<f64> {
        self.alphas_cumprod.get(t).copied().ok_or_else(|| {
            DiffusionError::InvalidInput(format!(
                "timestep {t} outside the {} training timesteps",
                self.alphas_cumprod.len()
            ))
        })
    }

    /// One denoising step from `timesteps[index]`.
    pub fn step(
        &self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: Option<&Tensor>,
    ) -> Result<StepOutput> {
        check_index(index, self.timesteps.len())?;
        let t = self.timesteps[index];
        let a_t = self.alpha_cumprod(t)?;
        let a_prev = match t.checked_sub(self.step_ratio) {
            Some(p) => self.alpha_cumprod(p)?,
            None => self.final_alpha_cumprod,
        };
        let b_t = 1.0 - a_t;
        let (x0, eps) = match self.config.prediction_type {
            PredictionType::Epsilon => (
                ((sample - (model_output * b_t.sqrt())?)? / a_t.sqrt())?,
                model_output.clone(),
            ),
            PredictionType::Sample => (
                model_output.clone(),
                ((sample - (model_output * a_t.sqrt())?)? / b_t.sqrt())?,
            ),
            PredictionType::VPrediction => (
                ((sample * a_t.sqrt())? - (model_output * b_t.sqrt())?)?,
                ((model_output * a_t.sqrt())? + (sample * b_t.sqrt())?)?,
            ),
        };
        let x0 = if self.config.clip_sample {
            let r = self.config.clip_sample_range;
            x0.clamp(-r, r)?
        } else {
            x0
        };
        let variance = (1.0 - a_prev) / b_t * (1.0 - a_t / a_prev);
        let std = self.eta * variance.max(0.0).sqrt();
        let direction = (&eps * (1.0 - a_prev - std * std).max(0.0).sqrt())?;
        let mut prev = ((&x0 * a_prev.sqrt())? + direction)?;
        if std > 0.0 {
            let noise = noise.ok_or_else(|| {
                DiffusionError::InvalidInput("DDIM with eta > 0 needs noise".into())
            })?;
            prev = (prev + (noise * std)?)?;
        }
        Ok(StepOutput {
            prev_sample: prev,
            pred_original: x0,
        })
    }

    /// `sqrt(a) * x0 + sqrt(1 - a) * noise` at `timesteps[index]`.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, index: usize) -> Result<Tensor> {
        check_index(index, self.timesteps.len())?;
        let a = self.alpha_cumprod(self.timesteps[index])?;
        Ok(((original * a.sqrt())? + (noise * (1.0 - a).sqrt())?)?)
    }
}
