//! The cumulative-alpha schedule and the clean-sample estimate that DDIM and
//! LCM share (diffusers' `alphas_cumprod`, `final_alpha_cumprod` and the
//! `prediction_type` / `clip_sample` handling of their `step`).

use candle_core::Tensor;

use super::check_index;
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

    /// `sqrt(a) * x0 + sqrt(1 - a) * noise` at `timesteps[index]`.
    pub fn add_noise(
        &self,
        original: &Tensor,
        noise: &Tensor,
        timesteps: &[usize],
        index: usize,
    ) -> Result<Tensor> {
        check_index(index, timesteps.len())?;
        let a = self.at(timesteps[index])?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> SchedulerConfig {
        serde_json::from_str(json).expect("config")
    }

    #[test]
    fn previous_alpha_falls_back_to_the_final_value() {
        let linear = r#"{"num_train_timesteps": 10, "beta_start": 0.1, "beta_end": 0.2,
            "beta_schedule": "linear", "set_alpha_to_one": true}"#;
        let s = AlphaSchedule::new(&config(linear)).expect("schedule");
        assert!((s.at(0).expect("t0") - 0.9).abs() < 1e-12);
        assert_eq!(s.previous(None).expect("final"), 1.0);
        assert_eq!(s.previous(Some(10)).expect("past the end"), 1.0);
        assert_eq!(s.previous(Some(0)).expect("t0"), s.at(0).expect("t0"));
        assert!(s.at(10).is_err());
        let not_one = linear.replace("true", "false");
        let s = AlphaSchedule::new(&config(&not_one)).expect("schedule");
        assert_eq!(s.previous(None).expect("final"), s.at(0).expect("t0"));
    }

    #[test]
    fn noise_is_added_at_the_step_timestep() {
        let cfg = config(
            r#"{"num_train_timesteps": 10, "beta_start": 0.1, "beta_end": 0.2,
            "beta_schedule": "linear"}"#,
        );
        let s = AlphaSchedule::new(&cfg).expect("schedule");
        let dev = candle_core::Device::Cpu;
        let x0 = Tensor::ones(4, candle_core::DType::F32, &dev).expect("x0");
        let noise = Tensor::zeros(4, candle_core::DType::F32, &dev).expect("noise");
        let out = s.add_noise(&x0, &noise, &[9, 4], 1).expect("noised");
        let want = s.at(4).expect("t4").sqrt() as f32;
        let got = out.to_vec1::<f32>().expect("vec");
        assert!(got.iter().all(|v| (v - want).abs() < 1e-6), "{got:?}");
        assert!(s.add_noise(&x0, &noise, &[9, 4], 2).is_err());
    }
}
