//! Errors of the reward-model module.

use std::path::PathBuf;

/// Everything that can go wrong while building, training or running a
/// reward model, or while reading click logs.
#[derive(Debug, thiserror::Error)]
pub enum RewardError {
    /// A tensor operation failed (shape mismatch, device error...).
    #[error("tensor operation failed in {context}: {source}")]
    Candle {
        /// What the code was doing.
        context: String,
        /// The underlying candle error.
        #[source]
        source: candle_core::Error,
    },
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An image file could not be decoded.
    #[error("cannot read image {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// A checkpoint file is not a valid adstudio reward checkpoint.
    #[error("invalid reward checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid reward configuration: {0}")]
    Config(String),
    /// Input data (images, pairs, labels) do not fit the model.
    #[error("invalid reward input: {0}")]
    Input(String),
    /// A click-log file could not be read as a click log at all.
    #[error("click log: {0}")]
    ClickLog(#[from] super::clicklog::ClickLogError),
    /// The prompt-model parts reused as a backbone (CLIP vision tower,
    /// LLaVA decoder, LoRA) failed; the message names files and tensors.
    #[error("reward backbone: {0}")]
    Backbone(#[from] crate::ml::prompt_model::PromptModelError),
    /// A weight file could not be opened.
    #[error("reward backbone weights: {0}")]
    Weights(#[from] crate::ml::weights::WeightsError),
    /// Training was stopped by the progress callback.
    #[error("training cancelled after epoch {epoch}")]
    Cancelled {
        /// The last completed epoch (1-based; 0 when none completed).
        epoch: usize,
    },
}

impl RewardError {
    /// Wraps a candle error with a short description of the operation.
    pub fn candle(context: impl Into<String>) -> impl FnOnce(candle_core::Error) -> Self {
        let context = context.into();
        move |source| Self::Candle { context, source }
    }
}

/// Result alias of the reward module.
pub type Result<T> = std::result::Result<T, RewardError>;

impl From<crate::ml::clip_vision::ClipVisionError> for RewardError {
    fn from(e: crate::ml::clip_vision::ClipVisionError) -> Self {
        Self::Backbone(e.into())
    }
}
