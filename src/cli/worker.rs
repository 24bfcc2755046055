//! `adstudio worker --store postgres://...`: a headless worker that takes
//! catalog-batch jobs from the team's queue (see
//! [`crate::studio::batch::queued`]) until stopped. Ctrl-C gives the job in
//! progress back (its finished renders stay in the store) and exits 130.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::jobs::CancelToken;
use crate::paths::DataDir;
use crate::studio::batch::queued::{run_worker, WorkerEvent, WorkerOptions};
use crate::studio::{registry_for, ModelHub, Studio};

use super::interrupt::{cancel_on_ctrl_c, INTERRUPTED_EXIT};

/// Arguments of `adstudio worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The worker's name in the queue (default: host name and process id).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds a job stays leased without a heartbeat; a job whose worker
    /// died is taken again after this (heartbeats come every third).
    #[arg(long, default_value_t = 60.0)]
    pub lease_secs: f64,
    /// Seconds between looks at an empty queue.
    #[arg(long, default_value_t = 2.0)]
    pub poll_secs: f64,
    /// Stop after this many finished jobs.
    #[arg(long)]
    pub max_jobs: Option<usize>,
    /// Stop once no job is queued or running (instead of waiting for
    /// more); a job whose worker died is waited for.
    #[arg(long)]
    pub exit_when_idle: bool,
    /// Write winners under this folder instead of each job's `--out`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The default worker name: host and process.
fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// Prints what the worker does, a line per event.
fn print_event(e: WorkerEvent) {
    match e {
        WorkerEvent::Took {
            job,
            product,
            attempt,
        } => println!("job {job}: {product} (attempt {attempt})"),
        WorkerEvent::Finished { job, report } => println!(
            "job {job}: {} done, {} new render(s), {} reused",
            report.id, report.new_renders, report.reused_renders
        ),
        WorkerEvent::Failed { job, error } => eprintln!("job {job}: failed: {error}"),
        WorkerEvent::Lost { job } => {
            eprintln!("job {job}: cancelled or taken over by another worker; its work stopped")
        }
        WorkerEvent::Batch(_) => {}
    }
}

/// Runs `adstudio worker`; returns the exit status.
pub fn run_worker_cmd(
    args: &WorkerArgs,
    store: Option<&str>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let url = store.context(
        "a worker needs the team's PostgreSQL store: --store postgres://... (or ADSTUDIO_STORE)",
    )?;
    let data = DataDir::resolve(data_dir).context("finding the data directory")?;
    let hub = Arc::new(ModelHub::new(registry_for(Some(&data))));
    let mut studio = Studio::open(&data, hub)?;
    let opts = WorkerOptions {
        name: args.name.clone().unwrap_or_else(default_name),
        lease: Duration::from_secs_f64(args.lease_secs.max(0.5)),
        poll: Duration::from_secs_f64(args.poll_secs.max(0.05)),
        max_jobs: args.max_jobs,
        exit_when_idle: args.exit_when_idle,
        out: args.out.clone(),
        data_root: data.root().to_path_buf(),
    };
    let stop = CancelToken::new();
    cancel_on_ctrl_c(stop.clone(), "the job in progress goes back to the queue")?;
    println!("worker {} on {}", opts.name, crate::queue::redact(url));
    let summary = run_worker(&mut studio, url, &opts, &stop, &print_event, &|_| ())?;
    println!(
        "jobs: {} finished, {} failed, {} lost",
        summary.finished, summary.failed, summary.lost
    );
    Ok(if stop.is_cancelled() {
        INTERRUPTED_EXIT
    } else {
        0
    })
}
