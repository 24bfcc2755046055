//! The Scores section's state: the open product's latest scores.

use crate::jobs::JobId;
use crate::store::ProductId;
use crate::studio::VariantScores;

/// The Scores section's state (runtime only).
#[derive(Debug, Clone, Default)]
pub struct ScoresState {
    /// The open product's latest scores.
    pub current: Option<VariantScores>,
    /// The running scoring job.
    pub job: Option<JobId>,
    /// The last message (and whether it is an error).
    pub message: Option<(String, bool)>,
}

impl ScoresState {
    /// Whether a scoring job is queued or running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Scores for `product`, if the current ones belong to it.
    pub fn for_product(&self, product: ProductId) -> Option<&VariantScores> {
        self.current.as_ref().filter(|s| s.product == product)
    }
}
