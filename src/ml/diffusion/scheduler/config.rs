//! `scheduler_config.json` and the noise schedule derived from it.

use std::path::Path;

use serde::Deserialize;

use crate::ml::diffusion::error::{DiffusionError, Result};
use crate::ml::json::read_json;

/// What the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PredictionType {
    /// The added noise (SD 1.x).
    #[default]
    Epsilon,
    /// The velocity (SD 2.x 768).
    VPrediction,
    /// The clean sample.
    Sample,
}

/// How inference timesteps are spread over the training timesteps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestepSpacing {
    /// `k * (N / steps) + offset`, starting at 0.
    #[default]
    Leading,
    /// Evenly from 0 to N - 1.
    Linspace,
    /// Counting down from N - 1.
    Trailing,
}

/// A diffusers scheduler configuration (union of the DDIM, Euler ancestral
/// and LCM fields).
#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerConfig {
    /// The diffusers class the file was written for.
    #[serde(default, rename = "_class_name")]
    pub class_name: Option<String>,
    /// Training timesteps (1000).
    #[serde(default = "thousand")]
    pub num_train_timesteps: usize,
    /// First beta.
    #[serde(default = "beta_start")]
    pub beta_start: f64,
    /// Last beta.
    #[serde(default = "beta_end")]
    pub beta_end: f64,
    /// "linear", "scaled_linear" or "squaredcos_cap_v2".
    #[serde(default = "scaled_linear")]
    pub beta_schedule: String,
    /// Explicit betas, overriding the schedule.
    #[serde(default)]
    pub trained_betas: Option<Vec<f64>>,
    /// What the model predicts.
    #[serde(default)]
    pub prediction_type: PredictionType,
    /// Timestep spacing.
    #[serde(default)]
    pub timestep_spacing: TimestepSpacing,
    /// Offset added to leading timesteps.
    #[serde(default)]
    pub steps_offset: usize,
    /// DDIM/LCM: alpha at "timestep -1" is 1 (else alphas_cumprod[0]).
    #[serde(default = "yes")]
    pub set_alpha_to_one: bool,
    /// DDIM/LCM: clamp the predicted clean sample.
    #[serde(default)]
    pub clip_sample: bool,
    /// Clamp range of `clip_sample`.
    #[serde(default = "one")]
    pub clip_sample_range: f64,
    /// Rescale betas to zero terminal SNR.
    #[serde(default)]
    pub rescale_betas_zero_snr: bool,
    /// Dynamic thresholding (not supported).
    #[serde(default)]
    pub thresholding: bool,
    /// LCM: the distillation schedule's number of steps.
    #[serde(default = "fifty")]
    pub original_inference_steps: usize,
    /// LCM: timestep scaling of the boundary conditions.
    #[serde(default = "ten")]
    pub timestep_scaling: f64,
}

fn thousand() -> usize {
    1000
}
fn beta_start() -> f64 {
    0.00085
}
fn beta_end() -> f64 {
    0.012
}
fn scaled_linear() -> String {
    "scaled_linear".into()
}
fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}
fn fifty() -> usize {
    50
}
fn ten() -> f64 {
    10.0
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            class_name: None,
            num_train_timesteps: thousand(),
            beta_start: beta_start(),
            beta_end: beta_end(),
            beta_schedule: scaled_linear(),
            trained_betas: None,
            prediction_type: PredictionType::Epsilon,
            timestep_spacing: TimestepSpacing::Leading,
            steps_offset: 1,
            set_alpha_to_one: false,
            clip_sample: false,
            clip_sample_range: 1.0,
            rescale_betas_zero_snr: false,
            thresholding: false,
            original_inference_steps: 50,
            timestep_scaling: 10.0,
        }
    }
}

impl SchedulerConfig {
    /// Reads `scheduler_config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(read_json(path)?)
    }

    /// The training betas.
    pub fn betas(&self) -> Result<Vec<f64>> {
        let n = self.num_train_timesteps;
        if let Some(b) = &self.trained_betas {
            return Ok(b.clone());
        }
        let betas = match self.beta_schedule.as_str() {
            "linear" => linspace(self.beta_start, self.beta_end, n),
            "scaled_linear" => linspace(self.beta_start.sqrt(), self.beta_end.sqrt(), n)
                .into_iter()
                .map(|b| b * b)
                .collect(),
            "squaredcos_cap_v2" => {
                let alpha_bar = |t: f64| {
                    ((t + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
                        .cos()
                        .powi(2)
                };
                (0..n)
                    .map(|i| {
                        let t1 = i as f64 / n as f64;
                        let t2 = (i + 1) as f64 / n as f64;
                        (1.0 - alpha_bar(t2) / alpha_bar(t1)).min(0.999)
                    })
                    .collect()
            }
            other => {
                return Err(DiffusionError::Unsupported {
                    what: "scheduler config".into(),
                    reason: format!("beta schedule {other}"),
                })
            }
        };
        Ok(if self.rescale_betas_zero_snr {
            rescale_zero_terminal_snr(&betas)
        } else {
            betas
        })
    }

    /// Cumulative products of `1 - beta`.
    pub fn alphas_cumprod(&self) -> Result<Vec<f64>> {
        if self.thresholding {
            return Err(DiffusionError::Unsupported {
                what: "scheduler config".into(),
                reason: "dynamic thresholding".into(),
            });
        }
        let mut acc = 1.0;
        Ok(self
            .betas()?
            .into_iter()
            .map(|b| {
                acc *= 1.0 - b;
                acc
            })
            .collect())
    }

    /// Integer inference timesteps (descending) for DDIM-style schedulers.
    pub fn discrete_timesteps(&self, steps: usize) -> Result<Vec<usize>> {
        let n = self.num_train_timesteps;
        check_steps(steps, n)?;
        Ok(match self.timestep_spacing {
            TimestepSpacing::Leading => {
                let ratio = n / steps;
                (0..steps)
                    .rev()
                    .map(|i| i * ratio + self.steps_offset)
                    .collect()
            }
            TimestepSpacing::Linspace => linspace(0.0, (n - 1) as f64, steps)
                .into_iter()
                .rev()
                .map(|t| t.round() as usize)
                .collect(),
            TimestepSpacing::Trailing => {
                let ratio = n as f64 / steps as f64;
                (0..steps)
                    .map(|i| ((n as f64 - i as f64 * ratio).round() as usize).saturating_sub(1))
                    .collect()
            }
        })
    }
}

/// Errors unless `1 <= steps <= train`.
pub(crate) fn check_steps(steps: usize, train: usize) -> Result<()> {
    if steps == 0 || steps > train {
        return Err(DiffusionError::InvalidInput(format!(
            "{steps} inference steps: must be between 1 and {train}"
        )));
    }
    Ok(())
}

/// `n` evenly spaced values from `a` to `b` inclusive (numpy `linspace`).
pub(crate) fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![a],
        _ => {
            let step = (b - a) / (n - 1) as f64;
            (0..n)
                .map(|i| if i + 1 == n { b } else { a + step * i as f64 })
                .collect()
        }
    }
}

/// Rescales betas to zero terminal SNR (Lin et al. 2023, as in diffusers).
fn rescale_zero_terminal_snr(betas: &[f64]) -> Vec<f64> {
    let mut acc = 1.0;
    let mut sqrt_ac: Vec<f64> = betas
        .iter()
        .map(|b| {
            acc *= 1.0 - b;
            acc.sqrt()
        })
        .collect();
    let (first, last) = match (sqrt_ac.first(), sqrt_ac.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return betas.to_vec(),
    };
    for v in sqrt_ac.iter_mut() {
        *v = (*v - last) * first / (first - last);
    }
    let ac: Vec<f64> = sqrt_ac.iter().map(|v| v * v).collect();
    let mut out = Vec::with_capacity(ac.len());
    for i in 0..ac.len() {
        let alpha = if i == 0 { ac[0] } else { ac[i] / ac[i - 1] };
        out.push(1.0 - alpha);
    }
    out
}
