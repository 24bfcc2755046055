//! DDIM (diffusers `DDIMScheduler`), deterministic for `eta = 0`.

use candle_core::Tensor;

use super::alphas::{predict_original, AlphaSchedule};
use super::config::{PredictionType, SchedulerConfig};
use super::{check_index, StepOutput};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// DDIM with a fixed number of inference steps.
#[derive(Debug, Clone)]
pub struct Ddim {
    timesteps: Vec<usize>,
    alphas: AlphaSchedule,
    step_ratio: usize,
    eta: f64,
    config: SchedulerConfig,
}

impl Ddim {
    /// The schedule for `steps` inference steps (`set_timesteps`).
    pub fn new(config: &SchedulerConfig, steps: usize) -> Result<Self> {
        Ok(Self {
            timesteps: config.discrete_timesteps(steps)?,
            alphas: AlphaSchedule::new(config)?,
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
        self.alphas.at(t)
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
        let a_prev = self.alphas.previous(t.checked_sub(self.step_ratio))?;
        let b_t = 1.0 - a_t;
        let eps = match self.config.prediction_type {
            PredictionType::Epsilon => model_output.clone(),
            PredictionType::Sample => ((sample - (model_output * a_t.sqrt())?)? / b_t.sqrt())?,
            PredictionType::VPrediction => ((model_output * a_t.sqrt())? + (sample * b_t.sqrt())?)?,
        };
        let x0 = predict_original(&self.config, model_output, sample, a_t)?;
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
        self.alphas
            .add_noise(original, noise, &self.timesteps, index)
    }
}
