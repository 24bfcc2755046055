//! Latent consistency model scheduler (diffusers `LCMScheduler`), for
//! few-step previews with LCM-LoRA or LCM-distilled UNets.

use candle_core::Tensor;

use super::alphas::{predict_original, AlphaSchedule};
use super::config::{check_steps, linspace, SchedulerConfig};
use super::{check_index, StepOutput};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// LCM with a fixed number of inference steps.
#[derive(Debug, Clone)]
pub struct Lcm {
    timesteps: Vec<usize>,
    alphas: AlphaSchedule,
    config: SchedulerConfig,
}

impl Lcm {
    /// The schedule for `steps` inference steps (strength 1).
    pub fn new(config: &SchedulerConfig, steps: usize) -> Result<Self> {
        let n = config.num_train_timesteps;
        let original = config.original_inference_steps;
        check_steps(original, n)?;
        check_steps(steps, original)?;
        let k = n / original;
        // Distillation timesteps, descending: k*original - 1, ..., k - 1.
        let origin: Vec<usize> = (1..=original).rev().map(|i| i * k - 1).collect();
        let timesteps = linspace(0.0, original as f64, steps + 1)
            .into_iter()
            .take(steps)
            .map(|x| origin[(x.floor() as usize).min(original - 1)])
            .collect();
        Ok(Self {
            timesteps,
            alphas: AlphaSchedule::new(config)?,
            config: config.clone(),
        })
    }

    /// Descending integer timesteps.
    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// Consistency-model boundary scalings `(c_skip, c_out)` at timestep `t`.
    pub fn boundary_scalings(&self, t: usize) -> (f64, f64) {
        let sigma_data = 0.5f64;
        let st = t as f64 * self.config.timestep_scaling;
        let c_skip = sigma_data * sigma_data / (st * st + sigma_data * sigma_data);
        let c_out = st / (st * st + sigma_data * sigma_data).sqrt();
        (c_skip, c_out)
    }

    /// One step; `pred_original` is the denoised sample. Every step but the
    /// last needs standard-normal `noise`.
    pub fn step(
        &self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: Option<&Tensor>,
    ) -> Result<StepOutput> {
        check_index(index, self.timesteps.len())?;
        let t = self.timesteps[index];
        let x0 = predict_original(&self.config, model_output, sample, self.alphas.at(t)?)?;
        let (c_skip, c_out) = self.boundary_scalings(t);
        let denoised = ((&x0 * c_out)? + (sample * c_skip)?)?;
        let prev = match self.timesteps.get(index + 1) {
            None => denoised.clone(),
            Some(&prev_t) => {
                let a_prev = self.alphas.previous(Some(prev_t))?;
                let noise = noise.ok_or_else(|| {
                    DiffusionError::InvalidInput("LCM step before the last needs noise".into())
                })?;
                ((&denoised * a_prev.sqrt())? + (noise * (1.0 - a_prev).sqrt())?)?
            }
        };
        Ok(StepOutput {
            prev_sample: prev,
            pred_original: denoised,
        })
    }

    /// `sqrt(a) * x0 + sqrt(1 - a) * noise` at `timesteps[index]`.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, index: usize) -> Result<Tensor> {
        self.alphas
            .add_noise(original, noise, &self.timesteps, index)
    }

    /// Whether `step(.., index, ..)` uses noise.
    pub fn needs_noise(&self, index: usize) -> bool {
        index + 1 < self.timesteps.len()
    }
}
