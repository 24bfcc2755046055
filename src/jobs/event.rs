//! Events a job sends to the UI.

use std::fmt;
use std::sync::Arc;

/// Identifies one submitted job; ids increase in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// What a job reports while it runs and when it ends.
///
/// Every job produces exactly one terminal event: `Done`, `Failed` or
/// `Cancelled`, preceded by `Started`.
#[derive(Debug)]
pub enum JobEvent<O> {
    /// The worker picked the job up.
    Started {
        /// The job.
        id: JobId,
        /// The label given at submission.
        label: String,
    },
    /// Step `done` of `total` finished.
    Progress {
        /// The job.
        id: JobId,
        /// Steps finished.
        done: u64,
        /// Steps in all.
        total: u64,
        /// What the job is doing now.
        label: String,
    },
    /// An intermediate image (e.g. a denoising preview).
    Preview {
        /// The job.
        id: JobId,
        /// The preview image.
        image: Arc<image::RgbaImage>,
    },
    /// A piece of streamed text (e.g. a generated token).
    Token {
        /// The job.
        id: JobId,
        /// The text.
        text: String,
    },
    /// The job finished with its output.
    Done {
        /// The job.
        id: JobId,
        /// What the job produced.
        output: O,
    },
    /// The job failed; `error` is a readable message with its causes.
    Failed {
        /// The job.
        id: JobId,
        /// The error message, causes joined with ": ".
        error: String,
    },
    /// The job stopped at a checkpoint after a cancel request.
    Cancelled {
        /// The job.
        id: JobId,
    },
}

impl<O> JobEvent<O> {
    /// The job this event belongs to.
    pub fn id(&self) -> JobId {
        match self {
            JobEvent::Started { id, .. }
            | JobEvent::Progress { id, .. }
            | JobEvent::Preview { id, .. }
            | JobEvent::Token { id, .. }
            | JobEvent::Done { id, .. }
            | JobEvent::Failed { id, .. }
            | JobEvent::Cancelled { id } => *id,
        }
    }

    /// Whether this is the job's last event.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobEvent::Done { .. } | JobEvent::Failed { .. } | JobEvent::Cancelled { .. }
        )
    }
}
