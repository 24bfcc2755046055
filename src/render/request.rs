//! What a render asks for.

use serde::{Deserialize, Serialize};

use super::error::RenderError;
use crate::ml::diffusion::SchedulerKind;
use crate::product::CanvasSettings;

/// Names of the models a render used (recorded in the PNG and the store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIds {
    /// The Stable Diffusion checkpoint (folder name or file name).
    pub checkpoint: String,
    /// The ControlNet, if one was used.
    pub controlnet: Option<String>,
}

/// Every parameter of a batch of renders. Variant `i` uses seed
/// `seed + i` (wrapping), so any variant can be redone alone with
/// [`RenderRequest::for_variant`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderRequest {
    /// The prompt.
    pub prompt: String,
    /// The negative prompt ("" for none).
    pub negative_prompt: String,
    /// Seed of variant 0.
    pub seed: u64,
    /// Denoising steps (>= 1).
    pub steps: usize,
    /// Classifier-free guidance scale.
    pub guidance_scale: f64,
    /// ControlNet conditioning scale (0 disables the ControlNet).
    pub conditioning_scale: f64,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// How many variants (>= 1).
    pub n_variants: usize,
    /// The canvas settings the prepared canvas was made with (recorded;
    /// its size is checked against the canvas).
    pub canvas: CanvasSettings,
    /// The models used.
    pub models: ModelIds,
}

impl Default for RenderRequest {
    fn default() -> Self {
        Self {
            prompt: String::new(),
            negative_prompt: String::new(),
            seed: 1,
            steps: 30,
            guidance_scale: 7.5,
            conditioning_scale: 1.0,
            scheduler: SchedulerKind::EulerAncestral,
            n_variants: 1,
            canvas: CanvasSettings::default(),
            models: ModelIds::default(),
        }
    }
}

impl RenderRequest {
    /// The seed of variant `index`.
    pub fn variant_seed(&self, index: usize) -> u64 {
        self.seed.wrapping_add(index as u64)
    }

    /// The single-variant request that reproduces variant `index` alone.
    pub fn for_variant(&self, index: usize) -> RenderRequest {
        RenderRequest {
            seed: self.variant_seed(index),
            n_variants: 1,
            ..self.clone()
        }
    }

    /// Checks ranges (steps and variants >= 1, scales not NaN).
    pub fn validate(&self) -> Result<(), RenderError> {
        if self.steps == 0 {
            return Err(RenderError::InvalidRequest(
                "steps must be at least 1".into(),
            ));
        }
        if self.n_variants == 0 {
            return Err(RenderError::InvalidRequest(
                "the number of variants must be at least 1".into(),
            ));
        }
        if self.guidance_scale.is_nan() {
            return Err(RenderError::InvalidRequest(
                "the CFG scale is NaN (not a number)".into(),
            ));
        }
        if !self.conditioning_scale.is_finite() {
            return Err(RenderError::InvalidRequest(format!(
                "the ControlNet scale must be a finite number, got {}",
                self.conditioning_scale
            )));
        }
        Ok(())
    }
}
