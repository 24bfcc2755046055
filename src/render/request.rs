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

/// The parameters of a batch of renders that a person chooses: what the
/// studio's render panel holds, what `adstudio render` takes on its command
/// line and, with the canvas and the models, what a [`RenderRequest`]
/// records.
///
/// As command-line arguments: `--prompt`, `--negative`, `--seed`, `--steps`,
/// `--cfg`, `--control-scale`, `--scheduler euler-a|ddim|lcm`, `--n`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct RenderParams {
    /// The prompt.
    #[arg(long)]
    pub prompt: String,
    /// The negative prompt ("" for none).
    #[arg(long = "negative", default_value = "")]
    pub negative_prompt: String,
    /// Seed of variant 0 (variant i uses seed + i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Denoising steps (>= 1).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Classifier-free guidance scale.
    #[arg(long = "cfg", default_value_t = 7.5)]
    pub guidance_scale: f64,
    /// ControlNet conditioning scale (0 disables the ControlNet).
    #[arg(long = "control-scale", default_value_t = 1.0)]
    pub conditioning_scale: f64,
    /// The scheduler: euler-a, ddim or lcm.
    #[arg(long, default_value = "euler-a", value_parser = parse_scheduler)]
    pub scheduler: SchedulerKind,
    /// How many variants (>= 1).
    #[arg(long = "n", default_value_t = 4)]
    pub n_variants: usize,
    /// The PCPO adapter of the prompt model that wrote the prompt, when it
    /// is a suggestion used as is (recorded, never set on the command
    /// line).
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_adapter: Option<String>,
}

/// The command-line names of the schedulers, in menu order.
pub const SCHEDULER_NAMES: [(&str, SchedulerKind); 3] = [
    ("euler-a", SchedulerKind::EulerAncestral),
    ("ddim", SchedulerKind::Ddim),
    ("lcm", SchedulerKind::Lcm),
];

/// The scheduler a command-line name means.
pub fn parse_scheduler(name: &str) -> Result<SchedulerKind, String> {
    SCHEDULER_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            let names: Vec<&str> = SCHEDULER_NAMES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown scheduler {name:?}; use one of {}",
                names.join(", ")
            )
        })
}

impl Default for RenderParams {
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
            prompt_adapter: None,
        }
    }
}

impl RenderParams {
    /// The parameters recalled from `other`, keeping this batch size (an
    /// image is one variant; the batch size stays as the user set it).
    pub fn recalled(&self, other: &RenderParams) -> RenderParams {
        RenderParams {
            n_variants: self.n_variants,
            ..other.clone()
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

/// Every parameter of a batch of renders: the [`RenderParams`] (stored
/// flat, as before they had their own struct), the canvas and the models.
/// Variant `i` uses seed `seed + i` (wrapping), so any variant can be
/// redone alone with [`RenderRequest::for_variant`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RenderRequest {
    /// What the person chose.
    #[serde(flatten)]
    pub params: RenderParams,
    /// The canvas settings the prepared canvas was made with (recorded;
    /// its size is checked against the canvas).
    pub canvas: CanvasSettings,
    /// The models used.
    pub models: ModelIds,
}

impl RenderRequest {
    /// The seed of variant `index`.
    pub fn variant_seed(&self, index: usize) -> u64 {
        self.params.seed.wrapping_add(index as u64)
    }

    /// The single-variant request that reproduces variant `index` alone.
    pub fn for_variant(&self, index: usize) -> RenderRequest {
        RenderRequest {
            params: RenderParams {
                seed: self.variant_seed(index),
                n_variants: 1,
                ..self.params.clone()
            },
            ..self.clone()
        }
    }

    /// Checks ranges (see [`RenderParams::validate`]).
    pub fn validate(&self) -> Result<(), RenderError> {
        self.params.validate()
    }
}
