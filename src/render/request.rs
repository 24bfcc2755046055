//! What a render asks for.

use serde::{Deserialize, Serialize};

use super::error::RenderError;
use crate::ml::diffusion::{ControlWindow, SchedulerKind};
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
/// `--cfg`, `--control-scale`, `--control-start`, `--control-end`,
/// `--scheduler euler-a|ddim|lcm`, `--n`, `--draft`.
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
    /// The fraction of the steps before which the ControlNet does not run
    /// (diffusers' `control_guidance_start`; 0: from the first step).
    #[arg(long = "control-start", default_value_t = 0.0)]
    #[serde(skip_serializing_if = "is_zero")]
    pub control_start: f64,
    /// The fraction of the steps after which the ControlNet no longer runs
    /// (diffusers' `control_guidance_end`); unset: 1 (every step) for a
    /// render, 0.5 ([`DRAFT_CONTROL_END`]) for a draft.
    #[arg(long = "control-end")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_end: Option<f64>,
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
    /// A draft: the LCM-LoRA merged into the model, [`DRAFT_STEPS`] LCM
    /// steps, no classifier-free guidance, one variant, decoded with TAESD
    /// when there is one. On the command line it replaces `--steps`,
    /// `--cfg`, `--scheduler` and `--n` ([`RenderParams::as_draft`]).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

/// Denoising steps of a draft.
pub const DRAFT_STEPS: usize = 4;

/// The ControlNet window's end of a draft unless `--control-end` says
/// otherwise: the ControlNet conditions the first 2 of its 4 LCM steps,
/// which fix the layout, and the last 2 run the UNet alone (a UNet +
/// ControlNet step costs about 1.4x a UNet step). See the README's draft
/// section for how it was chosen.
pub const DRAFT_CONTROL_END: f64 = 0.5;

fn is_zero(x: &f64) -> bool {
    *x == 0.0
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
            control_start: 0.0,
            control_end: None,
            scheduler: SchedulerKind::EulerAncestral,
            n_variants: 1,
            prompt_adapter: None,
            draft: false,
        }
    }
}

impl RenderParams {
    /// The parameters recalled from `other`, keeping this batch size (an
    /// image is one variant; the batch size stays as the user set it). A
    /// draft lends its prompts and seed only: the panel keeps its steps,
    /// CFG and scheduler (the draft's are fixed).
    pub fn recalled(&self, other: &RenderParams) -> RenderParams {
        let base = if other.draft {
            other.final_of_draft(self)
        } else {
            other.clone()
        };
        RenderParams {
            n_variants: self.n_variants,
            ..base
        }
    }

    /// The draft of these parameters: same prompts, seed and ControlNet
    /// scale; [`DRAFT_STEPS`] LCM steps, CFG 1 (none), one variant.
    pub fn as_draft(&self) -> RenderParams {
        RenderParams {
            steps: DRAFT_STEPS,
            guidance_scale: 1.0,
            scheduler: SchedulerKind::Lcm,
            n_variants: 1,
            draft: true,
            ..self.clone()
        }
    }

    /// The full-quality render of a draft: its prompts and seed with the
    /// `settings` (the normal render settings: steps, CFG, scheduler,
    /// ControlNet scale), one variant.
    pub fn final_of_draft(&self, settings: &RenderParams) -> RenderParams {
        RenderParams {
            prompt: self.prompt.clone(),
            negative_prompt: self.negative_prompt.clone(),
            seed: self.seed,
            prompt_adapter: self.prompt_adapter.clone(),
            n_variants: 1,
            draft: false,
            ..settings.clone()
        }
    }

    /// The steps the ControlNet runs on: `control_start..control_end`,
    /// the end defaulting to 1 (renders) or [`DRAFT_CONTROL_END`] (drafts).
    pub fn control_window(&self) -> Result<ControlWindow, RenderError> {
        let default_end = if self.draft { DRAFT_CONTROL_END } else { 1.0 };
        let end = self.control_end.unwrap_or(default_end);
        ControlWindow::new(self.control_start, end)
            .map_err(|e| RenderError::InvalidRequest(e.to_string()))
    }

    /// Checks ranges (steps and variants >= 1, scales not NaN, the
    /// ControlNet window inside 0..1).
    pub fn validate(&self) -> Result<(), RenderError> {
        self.control_window()?;
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

#[cfg(test)]
mod draft_tests {
    use super::*;

    fn panel() -> RenderParams {
        RenderParams {
            prompt: "on oak".into(),
            negative_prompt: "blurry".into(),
            seed: 9,
            steps: 25,
            guidance_scale: 6.0,
            conditioning_scale: 0.7,
            n_variants: 4,
            ..RenderParams::default()
        }
    }

    #[test]
    fn the_control_window_defaults_to_every_step_and_half_a_draft() {
        let full = panel().control_window().expect("full");
        assert_eq!(full, ControlWindow::FULL);
        let draft = panel().as_draft();
        let window = draft.control_window().expect("draft");
        assert_eq!((window.start(), window.end()), (0.0, DRAFT_CONTROL_END));
        assert_eq!(window.kept_steps(DRAFT_STEPS), 2);
        // An explicit end wins in a draft, and a final of the draft takes
        // the panel's (default) window again.
        let explicit = RenderParams {
            control_end: Some(0.75),
            ..draft.clone()
        };
        assert_eq!(explicit.control_window().expect("w").end(), 0.75);
        let fin = explicit.final_of_draft(&panel());
        assert_eq!(fin.control_window().expect("w"), ControlWindow::FULL);
        let bad = RenderParams {
            control_start: 0.8,
            control_end: Some(0.2),
            ..panel()
        };
        let err = bad.validate().expect_err("refused");
        assert!(err.to_string().contains("start 0.8"), "{err}");
    }

    #[test]
    fn a_draft_keeps_prompt_and_seed_and_its_final_takes_the_panel_settings() {
        let draft = panel().as_draft();
        assert!(draft.draft);
        assert_eq!((draft.steps, draft.n_variants), (DRAFT_STEPS, 1));
        assert_eq!(draft.guidance_scale, 1.0);
        assert_eq!(draft.scheduler, SchedulerKind::Lcm);
        assert_eq!((draft.seed, draft.prompt.as_str()), (9, "on oak"));
        assert_eq!(draft.conditioning_scale, 0.7);

        let settings = RenderParams {
            prompt: "something else".into(),
            seed: 1,
            steps: 40,
            ..RenderParams::default()
        };
        let fin = draft.final_of_draft(&settings);
        assert!(!fin.draft);
        assert_eq!((fin.seed, fin.steps, fin.n_variants), (9, 40, 1));
        assert_eq!(
            (fin.prompt.as_str(), fin.negative_prompt.as_str()),
            ("on oak", "blurry")
        );
        assert_eq!(fin.scheduler, SchedulerKind::EulerAncestral);

        // Recalling a draft keeps the panel's steps, CFG and batch size.
        let recalled = settings.recalled(&draft);
        assert_eq!(
            (recalled.seed, recalled.steps, recalled.n_variants),
            (9, 40, 1)
        );
        assert!(!recalled.draft);
    }

    #[test]
    fn the_draft_flag_is_stored_only_when_set_and_read_back() {
        let json = serde_json::to_value(panel()).expect("json");
        assert!(json.get("draft").is_none(), "{json}");
        let json = serde_json::to_value(panel().as_draft()).expect("json");
        assert_eq!(json["draft"], serde_json::Value::Bool(true));
        let back: RenderParams = serde_json::from_value(json).expect("back");
        assert_eq!(back, panel().as_draft());
    }
}
