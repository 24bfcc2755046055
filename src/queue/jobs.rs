//! Enqueueing, leasing, heartbeats, results, cancel and retry.

use std::time::{Duration, SystemTime};

use postgres::{Client, Row};
use serde_json::Value;

use super::error::QueueError;
use super::schema;
use crate::store::DbError;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Leased by a worker (or its worker died and the lease runs out).
    Running,
    /// Finished with a result.
    Done,
    /// Failed on its last attempt.
    Failed,
    /// Cancelled by a person.
    Cancelled,
}

impl JobState {
    /// The name stored in `queue_jobs.state` and shown by `jobs list`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// The state stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What the job is ("batch-product"); workers take the kinds they run.
    pub kind: String,
    /// Identifies the work: a second enqueue with the same key adds
    /// nothing and returns the first job.
    pub key: Option<String>,
    /// The job's input.
    pub payload: Value,
    /// Higher runs first; equal priorities run in the order queued.
    pub priority: i32,
    /// Leases before the job counts as failed (at least 1).
    pub max_attempts: i32,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// Its id.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// Its key, if any.
    pub key: Option<String>,
    /// Its input.
    pub payload: Value,
    /// Its priority.
    pub priority: i32,
    /// Its state.
    pub state: JobState,
    /// Leases taken so far.
    pub attempt: i32,
    /// Leases allowed.
    pub max_attempts: i32,
    /// The worker of the current or last lease.
    pub worker: Option<String>,
    /// When the current lease runs out.
    pub lease_until: Option<SystemTime>,
    /// The last heartbeat.
    pub heartbeat_at: Option<SystemTime>,
    /// The result, once done.
    pub result: Option<Value>,
    /// The last error.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: SystemTime,
    /// When it ended (done, failed, cancelled).
    pub finished_at: Option<SystemTime>,
}

/// A job a worker holds: only the holder of the current lease (same
/// worker, same attempt) may extend it or store a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The job.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// Its input.
    pub payload: Value,
    /// Which lease of the job this is (1 = first).
    pub attempt: i32,
    /// The worker holding it.
    pub worker: String,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Waiting.
    pub queued: i64,
    /// Leased.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Failed for good.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
}

/// The columns [`JobRow`] reads, in order.
const COLUMNS: &str = "id, kind, key, payload, priority, state, attempt, max_attempts, worker, \
     lease_until, heartbeat_at, result, error, created_at, finished_at";

/// A connection to the queue in a PostgreSQL database.
pub struct JobQueue {
    client: Client,
    url: String,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue").field("url", &self.url).finish()
    }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Connects through the store's PostgreSQL connect (which gives up after
/// its connect timeout, also on a host that accepts and never answers).
fn connect_pg(url: &str, shown: &str) -> Result<Client, QueueError> {
    crate::store::backend::connect_postgres(url, None).map_err(|e| match e {
        DbError::Postgres(source) => QueueError::Connect {
            url: shown.to_string(),
            source,
        },
        DbError::NoAnswer(secs) => QueueError::NoAnswer {
            url: shown.to_string(),
            secs,
        },
        other => QueueError::BadUrl {
            url: shown.to_string(),
            reason: other.to_string(),
        },
    })
}

impl JobQueue {
    /// Connects to the PostgreSQL database at `url` (`postgres://...`,
    /// giving up after 5 s) and creates the
    /// queue's table if needed.
    pub fn connect(url: &str) -> Result<JobQueue, QueueError> {
        let shown = redact(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(QueueError::BadUrl {
                url: shown,
                reason: "it does not start with postgres://".into(),
            });
        }
        let client = connect_pg(url, &shown)?;
        let mut queue = JobQueue { client, url: shown };
        queue.migrate()?;
        Ok(queue)
    }

    /// The database URL, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn sql(&self, what: &'static str) -> impl FnOnce(postgres::Error) -> QueueError + '_ {
        move |source| QueueError::Sql {
            url: self.url.clone(),
            what,
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), QueueError> {
        let url = self.url.clone();
        let err = |source| QueueError::Sql {
            url: url.clone(),
            what: "creating the queue table",
            source,
        };
        let mut tx = self.client.transaction().map_err(err)?;
        tx.batch_execute(schema::LOCK).map_err(err)?;
        tx.batch_execute(schema::CREATE).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Queues `job`; returns its id and whether it is new (`false`: a job
    /// with the same key was already queued, in whatever state, and its
    /// id is returned).
    pub fn enqueue(&mut self, job: &NewJob) -> Result<(i64, bool), QueueError> {
        let url = self.url.clone();
        let err = |source| QueueError::Sql {
            url: url.clone(),
            what: "queueing a job",
            source,
        };
        let inserted = self
            .client
            .query_opt(
                "INSERT INTO queue_jobs (kind, key, payload, priority, max_attempts) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING id",
                &[
                    &job.kind,
                    &job.key,
                    &job.payload,
                    &job.priority,
                    &job.max_attempts.max(1),
                ],
            )
            .map_err(err)?;
        if let Some(row) = inserted {
            return Ok((row.get(0), true));
        }
        let row = self
            .client
            .query_one("SELECT id FROM queue_jobs WHERE key = $1", &[&job.key])
            .map_err(err)?;
        Ok((row.get(0), false))
    }

    /// Takes the best job of one of `kinds` for `worker`, held for
    /// `lease_for`: the highest priority, then the oldest, among the
    /// queued jobs and the running ones whose lease has run out (their
    /// worker died). Jobs whose lease ran out on their last attempt are
    /// marked failed first. `None`: nothing to do.
    pub fn lease(
        &mut self,
        worker: &str,
        kinds: &[&str],
        lease_for: Duration,
    ) -> Result<Option<Lease>, QueueError> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let secs = lease_for.as_secs_f64();
        let url = self.url.clone();
        let err = |source| QueueError::Sql {
            url: url.clone(),
            what: "taking a job",
            source,
        };
        self.client
            .execute(
                "UPDATE queue_jobs SET state = 'failed', finished_at = now(), \
                 error = 'its worker stopped answering on its last attempt' \
                 WHERE state = 'running' AND lease_until < now() AND attempt >= max_attempts",
                &[],
            )
            .map_err(err)?;
        let row = self
            .client
            .query_opt(
                "UPDATE queue_jobs SET state = 'running', worker = $1, attempt = attempt + 1, \
                 lease_until = now() + make_interval(secs => $2), heartbeat_at = now() \
                 WHERE id = (SELECT id FROM queue_jobs \
                   WHERE kind = ANY($3) AND attempt < max_attempts \
                     AND (state = 'queued' OR (state = 'running' AND lease_until < now())) \
                   ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, kind, payload, attempt",
                &[&worker, &secs, &kinds],
            )
            .map_err(err)?;
        Ok(row.map(|r| Lease {
            id: r.get(0),
            kind: r.get(1),
            payload: r.get(2),
            attempt: r.get(3),
            worker: worker.to_string(),
        }))
    }

    /// Extends `lease` by `lease_for` from now. `false`: the lease is no
    /// longer this worker's (it ran out and another worker took the job,
    /// or the job was cancelled): stop working on it.
    pub fn heartbeat(&mut self, lease: &Lease, lease_for: Duration) -> Result<bool, QueueError> {
        let secs = lease_for.as_secs_f64();
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET lease_until = now() + make_interval(secs => $4), \
                 heartbeat_at = now() \
                 WHERE id = $1 AND worker = $2 AND attempt = $3 AND state = 'running'",
                &[&lease.id, &lease.worker, &lease.attempt, &secs],
            )
            .map_err(self.sql("extending a lease"))?;
        Ok(n == 1)
    }

    /// Stores `result` and marks the job done, if `lease` is still the
    /// current one. `false`: it is not (the result is dropped; the job's
    /// current holder, or its earlier one, stores the only result).
    pub fn complete(&mut self, lease: &Lease, result: &Value) -> Result<bool, QueueError> {
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET state = 'done', result = $4, error = NULL, \
                 finished_at = now(), lease_until = NULL \
                 WHERE id = $1 AND worker = $2 AND attempt = $3 AND state = 'running'",
                &[&lease.id, &lease.worker, &lease.attempt, result],
            )
            .map_err(self.sql("storing a job's result"))?;
        Ok(n == 1)
    }

    /// Records that `lease`'s attempt failed with `error`: the job is
    /// queued again if it has attempts left, else failed. `false`: the
    /// lease was not the current one (nothing changed).
    pub fn fail(&mut self, lease: &Lease, error: &str) -> Result<bool, QueueError> {
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET error = $4, lease_until = NULL, \
                 state = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END, \
                 finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END \
                 WHERE id = $1 AND worker = $2 AND attempt = $3 AND state = 'running'",
                &[&lease.id, &lease.worker, &lease.attempt, &error],
            )
            .map_err(self.sql("recording a failed job"))?;
        Ok(n == 1)
    }

    /// Gives `lease`'s job back unfinished (the worker is stopping): it is
    /// queued again and this attempt does not count. `false`: the lease
    /// was not the current one.
    pub fn release(&mut self, lease: &Lease) -> Result<bool, QueueError> {
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET state = 'queued', attempt = attempt - 1, \
                 lease_until = NULL \
                 WHERE id = $1 AND worker = $2 AND attempt = $3 AND state = 'running'",
                &[&lease.id, &lease.worker, &lease.attempt],
            )
            .map_err(self.sql("giving a job back"))?;
        Ok(n == 1)
    }

    /// Cancels a queued or running job (a running one's worker finds out
    /// at its next heartbeat and stops). `false`: it had already ended.
    pub fn cancel(&mut self, id: i64) -> Result<bool, QueueError> {
        self.get(id)?.ok_or(QueueError::NoSuchJob(id))?;
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET state = 'cancelled', finished_at = now(), \
                 lease_until = NULL WHERE id = $1 AND state IN ('queued', 'running')",
                &[&id],
            )
            .map_err(self.sql("cancelling a job"))?;
        Ok(n == 1)
    }

    /// Queues a failed or cancelled job again, with its attempts reset.
    /// `false`: it was not failed or cancelled.
    pub fn retry(&mut self, id: i64) -> Result<bool, QueueError> {
        self.get(id)?.ok_or(QueueError::NoSuchJob(id))?;
        let n = self
            .client
            .execute(
                "UPDATE queue_jobs SET state = 'queued', attempt = 0, error = NULL, \
                 worker = NULL, finished_at = NULL, lease_until = NULL \
                 WHERE id = $1 AND state IN ('failed', 'cancelled')",
                &[&id],
            )
            .map_err(self.sql("retrying a job"))?;
        Ok(n == 1)
    }

    /// One job.
    pub fn get(&mut self, id: i64) -> Result<Option<JobRow>, QueueError> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM queue_jobs WHERE id = $1"),
                &[&id],
            )
            .map_err(self.sql("reading a job"))?;
        row.map(|r| self.job_row(&r)).transpose()
    }

    /// The jobs (of `kind`, if given), in the order workers take them:
    /// running, then queued by priority, then ended ones, newest first.
    pub fn list(&mut self, kind: Option<&str>) -> Result<Vec<JobRow>, QueueError> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM queue_jobs WHERE ($1::TEXT IS NULL OR kind = $1) \
                     ORDER BY CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, \
                     CASE WHEN state IN ('running', 'queued') THEN -priority ELSE 0 END, \
                     CASE WHEN state IN ('running', 'queued') THEN id ELSE -id END"
                ),
                &[&kind],
            )
            .map_err(self.sql("listing jobs"))?;
        rows.iter().map(|r| self.job_row(r)).collect()
    }

    /// How many jobs are in each state.
    pub fn counts(&mut self) -> Result<QueueCounts, QueueError> {
        let rows = self
            .client
            .query("SELECT state, count(*) FROM queue_jobs GROUP BY state", &[])
            .map_err(self.sql("counting jobs"))?;
        let mut counts = QueueCounts::default();
        for r in rows {
            let n: i64 = r.get(1);
            match JobState::parse(r.get(0)) {
                Some(JobState::Queued) => counts.queued = n,
                Some(JobState::Running) => counts.running = n,
                Some(JobState::Done) => counts.done = n,
                Some(JobState::Failed) => counts.failed = n,
                Some(JobState::Cancelled) => counts.cancelled = n,
                None => {}
            }
        }
        Ok(counts)
    }

    fn job_row(&self, r: &Row) -> Result<JobRow, QueueError> {
        let id: i64 = r.get(0);
        let state: String = r.get(5);
        let state = JobState::parse(&state).ok_or_else(|| QueueError::UnknownState {
            url: self.url.clone(),
            id,
            state,
        })?;
        Ok(JobRow {
            id,
            kind: r.get(1),
            key: r.get(2),
            payload: r.get(3),
            priority: r.get(4),
            state,
            attempt: r.get(6),
            max_attempts: r.get(7),
            worker: r.get(8),
            lease_until: r.get(9),
            heartbeat_at: r.get(10),
            result: r.get(11),
            error: r.get(12),
            created_at: r.get(13),
            finished_at: r.get(14),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            redact("postgres://ann:s3cret@db.lan:5432/ads"),
            "postgres://ann:***@db.lan:5432/ads"
        );
        assert_eq!(redact("postgres://ann@db/ads"), "postgres://ann@db/ads");
        assert_eq!(redact("postgres:///ads"), "postgres:///ads");
    }

    #[test]
    fn states_round_trip_and_unknown_names_are_refused() {
        for s in ["queued", "running", "done", "failed", "cancelled"] {
            assert_eq!(JobState::parse(s).map(JobState::as_str), Some(s));
        }
        assert_eq!(JobState::parse("paused"), None);
    }

    #[test]
    fn a_non_postgres_url_is_refused_without_connecting() {
        let err = JobQueue::connect("sqlite:///tmp/x.db").unwrap_err();
        assert!(matches!(err, QueueError::BadUrl { .. }), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}
