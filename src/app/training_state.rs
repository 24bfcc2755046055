//! The Training window's state: the live plot's history and the last
//! run's result.

use crate::jobs::JobId;
use crate::ml::reward::train::EpochReport;
use crate::studio::TrainOutcome;

/// The Training window's state (runtime; settings persist in the prefs).
#[derive(Debug, Default)]
pub struct TrainingState {
    /// Whether the window is open.
    pub open: bool,
    /// Reports of the current (or last) run, in epoch order.
    pub history: Vec<EpochReport>,
    /// The running job.
    pub job: Option<JobId>,
    /// The last run's result or error (and whether it is an error).
    pub message: Option<(String, bool)>,
}

impl TrainingState {
    /// A run was submitted as job `id`: clears the plot.
    pub fn begin(&mut self, id: JobId) {
        self.history.clear();
        self.message = None;
        self.job = Some(id);
    }

    /// An epoch of job `id` finished (its progress event); returns whether
    /// the event belonged to the training job.
    pub fn on_epoch(&mut self, id: JobId, report: EpochReport) -> bool {
        if self.job != Some(id) {
            return false;
        }
        self.history.push(report);
        true
    }

    /// Whether a training job is queued or running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The job ended (`result` = its outcome or error; `None` = cancelled).
    pub fn finish(&mut self, id: JobId, result: Option<Result<TrainOutcome, String>>) -> bool {
        if self.job != Some(id) {
            return false;
        }
        self.job = None;
        self.message = Some(match result {
            Some(Ok(outcome)) => (
                format!(
                    "Saved {}: held-out accuracy {:.1}% on {} pairs (brighter-wins rule {:.1}%)",
                    outcome.checkpoint.display(),
                    100.0 * outcome.val_accuracy,
                    outcome.val_pairs,
                    100.0 * outcome.brightness_baseline
                ),
                false,
            ),
            Some(Err(error)) => (error, true),
            None => (
                "Training cancelled; the previous model is unchanged".to_string(),
                false,
            ),
        });
        true
    }
}
