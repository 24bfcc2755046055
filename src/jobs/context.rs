//! What a running job sees: a way to report typed progress and to answer
//! "should I stop?". The same [`Reporter`] interface serves jobs on a
//! [`Worker`](super::Worker) and headless callers (the CLI, batch runs).

use crossbeam_channel::Sender;

use super::{CancelToken, JobEvent, JobId, Steps};

/// The error a checkpoint returns once cancel was requested.
///
/// It converts into `anyhow::Error` with `?`; the worker recognises it
/// anywhere in an error's chain and reports the job as cancelled, not failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Where a running job sends its progress of type `P`, and how it learns
/// that it should stop. Implemented by [`JobContext`] (worker jobs) and
/// [`InlineReporter`] (code that runs a job on its own thread).
pub trait Reporter<P> {
    /// Reports progress.
    fn report(&self, progress: P);

    /// The job's cancel token.
    fn cancel_token(&self) -> &CancelToken;

    /// A checkpoint: `Err(Cancelled)` once cancel was requested.
    /// Call it at every step, token or batch.
    fn checkpoint(&self) -> Result<(), Cancelled> {
        if self.cancel_token().is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports plain step progress (`done` of `total`).
    fn steps(&self, done: u64, total: u64, label: &str)
    where
        P: From<Steps>,
    {
        self.report(P::from(Steps {
            done,
            total,
            label: label.to_string(),
        }));
    }
}

/// Handed to a job running on a worker.
pub struct JobContext<'a, O, P = Steps> {
    pub(super) id: JobId,
    pub(super) cancel: &'a CancelToken,
    pub(super) events: &'a Sender<JobEvent<O, P>>,
    pub(super) notify: &'a (dyn Fn() + Send + Sync),
}

impl<O, P> JobContext<'_, O, P> {
    /// The running job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// A checkpoint: `Err(Cancelled)` once cancel was requested.
    pub fn checkpoint(&self) -> Result<(), Cancelled> {
        Reporter::checkpoint(self)
    }

    /// The job's cancel token, for code that polls it itself.
    pub fn cancel_token(&self) -> &CancelToken {
        self.cancel
    }

    /// Reports typed progress.
    pub fn report(&self, progress: P) {
        Reporter::report(self, progress);
    }

    /// Reports that `done` of `total` steps are finished (for workers whose
    /// progress type is built from [`Steps`]).
    pub fn progress(&self, done: u64, total: u64, label: impl Into<String>)
    where
        P: From<Steps>,
    {
        self.report(P::from(Steps {
            done,
            total,
            label: label.into(),
        }));
    }
}

impl<O, P> Reporter<P> for JobContext<'_, O, P> {
    fn report(&self, progress: P) {
        // The receiver is gone only when the app is shutting down; the job
        // then finishes without anyone listening, which is harmless.
        if self
            .events
            .send(JobEvent::Progress {
                id: self.id,
                progress,
            })
            .is_ok()
        {
            (self.notify)();
        }
    }

    fn cancel_token(&self) -> &CancelToken {
        self.cancel
    }
}

/// A reporter for a job run directly on the caller's thread: progress goes
/// to a callback, cancel to a token the caller may share (e.g. Ctrl-C).
pub struct InlineReporter<F> {
    on_progress: F,
    cancel: CancelToken,
}

impl<F> InlineReporter<F> {
    /// A reporter calling `on_progress`, with a fresh cancel token.
    pub fn new(on_progress: F) -> Self {
        Self {
            on_progress,
            cancel: CancelToken::new(),
        }
    }

    /// A reporter whose cancel token is `cancel`.
    pub fn with_cancel(on_progress: F, cancel: CancelToken) -> Self {
        Self {
            on_progress,
            cancel,
        }
    }
}

impl<P, F: Fn(P)> Reporter<P> for InlineReporter<F> {
    fn report(&self, progress: P) {
        (self.on_progress)(progress);
    }

    fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }
}
