//! Errors of the PCPO trainer.

use std::path::PathBuf;

use crate::ml::prompt_model::PromptModelError;

/// Everything that can go wrong while preparing data for, running or
/// checkpointing a PCPO/DPO fine-tune.
#[derive(Debug, thiserror::Error)]
pub enum PcpoError {
    /// The training data is unusable (too few pairs, bad spans, ...).
    #[error("training data: {0}")]
    Data(String),
    /// A hyper-parameter is out of range.
    #[error("invalid training setting: {0}")]
    Config(String),
    /// A checkpoint does not fit the model being trained.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// An adapter was made for another base model (told apart by the hash
    /// of its weights).
    #[error(
        "adapter made for base model {adapter_model} (sha256 {adapter_hash}) cannot be used with \
         {model} (sha256 {model_hash}): the weights differ"
    )]
    BaseMismatch {
        /// Id of the adapter's base model.
        adapter_model: String,
        /// Hash of the adapter's base model.
        adapter_hash: String,
        /// Id of the model given.
        model: String,
        /// Hash of the model given.
        model_hash: String,
    },
    /// A model could not be hashed.
    #[error(transparent)]
    Hash(#[from] crate::ml::hashing::HashError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The prompt model failed (forward pass, LoRA attachment, ...).
    #[error(transparent)]
    Model(#[from] PromptModelError),
    /// A tensor operation failed.
    #[error("tensor operation: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Result alias of the trainer.
pub type Result<T> = std::result::Result<T, PcpoError>;
