//! Typed progress of the studio's jobs: one variant per job kind, so a
//! receiver never has to guess what a number means.

use std::sync::Arc;

use image::RgbaImage;

use crate::jobs::Steps;
use crate::ml::reward::train::EpochReport;

/// What a studio job reports while it runs.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Plain steps: opening, masking, loading a model, reading variants.
    Steps(Steps),
    /// A diffusion step of a render.
    Render(RenderStep),
    /// Suggestion writing: attempts and streamed text.
    Suggest(SuggestProgress),
    /// A finished epoch of reward-model training.
    Epoch(EpochReport),
}

impl From<Steps> for Progress {
    fn from(steps: Steps) -> Self {
        Progress::Steps(steps)
    }
}

/// One finished denoising step of one variant.
#[derive(Debug, Clone)]
pub struct RenderStep {
    /// 0-based variant index in its batch.
    pub variant: usize,
    /// Variants in the batch.
    pub n_variants: usize,
    /// 1-based finished step.
    pub step: usize,
    /// Steps per variant.
    pub total: usize,
    /// A cheap latent preview, every few steps and after the last one.
    pub preview: Option<Arc<RgbaImage>>,
}

/// Suggestion progress, by slot (the suggestion's index within its job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuggestProgress {
    /// The prompt model is being loaded.
    Loading,
    /// An attempt at suggestion `slot` started (its draft starts over).
    Attempt {
        /// Index of the suggestion within the job.
        slot: usize,
        /// 0-based attempt number.
        attempt: usize,
    },
    /// A piece of suggestion `slot`'s text.
    Token {
        /// Index of the suggestion within the job.
        slot: usize,
        /// The text.
        text: String,
    },
    /// An attempt was discarded.
    Rejected {
        /// Index of the suggestion within the job.
        slot: usize,
        /// Why.
        reason: String,
    },
}
