//! The error type of the diffusion engine.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running the diffusion models.
#[derive(Debug, thiserror::Error)]
pub enum DiffusionError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration file is not valid JSON of the expected form.
    #[error("invalid configuration {path}: {source}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A model folder lacks a component (e.g. `unet/`).
    #[error("model folder {root} has no {component} (expected {expected})")]
    MissingComponent {
        /// The model folder.
        root: PathBuf,
        /// The component name.
        component: String,
        /// The file that was looked for.
        expected: PathBuf,
    },
    /// A configuration asks for something this engine does not implement.
    #[error("unsupported {what}: {reason}")]
    Unsupported {
        /// The component (e.g. "UNet config").
        what: String,
        /// Why it is not supported.
        reason: String,
    },
    /// The tokenizer could not be loaded or failed on an input.
    #[error("tokenizer {context}: {message}")]
    Tokenizer {
        /// The tokenizer file or the failing prompt.
        context: String,
        /// The tokenizers crate's message.
        message: String,
    },
    /// A weight file is missing a tensor, has a tensor of the wrong shape, or
    /// cannot be read.
    #[error("weights {path}: {source}")]
    Weights {
        /// The weight file(s).
        path: String,
        /// The candle error, which names the tensor and shapes.
        source: candle_core::Error,
    },
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An input tensor has the wrong shape or an input value is out of range.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The latents became NaN or infinite during denoising.
    #[error("latents are not finite (NaN or infinity) after step {step} of {total}")]
    NonFiniteLatents {
        /// The 1-based step after which the problem was seen.
        step: usize,
        /// The total number of steps.
        total: usize,
    },
    /// The caller's step callback asked the loop to stop.
    #[error("cancelled after step {step} of {total}")]
    Cancelled {
        /// The 1-based step after which the loop stopped.
        step: usize,
        /// The total number of steps.
        total: usize,
    },
}

/// Result alias of the diffusion engine.
pub type Result<T> = std::result::Result<T, DiffusionError>;

impl From<crate::ml::json::JsonError> for DiffusionError {
    fn from(e: crate::ml::json::JsonError) -> Self {
        use crate::ml::json::JsonError;
        match e {
            JsonError::Io { path, source } => Self::Io { path, source },
            JsonError::Parse { path, source } => Self::Config { path, source },
        }
    }
}
