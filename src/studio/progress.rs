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
    /// Online PCPO rounds: the estimate, phases and finished rounds.
    Online(super::online::OnlineProgress),
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

/// Suggestion progress: rounds of candidates written side by side, each
/// screened, then the ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuggestProgress {
    /// The prompt model is being loaded.
    Loading,
    /// A round of candidates `first .. first + candidates` starts.
    Round {
        /// 0-based round number.
        round: usize,
        /// Index of the round's first candidate.
        first: usize,
        /// Candidates in the round.
        candidates: usize,
    },
    /// A piece of a candidate's raw text.
    Token {
        /// Candidate index within the job.
        candidate: usize,
        /// The text.
        text: String,
    },
    /// A candidate was cleaned and screened.
    Screened {
        /// Candidate index within the job.
        candidate: usize,
        /// Its cleaned text.
        text: String,
        /// The rule it breaks, by name (`None`: it passed).
        rejected: Option<String>,
    },
    /// The passing candidates are being ranked.
    Ranking {
        /// How many passed.
        passed: usize,
    },
}
