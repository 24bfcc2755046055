//! The PostgreSQL job queue (`adstudio::queue`) on a real server: leases
//! never shared, priorities, idempotent enqueue, expired leases taken
//! again, results stored once, heartbeats, cancel and retry.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use adstudio::queue::{JobQueue, JobState, NewJob, QueueError};
use serde_json::json;

use crate::common::pg_queue_db::TestDb;

fn job(n: i64, priority: i32) -> NewJob {
    NewJob {
        kind: "test".into(),
        key: Some(format!("job-{n}")),
        payload: json!({ "n": n }),
        priority,
        max_attempts: 3,
    }
}

const LONG: Duration = Duration::from_secs(60);

/// 4 workers, each on its own connection, drain 40 jobs at once: every
/// job is taken by exactly one worker and ends done.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn concurrent_workers_never_take_the_same_job() {
    let db = TestDb::new("q_concurrent");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let ids: HashSet<i64> = (0..40).map(|n| q.enqueue(&job(n, 0)).unwrap().0).collect();
    assert_eq!(ids.len(), 40);
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut q = JobQueue::connect(&url).unwrap();
                let mut taken = Vec::new();
                while let Some(lease) = q.lease(&format!("w{w}"), &["test"], LONG).unwrap() {
                    assert!(q.complete(&lease, &json!({ "by": w })).unwrap());
                    taken.push(lease.id);
                }
                taken
            })
        })
        .collect();
    let taken: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let unique: HashSet<i64> = taken.iter().copied().collect();
    assert_eq!(taken.len(), 40, "a job was taken twice or not at all");
    assert_eq!(unique, ids);
    let counts = q.counts().unwrap();
    assert_eq!((counts.done, counts.queued, counts.running), (40, 0, 0));
}

/// Higher priority first; equal priorities in the order queued; other
/// kinds are left alone.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn jobs_are_taken_by_priority_then_age() {
    let db = TestDb::new("q_priority");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let low = q.enqueue(&job(1, 0)).unwrap().0;
    let high = q.enqueue(&job(2, 5)).unwrap().0;
    let low2 = q.enqueue(&job(3, 0)).unwrap().0;
    let other = q
        .enqueue(&NewJob {
            kind: "other".into(),
            ..job(4, 9)
        })
        .unwrap()
        .0;
    let order: Vec<i64> = std::iter::from_fn(|| q.lease("w", &["test"], LONG).unwrap())
        .map(|l| l.id)
        .collect();
    assert_eq!(order, vec![high, low, low2]);
    assert_eq!(q.get(other).unwrap().unwrap().state, JobState::Queued);
}

/// Queueing the same key twice gives the first job back, whatever its
/// state, and adds no row.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn the_same_key_is_queued_once() {
    let db = TestDb::new("q_key");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let (id, new) = q.enqueue(&job(7, 0)).unwrap();
    assert!(new);
    let lease = q.lease("w", &["test"], LONG).unwrap().unwrap();
    q.complete(&lease, &json!(1)).unwrap();
    let (again, new) = q.enqueue(&job(7, 3)).unwrap();
    assert_eq!((again, new), (id, false));
    assert_eq!(q.list(None).unwrap().len(), 1);
    assert_eq!(q.get(id).unwrap().unwrap().state, JobState::Done);
}

/// A worker that stops sending heartbeats loses its job when the lease
/// runs out: another worker takes it (attempt 2), and the first can
/// neither extend it nor store a result; the second's result is the one
/// stored.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn an_expired_lease_is_taken_again_and_its_old_holder_cannot_finish() {
    let db = TestDb::new("q_expire");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let id = q.enqueue(&job(1, 0)).unwrap().0;
    let dead = q
        .lease("dead", &["test"], Duration::from_millis(400))
        .unwrap()
        .unwrap();
    assert_eq!(
        q.lease("live", &["test"], LONG).unwrap(),
        None,
        "still leased"
    );
    std::thread::sleep(Duration::from_millis(700));
    let live = q.lease("live", &["test"], LONG).unwrap().unwrap();
    assert_eq!((live.id, live.attempt), (id, 2));
    assert!(!q.heartbeat(&dead, LONG).unwrap());
    assert!(!q.complete(&dead, &json!("dead")).unwrap());
    assert!(!q.fail(&dead, "late").unwrap());
    assert!(q.complete(&live, &json!("live")).unwrap());
    let row = q.get(id).unwrap().unwrap();
    assert_eq!(row.state, JobState::Done);
    assert_eq!(row.result, Some(json!("live")));
    assert_eq!(row.worker.as_deref(), Some("live"));
}

/// Heartbeats keep a short lease alive past its first end.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn heartbeats_keep_the_lease() {
    let db = TestDb::new("q_heartbeat");
    let mut q = JobQueue::connect(&db.url).unwrap();
    q.enqueue(&job(1, 0)).unwrap();
    let short = Duration::from_millis(500);
    let lease = q.lease("a", &["test"], short).unwrap().unwrap();
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert!(q.heartbeat(&lease, short).unwrap());
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(q.lease("b", &["test"], LONG).unwrap(), None);
    }
    assert!(q.complete(&lease, &json!(null)).unwrap());
}

/// A job whose lease runs out on its last attempt is failed, not taken.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn the_last_attempt_running_out_fails_the_job() {
    let db = TestDb::new("q_last");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let id = q
        .enqueue(&NewJob {
            max_attempts: 1,
            ..job(1, 0)
        })
        .unwrap()
        .0;
    q.lease("dead", &["test"], Duration::from_millis(300))
        .unwrap()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(q.lease("live", &["test"], LONG).unwrap(), None);
    let row = q.get(id).unwrap().unwrap();
    assert_eq!(row.state, JobState::Failed);
    assert!(row.error.unwrap().contains("stopped answering"));
}

/// A failed attempt queues the job again until its attempts are used;
/// retry queues a failed job with its attempts reset; cancel stops a
/// queued or running job (its worker's heartbeat then says so), and an
/// ended job cannot be cancelled; a released job is queued again without
/// using an attempt; unknown ids are named.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn fail_retry_and_cancel() {
    let db = TestDb::new("q_states");
    let mut q = JobQueue::connect(&db.url).unwrap();
    let id = q
        .enqueue(&NewJob {
            max_attempts: 2,
            ..job(1, 0)
        })
        .unwrap()
        .0;
    let first = q.lease("w", &["test"], LONG).unwrap().unwrap();
    assert!(q.fail(&first, "boom 1").unwrap());
    assert_eq!(q.get(id).unwrap().unwrap().state, JobState::Queued);
    let second = q.lease("w", &["test"], LONG).unwrap().unwrap();
    assert_eq!(second.attempt, 2);
    assert!(q.fail(&second, "boom 2").unwrap());
    let row = q.get(id).unwrap().unwrap();
    assert_eq!(
        (row.state, row.error.as_deref()),
        (JobState::Failed, Some("boom 2"))
    );
    assert!(q.retry(id).unwrap());
    let row = q.get(id).unwrap().unwrap();
    assert_eq!((row.state, row.attempt), (JobState::Queued, 0));
    let running = q.lease("w", &["test"], LONG).unwrap().unwrap();
    assert!(q.cancel(id).unwrap());
    assert!(
        !q.heartbeat(&running, LONG).unwrap(),
        "the worker learns of the cancel"
    );
    assert!(!q.complete(&running, &json!(1)).unwrap());
    assert_eq!(q.get(id).unwrap().unwrap().state, JobState::Cancelled);
    assert!(!q.cancel(id).unwrap(), "already ended");
    assert!(q.retry(id).unwrap());
    let stopping = q.lease("w", &["test"], LONG).unwrap().unwrap();
    assert!(q.release(&stopping).unwrap());
    let row = q.get(id).unwrap().unwrap();
    assert_eq!(
        (row.state, row.attempt),
        (JobState::Queued, 0),
        "a release costs no attempt"
    );
    assert!(matches!(
        q.cancel(999_999),
        Err(QueueError::NoSuchJob(999_999))
    ));
    assert!(matches!(
        q.retry(999_999),
        Err(QueueError::NoSuchJob(999_999))
    ));
}

/// No server at the address: a clear error naming the URL (without its
/// password) well within 10 seconds, never a hang.
#[test]
fn an_unreachable_server_fails_fast_and_names_the_url() {
    let started = Instant::now();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://ann:s3cret@127.0.0.1:{port}/ads");
    let err = JobQueue::connect(&url).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, QueueError::Connect { .. }), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A server that accepts the connection but never answers (a dead host
/// behind a live port): the connect timeout gives up within 10 seconds.
#[test]
fn a_silent_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let err = JobQueue::connect(&format!("postgres://ann@127.0.0.1:{port}/ads")).unwrap_err();
    assert!(matches!(err, QueueError::NoAnswer { .. }), "{err}");
    assert!(err.to_string().contains("did not answer"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}
