//! The error type of the preference statistics, export and import.

use std::path::PathBuf;

use crate::store::{PairItem, PreferenceId, StoreError};

/// What can go wrong while reading, exporting or importing preference
/// labels as a whole (problems of single import rows are reported per row
/// instead, see [`super::ImportReport`]).
#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A label names an item that is not in the store.
    #[error("label {label} names {item}, which is not in the store")]
    MissingItem {
        /// The label.
        label: PreferenceId,
        /// The missing item ("render 12").
        item: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A record could not be serialised.
    #[error("serialising label {label}: {source}")]
    Serialise {
        /// The label.
        label: PreferenceId,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// There is nothing to export.
    #[error(
        "no labels to export: the store has no active A-or-B label on two renders \
         ({skipped_undecided} tie/can't tell/skip labels, {skipped_creatives} on creatives)"
    )]
    NothingToExport {
        /// Active labels that are not A or B.
        skipped_undecided: usize,
        /// Active labels on creatives (not exported).
        skipped_creatives: usize,
    },
}

impl PrefsError {
    pub(super) fn missing(item: PairItem, label: PreferenceId) -> PrefsError {
        PrefsError::MissingItem {
            label,
            item: item.describe(),
        }
    }

    pub(super) fn io(path: &std::path::Path, source: std::io::Error) -> PrefsError {
        PrefsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
