//! What a running job sees: its cancel token and a way to report events.

use std::sync::Arc;

use crossbeam_channel::Sender;

use super::{CancelToken, JobEvent, JobId};

/// The error a checkpoint returns once cancel was requested.
///
/// It converts into `anyhow::Error` with `?`; the worker recognises it
/// anywhere in an error's chain and reports the job as cancelled, not failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Handed to a running job: reports progress and answers "should I stop?".
pub struct JobContext<'a, O> {
    pub(super) id: JobId,
    pub(super) cancel: &'a CancelToken,
    pub(super) events: &'a Sender<JobEvent<O>>,
    pub(super) notify: &'a (dyn Fn() + Send + Sync),
}

impl<O> JobContext<'_, O> {
    /// The running job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// A checkpoint: `Err(Cancelled)` once cancel was requested.
    /// Call it at every step, token or batch.
    pub fn checkpoint(&self) -> Result<(), Cancelled> {
        if self.cancel.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// The job's cancel token, for code that polls it itself.
    pub fn cancel_token(&self) -> &CancelToken {
        self.cancel
    }

    /// Reports that `done` of `total` steps are finished.
    pub fn progress(&self, done: u64, total: u64, label: impl Into<String>) {
        self.send(JobEvent::Progress {
            id: self.id,
            done,
            total,
            label: label.into(),
        });
    }

    /// Sends an intermediate image.
    pub fn preview(&self, image: Arc<image::RgbaImage>) {
        self.send(JobEvent::Preview { id: self.id, image });
    }

    /// Sends a piece of streamed text.
    pub fn token(&self, text: impl Into<String>) {
        self.send(JobEvent::Token {
            id: self.id,
            text: text.into(),
        });
    }

    fn send(&self, event: JobEvent<O>) {
        // The receiver is gone only when the app is shutting down; the job
        // then finishes without anyone listening, which is harmless.
        if self.events.send(event).is_ok() {
            (self.notify)();
        }
    }
}
