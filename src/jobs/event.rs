//! Events a job sends to whoever submitted it.

use std::fmt;

/// Identifies one submitted job; ids increase in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Plain step progress: `done` of `total` steps, with what is being done.
///
/// The default progress type of a worker; job kinds with richer progress
/// (render steps with previews, streamed tokens, training epochs) use their
/// own type `P` and convert from this one for their plain steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steps {
    /// Steps finished.
    pub done: u64,
    /// Steps in all.
    pub total: u64,
    /// What the job is doing now.
    pub label: String,
}

/// What a job reports while it runs and when it ends: `P` is its progress
/// type, `O` its output type.
///
/// Every job produces exactly one terminal event: `Done`, `Failed` or
/// `Cancelled`, preceded by `Started`.
#[derive(Debug)]
pub enum JobEvent<O, P = Steps> {
    /// The worker picked the job up.
    Started {
        /// The job.
        id: JobId,
        /// The label given at submission.
        label: String,
    },
    /// Typed progress of the running job.
    Progress {
        /// The job.
        id: JobId,
        /// What the job reported.
        progress: P,
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

impl<O, P> JobEvent<O, P> {
    /// The job this event belongs to.
    pub fn id(&self) -> JobId {
        match self {
            JobEvent::Started { id, .. }
            | JobEvent::Progress { id, .. }
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
