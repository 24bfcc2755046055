//! The catalog batch as jobs of the PostgreSQL queue ([`crate::queue`]):
//! one job per product, taken by `adstudio worker` processes on any number
//! of machines. A worker runs a job exactly as `adstudio batch` runs a row
//! ([`run_product`]): everything goes to the store, and finished renders
//! are found there again, so a job retried after its worker died reuses
//! them instead of rendering twice. The product's report (winners,
//! timings, models) is the job's result, from which `batch --queue --wait`
//! writes `winners.csv` and `index.html`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::jobs::{CancelToken, InlineReporter};
use crate::queue::{JobQueue, JobState, Lease, NewJob, QueueError};

use super::super::progress::Progress;
use super::super::Studio;
use super::{run_product, BatchEvent, BatchJob, BatchSettings, Catalog, CatalogRow, ProductReport};

/// The kind of a batch product's job.
pub const KIND: &str = "batch-product";

/// What a batch product's job carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductTask {
    /// The catalog row (its image path must be readable by the workers).
    pub row: CatalogRow,
    /// The batch settings.
    pub settings: BatchSettings,
    /// The output folder (shared by the workers, or each worker's own).
    pub out: PathBuf,
}

impl ProductTask {
    /// The job's key: the same product of the same batch (output folder,
    /// row and settings) is queued once, however often the batch is.
    pub fn key(&self) -> anyhow::Result<String> {
        let text = serde_json::to_string(self).context("serialising a batch task")?;
        let hash = Sha256::digest(text.as_bytes());
        let short: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(format!("batch:{}:{short}", self.row.id))
    }
}

/// A product's job, as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedProduct {
    /// The job.
    pub job: i64,
    /// The product's catalog id.
    pub product: String,
    /// `false`: the job was already queued by an earlier run.
    pub new: bool,
}

/// Queues one job per usable row of `job`'s catalog, at `priority`.
pub fn enqueue_batch(
    queue: &mut JobQueue,
    job: &BatchJob,
    priority: i32,
) -> anyhow::Result<Vec<QueuedProduct>> {
    job.catalog
        .rows
        .iter()
        .map(|row| {
            let task = ProductTask {
                row: row.clone(),
                settings: job.settings.clone(),
                out: job.out.clone(),
            };
            let new_job = NewJob {
                kind: KIND.into(),
                key: Some(task.key()?),
                payload: serde_json::to_value(&task)?,
                priority,
                max_attempts: 3,
            };
            let (id, new) = queue.enqueue(&new_job)?;
            Ok(QueuedProduct {
                job: id,
                product: row.id.clone(),
                new,
            })
        })
        .collect()
}

/// Where a queued batch stands.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Finished products' reports, in the order given.
    pub reports: Vec<ProductReport>,
    /// Failed or cancelled products: id and why.
    pub failed: Vec<(String, String)>,
    /// Products still queued or running.
    pub pending: usize,
}

/// Reads the jobs of `queued` back.
pub fn collect(queue: &mut JobQueue, queued: &[QueuedProduct]) -> anyhow::Result<Collected> {
    let mut out = Collected::default();
    for q in queued {
        let row = queue.get(q.job)?.ok_or(QueueError::NoSuchJob(q.job))?;
        match row.state {
            JobState::Done => {
                let result = row.result.unwrap_or_default();
                let report: ProductReport = serde_json::from_value(result)
                    .with_context(|| format!("reading job {}'s result", q.job))?;
                out.reports.push(report);
            }
            JobState::Failed | JobState::Cancelled => out.failed.push((
                q.product.clone(),
                row.error.unwrap_or_else(|| row.state.as_str().to_string()),
            )),
            JobState::Queued | JobState::Running => out.pending += 1,
        }
    }
    Ok(out)
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name in the queue (host and process by default).
    pub name: String,
    /// How long a lease lasts without a heartbeat (a dead worker's job is
    /// taken again after this); heartbeats come every third of it.
    pub lease: Duration,
    /// How long to wait before asking again when the queue is empty.
    pub poll: Duration,
    /// Stop after this many jobs (`None`: run until stopped).
    pub max_jobs: Option<usize>,
    /// Stop once no job is queued or running (one whose worker died is
    /// waited for: it comes back when its lease runs out).
    pub exit_when_idle: bool,
    /// Write winners here instead of each job's output folder.
    pub out: Option<PathBuf>,
    /// This worker's data directory (its adapter files).
    pub data_root: PathBuf,
}

/// What a worker reports as it goes.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// It took a job.
    Took {
        /// The job.
        job: i64,
        /// The product.
        product: String,
        /// Which attempt (more than 1: an earlier worker did not finish).
        attempt: i32,
    },
    /// A job is done and its result stored.
    Finished {
        /// The job.
        job: i64,
        /// The finished product.
        report: Box<ProductReport>,
    },
    /// A job failed on this worker.
    Failed {
        /// The job.
        job: i64,
        /// Why.
        error: String,
    },
    /// The job was cancelled or taken over while this worker ran it: its
    /// work stopped and nothing of it was reported.
    Lost {
        /// The job.
        job: i64,
    },
    /// A batch event of the running job.
    Batch(BatchEvent),
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Jobs finished.
    pub finished: usize,
    /// Jobs failed.
    pub failed: usize,
    /// Jobs lost (cancelled or taken over).
    pub lost: usize,
}

/// Extends a lease from its own connection until dropped; cancels the
/// job's token when the lease is lost or the worker is told to stop.
struct Heartbeat {
    done: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    fn start(
        url: &str,
        lease: &Lease,
        lease_for: Duration,
        stop: &CancelToken,
        job: &CancelToken,
    ) -> Result<Heartbeat, QueueError> {
        let mut queue = JobQueue::connect(url)?;
        let (done, lost) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (lease, stop, job) = (lease.clone(), stop.clone(), job.clone());
        let (done2, lost2) = (done.clone(), lost.clone());
        let every = lease_for / 3;
        let thread = std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            while !done2.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
                if stop.is_cancelled() {
                    job.cancel();
                }
                if last.elapsed() < every {
                    continue;
                }
                last = std::time::Instant::now();
                if !matches!(queue.heartbeat(&lease, lease_for), Ok(true)) {
                    log::warn!("job {}: lease lost, stopping its work", lease.id);
                    lost2.store(true, Ordering::SeqCst);
                    job.cancel();
                    return;
                }
            }
        });
        Ok(Heartbeat {
            done,
            lost,
            thread: Some(thread),
        })
    }

    /// Stops the heartbeats; whether the lease was lost meanwhile.
    fn stop(mut self) -> bool {
        self.done.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.lost.load(Ordering::SeqCst)
    }
}

/// Runs jobs from the queue at `url` until `stop` is cancelled (a job in
/// progress is then given back unfinished, its finished renders kept in
/// the store), `max_jobs` are done, or the queue is empty and
/// `exit_when_idle` is set.
pub fn run_worker(
    studio: &mut Studio,
    url: &str,
    opts: &WorkerOptions,
    stop: &CancelToken,
    on_event: &dyn Fn(WorkerEvent),
    on_progress: &dyn Fn(Progress),
) -> anyhow::Result<WorkerSummary> {
    let mut queue = JobQueue::connect(url)?;
    let mut summary = WorkerSummary::default();
    while !stop.is_cancelled() && opts.max_jobs.is_none_or(|m| summary.finished < m) {
        let Some(lease) = queue.lease(&opts.name, &[KIND], opts.lease)? else {
            if opts.exit_when_idle && nothing_left(&mut queue)? {
                break;
            }
            sleep_unless(stop, opts.poll);
            continue;
        };
        run_one(
            studio,
            &mut queue,
            url,
            opts,
            stop,
            &lease,
            on_event,
            on_progress,
            &mut summary,
        )?;
    }
    Ok(summary)
}

/// Whether no job is queued or running (a running job may still come back
/// if its worker dies, so an idle worker waits for it).
fn nothing_left(queue: &mut JobQueue) -> Result<bool, QueueError> {
    let c = queue.counts()?;
    Ok(c.queued == 0 && c.running == 0)
}

/// Waits `d`, waking early when `stop` is cancelled.
fn sleep_unless(stop: &CancelToken, d: Duration) {
    let end = std::time::Instant::now() + d;
    while !stop.is_cancelled() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs one leased job and records how it ended.
#[allow(clippy::too_many_arguments)]
fn run_one(
    studio: &mut Studio,
    queue: &mut JobQueue,
    url: &str,
    opts: &WorkerOptions,
    stop: &CancelToken,
    lease: &Lease,
    on_event: &dyn Fn(WorkerEvent),
    on_progress: &dyn Fn(Progress),
    summary: &mut WorkerSummary,
) -> anyhow::Result<()> {
    let task: ProductTask = match serde_json::from_value(lease.payload.clone()) {
        Ok(t) => t,
        Err(e) => {
            let error = format!("the job's payload is not a batch task: {e}");
            queue.fail(lease, &error)?;
            summary.failed += 1;
            on_event(WorkerEvent::Failed {
                job: lease.id,
                error,
            });
            return Ok(());
        }
    };
    on_event(WorkerEvent::Took {
        job: lease.id,
        product: task.row.id.clone(),
        attempt: lease.attempt,
    });
    let job_cancel = CancelToken::new();
    let beat = Heartbeat::start(url, lease, opts.lease, stop, &job_cancel)?;
    let job = BatchJob {
        catalog: Catalog::default(),
        settings: task.settings.clone(),
        out: opts.out.clone().unwrap_or_else(|| task.out.clone()),
        data_root: opts.data_root.clone(),
    };
    let rep = InlineReporter::with_cancel(on_progress, job_cancel.clone());
    let forward = |e: BatchEvent| on_event(WorkerEvent::Batch(e));
    let outcome = run_product(studio, &rep, &job, &task.row, &forward);
    let lost = beat.stop();
    match outcome {
        _ if lost => {
            summary.lost += 1;
            on_event(WorkerEvent::Lost { job: lease.id });
        }
        Err(_) if stop.is_cancelled() => {
            queue.release(lease)?;
        }
        Ok(report) => {
            if queue.complete(lease, &serde_json::to_value(&report)?)? {
                summary.finished += 1;
                on_event(WorkerEvent::Finished {
                    job: lease.id,
                    report: Box::new(report),
                });
            } else {
                summary.lost += 1;
                on_event(WorkerEvent::Lost { job: lease.id });
            }
        }
        Err(e) => {
            let error = format!("{e:#}");
            queue.fail(lease, &error)?;
            summary.failed += 1;
            on_event(WorkerEvent::Failed {
                job: lease.id,
                error,
            });
        }
    }
    Ok(())
}
