//! Errors of the prompt model.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running the prompt model.
#[derive(Debug, thiserror::Error)]
pub enum PromptModelError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `config.json` could not be parsed or is inconsistent.
    #[error("invalid model config {path}: {reason}")]
    Config {
        /// Where the config came from (file or GGUF).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The model family is not one this decoder implements.
    #[error("unsupported architecture `{0}` (supported: llama, qwen2, llava with a llama/qwen2 text model)")]
    UnsupportedArchitecture(String),
    /// A GGUF file could not be understood.
    #[error("invalid GGUF file {path}: {reason}")]
    Gguf {
        /// The GGUF file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor is missing or has an unexpected shape.
    #[error("tensor `{name}`: {reason}")]
    Tensor {
        /// Checkpoint name of the tensor.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Input has the wrong shape or content.
    #[error("invalid input: {0}")]
    Input(String),
    /// A model folder could not be exported.
    #[error("cannot export to {path}: {reason}")]
    Export {
        /// The folder being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// LoRA adapter problem (unknown target, rank mismatch, merge on a quantised base...).
    #[error("LoRA: {0}")]
    Lora(String),
    /// The tokenizer could not be built or failed on a text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model folder has no tokenizer.
    #[error("no tokenizer found for model {0} (expected tokenizer.json next to the weights, or GGUF tokenizer metadata)")]
    MissingTokenizer(PathBuf),
    /// A product title that cannot be used.
    #[error("invalid product title: {0}")]
    Title(String),
    /// Generation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// A candle error.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias of the prompt model.
pub type Result<T> = std::result::Result<T, PromptModelError>;

impl From<crate::ml::json::JsonError> for PromptModelError {
    fn from(e: crate::ml::json::JsonError) -> Self {
        use crate::ml::json::JsonError;
        match e {
            JsonError::Io { path, source } => Self::Io { path, source },
            JsonError::Parse { path, source } => Self::Config {
                path,
                reason: source.to_string(),
            },
        }
    }
}

impl From<crate::ml::weights::WeightsError> for PromptModelError {
    fn from(e: crate::ml::weights::WeightsError) -> Self {
        use crate::ml::weights::WeightsError;
        match e {
            WeightsError::Missing { path } => Self::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "weight file not found"),
            },
            WeightsError::Index { path, reason } => Self::Config { path, reason },
            other => Self::Candle(candle_core::Error::msg(other.to_string())),
        }
    }
}

impl From<crate::ml::clip_vision::ClipVisionError> for PromptModelError {
    fn from(e: crate::ml::clip_vision::ClipVisionError) -> Self {
        use crate::ml::clip_vision::ClipVisionError;
        match e {
            ClipVisionError::Config { path, reason } => Self::Config { path, reason },
            ClipVisionError::Unsupported(kind) => Self::UnsupportedArchitecture(format!(
                "vision tower `{kind}` (only CLIP is implemented)"
            )),
            ClipVisionError::Json(e) => e.into(),
            ClipVisionError::Weights(e) => e.into(),
            ClipVisionError::Input(reason) => Self::Input(reason),
            ClipVisionError::Candle(e) => Self::Candle(e),
        }
    }
}
