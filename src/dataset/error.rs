//! The error type of the training-data export.

use std::path::PathBuf;

use crate::store::StoreError;

/// What can go wrong while exporting a table.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output file (or its temporary sibling) could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file asked for.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The Parquet encoder failed.
    #[error("writing Parquet to {path}: {source}")]
    Parquet {
        /// The file asked for.
        path: PathBuf,
        /// The underlying error.
        source: parquet::errors::ParquetError,
    },
    /// A row could not be serialised as JSON.
    #[error("writing JSONL to {path}: {source}")]
    Json {
        /// The file asked for.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
}

impl DatasetError {
    pub(super) fn write(path: &std::path::Path, source: std::io::Error) -> DatasetError {
        DatasetError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
