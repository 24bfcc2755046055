//! The render panel's parameters, remembered between runs.

use serde::{Deserialize, Serialize};

use crate::ml::diffusion::SchedulerKind;
use crate::product::CanvasSettings;
use crate::render::{ModelIds, RenderRequest};

/// What the render panel holds: every parameter of the next render except
/// the canvas (from the product) and the models (from the models folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderPrefs {
    /// The prompt.
    pub prompt: String,
    /// The negative prompt.
    pub negative_prompt: String,
    /// Seed of the first variant (variant `i` uses `seed + i`).
    pub seed: u64,
    /// Denoising steps.
    pub steps: usize,
    /// Classifier-free guidance scale.
    pub guidance_scale: f64,
    /// ControlNet conditioning scale.
    pub conditioning_scale: f64,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// Variants per batch.
    pub n_variants: usize,
}

impl Default for RenderPrefs {
    fn default() -> Self {
        let request = RenderRequest::default();
        Self {
            prompt: String::new(),
            negative_prompt: String::new(),
            seed: request.seed,
            steps: request.steps,
            guidance_scale: request.guidance_scale,
            conditioning_scale: request.conditioning_scale,
            scheduler: request.scheduler,
            n_variants: 4,
        }
    }
}

/// The schedulers the panel offers, in menu order.
pub const SCHEDULERS: [SchedulerKind; 3] = [
    SchedulerKind::EulerAncestral,
    SchedulerKind::Ddim,
    SchedulerKind::Lcm,
];

impl RenderPrefs {
    /// The batch request for a canvas and the models that will run it.
    pub fn to_request(&self, canvas: CanvasSettings, models: ModelIds) -> RenderRequest {
        RenderRequest {
            prompt: self.prompt.clone(),
            negative_prompt: self.negative_prompt.clone(),
            seed: self.seed,
            steps: self.steps.max(1),
            guidance_scale: self.guidance_scale,
            conditioning_scale: self.conditioning_scale,
            scheduler: self.scheduler,
            n_variants: self.n_variants.max(1),
            canvas,
            models,
        }
    }

    /// Takes every parameter of `request` except the number of variants
    /// (an image is one variant; the batch size stays as the user set it).
    pub fn recall(&mut self, request: &RenderRequest) {
        self.prompt = request.prompt.clone();
        self.negative_prompt = request.negative_prompt.clone();
        self.seed = request.seed;
        self.steps = request.steps;
        self.guidance_scale = request.guidance_scale;
        self.conditioning_scale = request.conditioning_scale;
        self.scheduler = request.scheduler;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_takes_every_parameter_but_the_batch_size() {
        let mut prefs = RenderPrefs {
            n_variants: 3,
            ..RenderPrefs::default()
        };
        let request = RenderRequest {
            prompt: "on oak".into(),
            negative_prompt: "blurry".into(),
            seed: 41,
            steps: 12,
            guidance_scale: 5.5,
            conditioning_scale: 0.7,
            scheduler: SchedulerKind::Ddim,
            n_variants: 1,
            ..RenderRequest::default()
        };
        prefs.recall(&request);
        let again = prefs.to_request(request.canvas, request.models.clone());
        assert_eq!(again.n_variants, 3);
        assert_eq!(
            RenderRequest {
                n_variants: 1,
                ..again
            },
            request
        );
    }

    #[test]
    fn zero_steps_or_variants_become_one() {
        let prefs = RenderPrefs {
            steps: 0,
            n_variants: 0,
            ..RenderPrefs::default()
        };
        let request = prefs.to_request(CanvasSettings::default(), ModelIds::default());
        assert_eq!((request.steps, request.n_variants), (1, 1));
        assert!(request.validate().is_ok());
    }
}
