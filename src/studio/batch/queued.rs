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
use super::job_models::{located_model_ids, model_mismatch};
use super::{run_product, BatchEvent, BatchJob, BatchSettings, Catalog, CatalogRow, ProductReport};
use crate::render::ModelIds;

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
    /// The diffusion models the queueing machine would render with; a
    /// worker with others gives the job back (`None`: any worker's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<ModelIds>,
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

/// Queues one job per usable row of `job`'s catalog, at `priority`, for
/// workers with the models `requires` (`None`: any).
pub fn enqueue_batch(
    queue: &mut JobQueue,
    job: &BatchJob,
    priority: i32,
    requires: Option<&ModelIds>,
) -> anyhow::Result<Vec<QueuedProduct>> {
    job.catalog
        .rows
        .iter()
        .map(|row| {
            let task = ProductTask {
                row: row.clone(),
                settings: job.settings.clone(),
                out: job.out.clone(),
                requires: requires.cloned(),
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
    /// This worker's models differ from the job's: it went back to the
    /// queue with `reason` (no attempt used).
    GaveBack {
        /// The job.
        job: i64,
        /// Why (both models named).
        reason: String,
    },
    /// The queue's database was lost; the worker tries again after
    /// `retry_in`.
    QueueLost {
        /// What failed.
        error: String,
        /// The wait before the next try.
        retry_in: Duration,
    },
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
    /// Whether the worker stopped because nothing was left to do.
    pub idle: bool,
}

/// Extends a lease from its own connection until stopped; cancels the
/// job's token when the lease is lost or the worker is told to stop.
struct Heartbeat {
    /// Dropped to stop the thread (it wakes at once).
    done: Option<crossbeam_channel::Sender<()>>,
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
        let (done, done_rx) = crossbeam_channel::bounded::<()>(0);
        let lost = Arc::new(AtomicBool::new(false));
        let (lease, stop, job) = (lease.clone(), stop.clone(), job.clone());
        let lost2 = lost.clone();
        let every = lease_for / 3;
        let thread = std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_millis(50))
            {
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
            done: Some(done),
            lost,
            thread: Some(thread),
        })
    }

    /// Stops the heartbeats (at once); whether the lease was lost
    /// meanwhile.
    fn stop(mut self) -> bool {
        drop(self.done.take());
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
///
/// The queue unreachable at start is an error; lost later (the server
/// restarted, the network dropped), the worker says so
/// ([`WorkerEvent::QueueLost`]) and tries again with backoff (1 s doubling
/// to 30 s) until it is back. A job it held meanwhile comes back to the
/// queue when its lease runs out; its finished renders are reused.
pub fn run_worker(
    studio: &mut Studio,
    url: &str,
    opts: &WorkerOptions,
    stop: &CancelToken,
    on_event: &dyn Fn(WorkerEvent),
    on_progress: &dyn Fn(Progress),
) -> anyhow::Result<WorkerSummary> {
    let mut summary = WorkerSummary::default();
    let mut run = |queue: &mut JobQueue, lease: &Lease, summary: &mut WorkerSummary| {
        run_one(
            studio,
            queue,
            url,
            opts,
            stop,
            lease,
            on_event,
            on_progress,
            summary,
        )
    };
    worker_loop(url, opts, &[KIND], stop, on_event, &mut summary, &mut run)?;
    Ok(summary)
}

/// What a worker loop runs per leased job; `true`: the job was given back
/// (this worker cannot run it), so the worker passes it over for a while.
type RunJob<'a> = dyn FnMut(&mut JobQueue, &Lease, &mut WorkerSummary) -> anyhow::Result<bool> + 'a;

/// How long a worker passes over a job it gave back (its models may be
/// installed meanwhile).
const SKIP_GIVEN_BACK: Duration = Duration::from_secs(60);

/// Leases jobs of `kinds` and runs each with `run` until `stop`, the job
/// limit or (with `exit_when_idle`) an idle queue; reconnects with backoff
/// when the queue is lost.
fn worker_loop(
    url: &str,
    opts: &WorkerOptions,
    kinds: &[&str],
    stop: &CancelToken,
    on_event: &dyn Fn(WorkerEvent),
    summary: &mut WorkerSummary,
    run: &mut RunJob<'_>,
) -> anyhow::Result<()> {
    let mut queue = JobQueue::connect(url)?;
    let mut backoff = Backoff::default();
    let mut skip: Vec<(i64, std::time::Instant)> = Vec::new();
    while !stop.is_cancelled() && opts.max_jobs.is_none_or(|m| summary.finished < m) {
        skip.retain(|(_, at)| at.elapsed() < SKIP_GIVEN_BACK);
        let step = worker_step(&mut queue, opts, kinds, stop, summary, &mut skip, run);
        match step {
            Ok(()) => backoff.reset(),
            Err(e) if queue_lost(&e) => {
                let wait = backoff.next_wait();
                on_event(WorkerEvent::QueueLost {
                    error: format!("{e:#}"),
                    retry_in: wait,
                });
                sleep_unless(stop, wait);
                match JobQueue::connect(url) {
                    Ok(q) => queue = q,
                    Err(e) => log::warn!("the queue is still unreachable: {e}"),
                }
            }
            Err(e) => return Err(e),
        }
        if opts.exit_when_idle && summary.idle {
            break;
        }
    }
    Ok(())
}

/// One turn of the loop: a job run, or a wait when none is queued
/// (`summary.idle` set when nothing is left and the worker may exit).
fn worker_step(
    queue: &mut JobQueue,
    opts: &WorkerOptions,
    kinds: &[&str],
    stop: &CancelToken,
    summary: &mut WorkerSummary,
    skip: &mut Vec<(i64, std::time::Instant)>,
    run: &mut RunJob<'_>,
) -> anyhow::Result<()> {
    let passed: Vec<i64> = skip.iter().map(|(id, _)| *id).collect();
    let Some(lease) = queue.lease_skipping(&opts.name, kinds, opts.lease, &passed)? else {
        if opts.exit_when_idle && nothing_left(queue)? {
            summary.idle = true;
            return Ok(());
        }
        sleep_unless(stop, opts.poll);
        return Ok(());
    };
    if run(queue, &lease, summary)? {
        skip.push((lease.id, std::time::Instant::now()));
    }
    Ok(())
}

/// Whether `e` is the queue's connection lost (worth waiting for), not a
/// refused statement or a failed job.
fn queue_lost(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<QueueError>()
            .is_some_and(QueueError::is_connection_lost)
    })
}

/// Waits between reconnects: 1 s, doubling to 30 s.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_secs(1);
    const MOST: Duration = Duration::from_secs(30);

    fn next_wait(&mut self) -> Duration {
        let wait = Self::FIRST
            .saturating_mul(1u32 << self.failures.min(5))
            .min(Self::MOST);
        self.failures += 1;
        wait
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
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

/// Runs one leased job and records how it ended; `true` when this worker
/// gave it back (its models differ from the job's).
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
) -> anyhow::Result<bool> {
    let task: ProductTask = match serde_json::from_value(lease.payload.clone()) {
        Ok(t) => t,
        Err(e) => {
            let error = format!("the job's payload is not a batch task: {e}");
            record(
                queue,
                lease,
                Err(anyhow::anyhow!(error)),
                false,
                stop,
                on_event,
                summary,
            )?;
            return Ok(false);
        }
    };
    let here = located_model_ids(|role| {
        studio
            .models
            .locate(role)
            .map(|l| l.path)
            .map_err(|e| e.to_string())
    });
    if let Some(reason) = model_mismatch(task.requires.as_ref(), &here, &opts.name) {
        queue.give_back(lease, &reason)?;
        on_event(WorkerEvent::GaveBack {
            job: lease.id,
            reason,
        });
        return Ok(true);
    }
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
    record(queue, lease, outcome, lost, stop, on_event, summary)?;
    Ok(false)
}

/// Stores how a job's run ended: its result, its failure, or nothing
/// (the lease was lost; the worker is stopping: the job goes back).
fn record(
    queue: &mut JobQueue,
    lease: &Lease,
    outcome: anyhow::Result<ProductReport>,
    lost: bool,
    stop: &CancelToken,
    on_event: &dyn Fn(WorkerEvent),
    summary: &mut WorkerSummary,
) -> anyhow::Result<()> {
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

/// The job kind of `adstudio bench queue`'s no-op jobs.
pub const NOOP_KIND: &str = "bench-noop";

/// Takes `bench-noop` jobs until none is queued and completes each with an
/// empty result, through the same lease, heartbeat and guarded-complete
/// path as a product job (so its time per job is the queue's overhead per
/// render job). Returns the jobs it completed.
///
/// It stops once no job is queued or running, and rides out a lost queue
/// as [`run_worker`] does (`on_event` hears of it).
pub fn run_noop_worker(
    url: &str,
    name: &str,
    lease_for: Duration,
    on_event: &dyn Fn(WorkerEvent),
) -> anyhow::Result<usize> {
    let opts = WorkerOptions {
        name: name.to_string(),
        lease: lease_for,
        poll: Duration::from_millis(20),
        max_jobs: None,
        exit_when_idle: true,
        out: None,
        data_root: PathBuf::new(),
    };
    let stop = CancelToken::new();
    let mut summary = WorkerSummary::default();
    let mut run = |queue: &mut JobQueue, lease: &Lease, summary: &mut WorkerSummary| {
        let job = CancelToken::new();
        let beat = Heartbeat::start(url, lease, lease_for, &stop, &job)?;
        let lost = beat.stop();
        if !lost && queue.complete(lease, &serde_json::json!({}))? {
            summary.finished += 1;
        } else {
            summary.lost += 1;
        }
        Ok(false)
    };
    worker_loop(
        url,
        &opts,
        &[NOOP_KIND],
        &stop,
        on_event,
        &mut summary,
        &mut run,
    )?;
    Ok(summary.finished)
}
