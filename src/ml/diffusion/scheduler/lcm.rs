//! Latent consistency model scheduler (diffusers `LCMScheduler`), for
//! few-step previews with LCM-LoRA or LCM-distilled UNets.

use candle_core::Tensor;

use super::config::{check_steps, linspace, PredictionType, SchedulerConfig};
use super::{check_index, StepOutput};
use crate::ml::diffusion::error::{DiffusionError, Result};

/// LCM with a fixed number of inference steps.
#[derive(Debug, Clone)]
pub struct Lcm {
    timesteps: Vec<usize>,
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
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
        let alphas_cumprod = config.alphas_cumprod()?;
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Ok(Self {
            timesteps,
            alphas_cumprod,
            final_alpha_cumprod,
            config: config.clone(),
        })
    }

    /// Descending integer timesteps.
    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    fn alpha(&self, t: usize) -> Result<f64> {
        self.alphas_cumprod.get(t).copied().ok_or_else(|| {
            DiffusionError::InvalidInput(format!("timestep {t} outside the training range"))
        })
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
        let a_t = self.alpha(t)?;
        let b_t = 1.0 - a_t;
        let x0 = match self.config.prediction_type {
            PredictionType::Epsilon => ((sample - (model_output * b_t.sqrt())?)? / a_t.sqrt())?,
            PredictionType::Sample => model_output.clone(),
            PredictionType::VPrediction => ((sample * a_t.sqrt())? - (model_output * b_t.sqrt())?)?,
        };
        let x0 = if self.config.clip_sample {
            let r = self.config.clip_sample_range;
            x0.clamp(-r, r)?
        } else {
            x0
        };
        let (c_skip, c_out) = self.boundary_scalings(t);
        let denoised = ((&x0 * c_out)? + (sample * c_skip)?)?;
        let prev = match self.timesteps.get(index + 1) {
            None => denoised.clone(),
            Some(&prev_t) => {
                let a_prev = if prev_t < self.alphas_cumprod.len() {
                    self.alpha(prev_t)?
                } else {
                    self.final_alpha_cumprod
                };
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
        check_index(index, self.timesteps.len())?;
        let a = self.alpha(self.timesteps[index])?;
        Ok(((original * a.sqrt())? + (noise * (1.0 - a).sqrt())?)?)
    }

    /// Whether `step(.., index, ..)` uses noise.
    pub fn needs_noise(&self, index: usize) -> bool {
        index + 1 < self.timesteps.len()
    }
}
