//! The Queue window's state: the team queue's last snapshot (or why it
//! could not be read), the refresh in flight and when the next is due.

use crate::jobs::JobId;
use crate::studio::queue_view::QueueSnapshot;

/// Seconds between refreshes while the window is open.
pub const QUEUE_REFRESH_SECS: f64 = 5.0;

/// The Queue window's state.
#[derive(Debug, Default)]
pub struct QueueState {
    /// Whether the window is open.
    pub open: bool,
    /// The last snapshot read.
    pub snapshot: Option<QueueSnapshot>,
    /// The last read's or action's error (the snapshot, if any, is older).
    pub error: Option<String>,
    /// The last cancel / retry's outcome.
    pub message: Option<(String, bool)>,
    /// The read or action running on the studio worker.
    pub job: Option<JobId>,
    /// UI time (seconds) of the last finished read.
    pub read_at: Option<f64>,
    /// Whether the studio's store is a shared PostgreSQL database (where
    /// the queue lives); without one the window is read once, to say so.
    pub shared_store: bool,
}

impl QueueState {
    /// Whether a refresh is due at UI time `now`.
    pub fn due(&self, now: f64) -> bool {
        self.open
            && self.job.is_none()
            && match self.read_at {
                None => true,
                Some(t) => self.shared_store && now - t >= QUEUE_REFRESH_SECS,
            }
    }

    /// A read finished at `now`: its snapshot, or the error that keeps the
    /// last snapshot on screen.
    pub fn read(&mut self, id: JobId, result: Result<QueueSnapshot, String>, now: f64) {
        if self.job == Some(id) {
            self.job = None;
        }
        self.read_at = Some(now);
        match result {
            Ok(snapshot) => {
                self.snapshot = Some(snapshot);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The job `id` ended without an output (failed or cancelled).
    pub fn ended(&mut self, id: JobId, error: Option<&str>) {
        if self.job == Some(id) {
            self.job = None;
            if let Some(e) = error {
                self.error = Some(e.to_string());
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::queue::QueueCounts;

    fn snapshot() -> QueueSnapshot {
        QueueSnapshot {
            url: "postgres://team@db/ads".into(),
            counts: QueueCounts::default(),
            jobs: Vec::new(),
            busy_workers: Vec::new(),
        }
    }

    #[test]
    fn refreshes_while_open_one_at_a_time() {
        let mut q = QueueState {
            shared_store: true,
            ..QueueState::default()
        };
        assert!(!q.due(0.0), "closed");
        q.open = true;
        assert!(q.due(0.0), "never read");
        q.job = Some(JobId(1));
        assert!(!q.due(100.0), "one read at a time");
        q.read(JobId(1), Ok(snapshot()), 10.0);
        assert!(q.job.is_none() && q.snapshot.is_some());
        assert!(!q.due(12.0));
        assert!(q.due(10.0 + QUEUE_REFRESH_SECS));
        q.shared_store = false;
        assert!(!q.due(100.0), "no queue to watch: read once");
    }

    #[test]
    fn an_error_keeps_the_last_snapshot() {
        let mut q = QueueState {
            open: true,
            ..QueueState::default()
        };
        q.read(JobId(1), Ok(snapshot()), 1.0);
        q.read(JobId(2), Err("connection refused".into()), 6.0);
        assert!(q.snapshot.is_some());
        assert_eq!(q.error.as_deref(), Some("connection refused"));
        q.read(JobId(3), Ok(snapshot()), 11.0);
        assert!(q.error.is_none());
    }
}
