//! The team's job queue as the studio shows it: a snapshot of the jobs and
//! their counts, and the cancel / retry actions, for a store that is a
//! shared PostgreSQL database (the queue lives there). Headless: the
//! studio runs these on its worker, the UI draws the snapshot.

use std::time::SystemTime;

use crate::queue::{redact, JobQueue, JobRow, JobState, QueueCounts, QueueError};
use crate::store::StoreLocation;

/// How many jobs a snapshot lists at most (running and queued first).
pub const SNAPSHOT_JOBS: usize = 200;

/// Why the queue cannot be shown or changed.
#[derive(Debug, thiserror::Error)]
pub enum QueueViewError {
    /// The store is an SQLite file: there is no team queue.
    #[error(
        "the job queue lives in a shared PostgreSQL store; this studio uses the SQLite file {0} \
         (choose a postgres:// store in Models…, then restart)"
    )]
    NotShared(String),
    /// The queue failed (unreachable server, SQL error).
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// One job, as a row of the studio's queue table.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueJobView {
    /// The job id (for cancel / retry).
    pub id: i64,
    /// Its state.
    pub state: JobState,
    /// The product's catalog id and title (from the job's input), or its
    /// key for other jobs.
    pub what: String,
    /// Its priority.
    pub priority: i32,
    /// Leases taken / allowed.
    pub attempts: (i32, i32),
    /// The worker of the current or last lease.
    pub worker: Option<String>,
    /// Seconds since its last heartbeat (running) or its end (ended).
    pub since_secs: Option<u64>,
    /// The last error.
    pub error: Option<String>,
}

impl QueueJobView {
    /// The view of a stored job.
    pub fn of(job: &JobRow) -> QueueJobView {
        let text = |pointer: &str| job.payload.pointer(pointer).and_then(|v| v.as_str());
        let what = match (text("/row/id"), text("/row/title")) {
            (Some(id), Some(title)) => format!("{id} · {title}"),
            (Some(id), None) => id.to_string(),
            _ => job.key.clone().unwrap_or_else(|| job.kind.clone()),
        };
        let since = match job.state {
            JobState::Running => job.heartbeat_at,
            JobState::Queued => None,
            _ => job.finished_at,
        };
        QueueJobView {
            id: job.id,
            state: job.state,
            what,
            priority: job.priority,
            attempts: (job.attempt, job.max_attempts),
            worker: job.worker.clone(),
            since_secs: since.and_then(secs_since),
            error: job.error.clone(),
        }
    }

    /// Whether the job can still be cancelled (queued or running).
    pub fn cancellable(&self) -> bool {
        matches!(self.state, JobState::Queued | JobState::Running)
    }

    /// Whether the job can be queued again (failed or cancelled).
    pub fn retriable(&self) -> bool {
        matches!(self.state, JobState::Failed | JobState::Cancelled)
    }
}

fn secs_since(t: SystemTime) -> Option<u64> {
    Some(t.elapsed().ok()?.as_secs())
}

/// The queue at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    /// The database, its password hidden.
    pub url: String,
    /// Jobs per state (all of them).
    pub counts: QueueCounts,
    /// Running, then queued by priority, then ended ones, newest first;
    /// at most [`SNAPSHOT_JOBS`].
    pub jobs: Vec<QueueJobView>,
    /// Workers holding a job now (distinct names).
    pub busy_workers: Vec<String>,
}

impl QueueSnapshot {
    /// Jobs in the queue beyond the listed ones.
    pub fn unlisted(&self) -> usize {
        let c = &self.counts;
        let total = c.queued + c.running + c.done + c.failed + c.cancelled;
        usize::try_from(total)
            .unwrap_or(0)
            .saturating_sub(self.jobs.len())
    }
}

/// What to do to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueAction {
    /// Cancel a queued or running job.
    Cancel(i64),
    /// Queue a failed or cancelled job again.
    Retry(i64),
}

fn queue_url(location: &StoreLocation) -> Result<&str, QueueViewError> {
    match location {
        StoreLocation::Postgres(url) => Ok(url),
        StoreLocation::Sqlite(path) => Err(QueueViewError::NotShared(path.display().to_string())),
    }
}

/// Reads the queue of the store at `location`.
pub fn read_queue(location: &StoreLocation) -> Result<QueueSnapshot, QueueViewError> {
    let url = queue_url(location)?;
    let mut queue = JobQueue::connect(url)?;
    let counts = queue.counts()?;
    let jobs: Vec<QueueJobView> = queue
        .list_first(None, SNAPSHOT_JOBS)?
        .iter()
        .map(QueueJobView::of)
        .collect();
    let mut busy_workers: Vec<String> = jobs
        .iter()
        .filter(|j| j.state == JobState::Running)
        .filter_map(|j| j.worker.clone())
        .collect();
    busy_workers.sort();
    busy_workers.dedup();
    Ok(QueueSnapshot {
        url: redact(url),
        counts,
        jobs,
        busy_workers,
    })
}

/// Applies `action`; `false` when the job was not in a state it applies
/// to (it ended meanwhile, or was already queued again).
pub fn apply_queue_action(
    location: &StoreLocation,
    action: QueueAction,
) -> Result<bool, QueueViewError> {
    let mut queue = JobQueue::connect(queue_url(location)?)?;
    Ok(match action {
        QueueAction::Cancel(id) => queue.cancel(id)?,
        QueueAction::Retry(id) => queue.retry(id)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(state: JobState, payload: serde_json::Value) -> JobRow {
        JobRow {
            id: 7,
            kind: "batch-product".into(),
            key: Some("batch:p1:00".into()),
            payload,
            priority: 2,
            state,
            attempt: 1,
            max_attempts: 3,
            worker: Some("gpu-1".into()),
            lease_until: None,
            heartbeat_at: Some(SystemTime::now()),
            result: None,
            error: None,
            created_at: SystemTime::now(),
            finished_at: None,
        }
    }

    #[test]
    fn rows_name_the_product_and_say_what_can_be_done() {
        let running = QueueJobView::of(&job(
            JobState::Running,
            json!({"row": {"id": "p1", "title": "Walnut desk"}}),
        ));
        assert_eq!(running.what, "p1 · Walnut desk");
        assert_eq!(running.since_secs, Some(0));
        assert!(running.cancellable() && !running.retriable());
        let failed = QueueJobView::of(&job(JobState::Failed, json!({})));
        assert_eq!(failed.what, "batch:p1:00");
        assert_eq!(failed.since_secs, None, "no end time recorded");
        assert!(!failed.cancellable() && failed.retriable());
    }

    #[test]
    fn an_sqlite_store_has_no_queue() {
        let location = StoreLocation::Sqlite("/data/adstudio.sqlite3".into());
        let err = read_queue(&location).unwrap_err();
        assert!(matches!(err, QueueViewError::NotShared(_)));
        assert!(err.to_string().contains("/data/adstudio.sqlite3"), "{err}");
        let err = apply_queue_action(&location, QueueAction::Cancel(1)).unwrap_err();
        assert!(matches!(err, QueueViewError::NotShared(_)));
    }
}
