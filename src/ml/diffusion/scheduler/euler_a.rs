//! Euler ancestral (diffusers `EulerAncestralDiscreteScheduler`); the step
//! takes its noise as an argument so runs are reproducible.

use candle_core::Tensor;

use super::config::{check_steps, linspace, PredictionType, SchedulerConfig, TimestepSpacing};
use super::{check_index, StepOutput};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// Euler ancestral with a fixed number of inference steps.
#[derive(Debug, Clone)]
pub struct EulerAncestral {
    timesteps: Vec<f64>,
    sigmas: Vec<f64>,
    init_noise_sigma: f64,
    prediction_type: PredictionType,
}

impl EulerAncestral {
    /// The schedule for `steps` inference steps (`set_timesteps`).
    pub fn new(config: &SchedulerConfig, steps: usize) -> Result<Self> {
        let n = config.num_train_timesteps;
        check_steps(steps, n)?;
        let ac = config.alphas_cumprod()?;
        let train_sigmas: Vec<f64> = ac.iter().map(|a| ((1.0 - a) / a).sqrt()).collect();
        let timesteps: Vec<f64> = match config.timestep_spacing {
            TimestepSpacing::Linspace => linspace(0.0, (n - 1) as f64, steps)
                .into_iter()
                .rev()
                .collect(),
            TimestepSpacing::Leading => {
                let ratio = n / steps;
                (0..steps)
                    .rev()
                    .map(|i| (i * ratio + config.steps_offset) as f64)
                    .collect()
            }
            TimestepSpacing::Trailing => {
                let ratio = n as f64 / steps as f64;
                (0..steps)
                    .map(|i| (n as f64 - i as f64 * ratio).round() - 1.0)
                    .collect()
            }
        };
        let mut sigmas: Vec<f64> = timesteps
            .iter()
            .map(|&t| interp(t, &train_sigmas))
            .collect();
        sigmas.push(0.0);
        let max = sigmas.iter().copied().fold(0.0, f64::max);
        let init_noise_sigma = match config.timestep_spacing {
            TimestepSpacing::Linspace | TimestepSpacing::Trailing => max,
            TimestepSpacing::Leading => (max * max + 1.0).sqrt(),
        };
        Ok(Self {
            timesteps,
            sigmas,
            init_noise_sigma,
            prediction_type: config.prediction_type,
        })
    }

    /// Descending (fractional) timesteps given to the UNet.
    pub fn timesteps(&self) -> &[f64] {
        &self.timesteps
    }

    /// Sigmas, one per step plus a final 0.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    /// Standard deviation of the initial noise.
    pub fn init_noise_sigma(&self) -> f64 {
        self.init_noise_sigma
    }

    /// `sample / sqrt(sigma^2 + 1)`.
    pub fn scale_model_input(&self, sample: &Tensor, index: usize) -> Result<Tensor> {
        check_index(index, self.timesteps.len())?;
        let s = self.sigmas[index];
        Ok((sample / (s * s + 1.0).sqrt())?)
    }

    /// One ancestral step from `sigmas[index]` to `sigmas[index + 1]`;
    /// `noise` is standard normal with the sample's shape.
    pub fn step(
        &self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: Option<&Tensor>,
    ) -> Result<StepOutput> {
        check_index(index, self.timesteps.len())?;
        let sigma = self.sigmas[index];
        let x0 = match self.prediction_type {
            PredictionType::Epsilon => (sample - (model_output * sigma)?)?,
            PredictionType::VPrediction => {
                let s2 = sigma * sigma + 1.0;
                ((model_output * (-sigma / s2.sqrt()))? + (sample / s2)?)?
            }
            PredictionType::Sample => model_output.clone(),
        };
        let from = sigma;
        let to = self.sigmas[index + 1];
        let up = (to * to * (from * from - to * to) / (from * from))
            .max(0.0)
            .sqrt();
        let down = (to * to - up * up).max(0.0).sqrt();
        let derivative = ((sample - &x0)? / sigma)?;
        let prev = (sample + (derivative * (down - sigma))?)?;
        let prev = if up > 0.0 {
            let noise = noise.ok_or_else(|| {
                DiffusionError::InvalidInput("Euler ancestral step needs noise".into())
            })?;
            (prev + (noise * up)?)?
        } else {
            prev
        };
        Ok(StepOutput {
            prev_sample: prev,
            pred_original: x0,
        })
    }

    /// `x0 + sigma * noise` at `sigmas[index]`.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, index: usize) -> Result<Tensor> {
        check_index(index, self.timesteps.len())?;
        Ok((original + (noise * self.sigmas[index])?)?)
    }

    /// Whether `step(.., index, ..)` uses noise.
    pub fn needs_noise(&self, index: usize) -> bool {
        self.sigmas.get(index + 1).is_some_and(|s| *s > 0.0)
    }
}

/// Linear interpolation of `table` (indexed 0..len) at `x` (numpy `interp`).
fn interp(x: f64, table: &[f64]) -> f64 {
    let last = table.len().saturating_sub(1);
    if x <= 0.0 {
        return table.first().copied().unwrap_or(0.0);
    }
    if x >= last as f64 {
        return table.get(last).copied().unwrap_or(0.0);
    }
    let i = x.floor() as usize;
    let f = x - i as f64;
    table[i] * (1.0 - f) + table[i + 1] * f
}
