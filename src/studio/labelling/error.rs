//! The labelling core's error type.

use crate::store::{PairItem, StoreError};

use super::pool::GroupKey;

/// What can go wrong while labelling. Store errors keep the database path
/// and table in their message.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The labeler's name is empty (or only white space).
    #[error("the labeler's name is empty; give the name labels are recorded under")]
    EmptyLabeler,
    /// The scope names a product or creative group that is not in the store.
    #[error("{0} is not in the store")]
    UnknownGroup(GroupKey),
    /// An answer was given while no pair is shown (nothing left to label, or
    /// fewer than two items).
    #[error("no pair is shown: nothing is left to label in this scope")]
    NoPair,
    /// The shown pair got an active label from the same labeler elsewhere
    /// (another window or process) before this answer; nothing was written
    /// and the next pair is shown.
    #[error(
        "{} vs {} was already labelled by this labeler elsewhere; nothing was recorded",
        .a.describe(), .b.describe()
    )]
    AlreadyLabelled {
        /// Item A of the pair.
        a: PairItem,
        /// Item B of the pair.
        b: PairItem,
    },
    /// Reading or writing the local outbox of labels failed.
    #[error("label outbox {path}: {message}")]
    Outbox {
        /// The outbox file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
