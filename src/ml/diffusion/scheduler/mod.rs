//! Noise schedulers with diffusers semantics: `set_timesteps` (the
//! constructors), `scale_model_input`, `step` and `add_noise`. Steps are
//! addressed by their index in the schedule and any randomness is passed in,
//! so a run is a pure function of its inputs.

mod alphas;
mod config;
mod ddim;
mod euler_a;
mod lcm;

use candle_core::Tensor;

pub use config::{PredictionType, SchedulerConfig, TimestepSpacing};
pub use ddim::Ddim;
pub use euler_a::EulerAncestral;
pub use lcm::Lcm;

use super::error::{DiffusionError, Result};

/// Result of one scheduler step.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The sample for the next step.
    pub prev_sample: Tensor,
    /// The model's estimate of the clean sample (LCM: the denoised sample).
    pub pred_original: Tensor,
}

/// The schedulers this engine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SchedulerKind {
    /// Euler ancestral (CAIG's default; stochastic).
    EulerAncestral,
    /// DDIM (deterministic).
    Ddim,
    /// LCM (few steps, for LCM-LoRA / LCM-distilled UNets).
    Lcm,
}

impl SchedulerKind {
    /// The kind a diffusers `_class_name` names, if supported.
    pub fn from_class_name(name: &str) -> Option<Self> {
        match name {
            "EulerAncestralDiscreteScheduler" => Some(Self::EulerAncestral),
            "DDIMScheduler" => Some(Self::Ddim),
            "LCMScheduler" => Some(Self::Lcm),
            _ => None,
        }
    }

    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            Self::EulerAncestral => "Euler a",
            Self::Ddim => "DDIM",
            Self::Lcm => "LCM",
        }
    }
}

/// A scheduler set up for a number of inference steps.
#[derive(Debug, Clone)]
pub enum Scheduler {
    /// Euler ancestral.
    EulerAncestral(EulerAncestral),
    /// DDIM.
    Ddim(Ddim),
    /// LCM.
    Lcm(Lcm),
}

impl Scheduler {
    /// Builds `kind` from a (possibly other scheduler's) config: the beta
    /// schedule and prediction type carry over, as with diffusers'
    /// `from_config`.
    pub fn new(kind: SchedulerKind, config: &SchedulerConfig, steps: usize) -> Result<Self> {
        Ok(match kind {
            SchedulerKind::EulerAncestral => {
                Self::EulerAncestral(EulerAncestral::new(config, steps)?)
            }
            SchedulerKind::Ddim => Self::Ddim(Ddim::new(config, steps)?),
            SchedulerKind::Lcm => Self::Lcm(Lcm::new(config, steps)?),
        })
    }

    /// Builds the scheduler the config's `_class_name` names.
    pub fn from_config(config: &SchedulerConfig, steps: usize) -> Result<Self> {
        let name = config.class_name.as_deref().unwrap_or("");
        let kind =
            SchedulerKind::from_class_name(name).ok_or_else(|| DiffusionError::Unsupported {
                what: "scheduler".into(),
                reason: format!("class {name:?}"),
            })?;
        Self::new(kind, config, steps)
    }

    /// Which scheduler this is.
    pub fn kind(&self) -> SchedulerKind {
        match self {
            Self::EulerAncestral(_) => SchedulerKind::EulerAncestral,
            Self::Ddim(_) => SchedulerKind::Ddim,
            Self::Lcm(_) => SchedulerKind::Lcm,
        }
    }

    /// Number of inference steps.
    pub fn len(&self) -> usize {
        self.timesteps().len()
    }

    /// Whether there are no steps (never true for a built scheduler).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The timesteps given to the UNet, in order.
    pub fn timesteps(&self) -> Vec<f64> {
        match self {
            Self::EulerAncestral(s) => s.timesteps().to_vec(),
            Self::Ddim(s) => s.timesteps().iter().map(|&t| t as f64).collect(),
            Self::Lcm(s) => s.timesteps().iter().map(|&t| t as f64).collect(),
        }
    }

    /// Standard deviation of the initial noise.
    pub fn init_noise_sigma(&self) -> f64 {
        match self {
            Self::EulerAncestral(s) => s.init_noise_sigma(),
            Self::Ddim(_) | Self::Lcm(_) => 1.0,
        }
    }

    /// Scales the sample before it goes into the UNet at step `index`.
    pub fn scale_model_input(&self, sample: &Tensor, index: usize) -> Result<Tensor> {
        match self {
            Self::EulerAncestral(s) => s.scale_model_input(sample, index),
            Self::Ddim(_) | Self::Lcm(_) => {
                check_index(index, self.len())?;
                Ok(sample.clone())
            }
        }
    }

    /// One denoising step at `index`; `noise` (standard normal, the sample's
    /// shape) is required when [`Scheduler::needs_noise`] says so.
    pub fn step(
        &self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: Option<&Tensor>,
    ) -> Result<StepOutput> {
        match self {
            Self::EulerAncestral(s) => s.step(model_output, index, sample, noise),
            Self::Ddim(s) => s.step(model_output, index, sample, noise),
            Self::Lcm(s) => s.step(model_output, index, sample, noise),
        }
    }

    /// Whether step `index` consumes noise.
    pub fn needs_noise(&self, index: usize) -> bool {
        match self {
            Self::EulerAncestral(s) => s.needs_noise(index),
            Self::Ddim(s) => s.eta() > 0.0,
            Self::Lcm(s) => s.needs_noise(index),
        }
    }

    /// Noises a clean sample to the noise level of step `index`.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, index: usize) -> Result<Tensor> {
        match self {
            Self::EulerAncestral(s) => s.add_noise(original, noise, index),
            Self::Ddim(s) => s.add_noise(original, noise, index),
            Self::Lcm(s) => s.add_noise(original, noise, index),
        }
    }
}

/// Errors when `index` is not a step of a schedule of `len` steps.
pub(crate) fn check_index(index: usize, len: usize) -> Result<()> {
    if index >= len {
        return Err(DiffusionError::InvalidInput(format!(
            "step index {index} outside a schedule of {len} steps"
        )));
    }
    Ok(())
}
