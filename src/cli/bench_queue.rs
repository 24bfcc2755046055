//! `adstudio bench queue`: how many jobs per second the team queue
//! sustains with no-op jobs and N worker processes on this machine, and
//! its overhead per render job (one worker: lease, heartbeat connection,
//! guarded complete). Needs a PostgreSQL store (`--store postgres://...`);
//! its jobs are of their own kind and removed before and after.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::bench_diffusion::load_average;
use crate::queue::{redact, JobQueue, NewJob};
use crate::studio::batch::queued::{run_noop_worker, NOOP_KIND};

/// The lease of a no-op job (it never needs a heartbeat).
const LEASE: Duration = Duration::from_secs(60);

/// What `bench queue` runs.
#[derive(Debug, Clone)]
pub struct QueueBenchOptions {
    /// The PostgreSQL store.
    pub url: String,
    /// No-op jobs per row.
    pub jobs: usize,
    /// Worker processes per row (one row each).
    pub workers: Vec<usize>,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
struct Row {
    workers: usize,
    enqueue: Duration,
    drain: Duration,
}

/// Runs the benchmark and prints its table.
pub fn bench_queue(opts: &QueueBenchOptions) -> anyhow::Result<()> {
    let mut queue = JobQueue::connect(&opts.url)?;
    queue.purge_kind(NOOP_KIND)?;
    let load_before = load_average();
    let mut rows = Vec::new();
    for &workers in &opts.workers {
        let row = bench_row(&mut queue, opts, workers.max(1));
        queue.purge_kind(NOOP_KIND)?;
        rows.push(row?);
    }
    print_table(opts, &rows);
    println!(
        "load average (1 min): {load_before} before the rows, {} after",
        load_average()
    );
    Ok(())
}

fn bench_row(
    queue: &mut JobQueue,
    opts: &QueueBenchOptions,
    workers: usize,
) -> anyhow::Result<Row> {
    let start = Instant::now();
    for i in 0..opts.jobs {
        queue.enqueue(&NewJob {
            kind: NOOP_KIND.to_string(),
            key: Some(format!("noop:{i}")),
            payload: serde_json::json!({}),
            priority: 0,
            max_attempts: 1,
        })?;
    }
    let enqueue = start.elapsed();
    let exe = std::env::current_exe().context("finding the adstudio binary")?;
    let start = Instant::now();
    let children = (0..workers)
        .map(|i| {
            Command::new(&exe)
                .args(["bench", "queue", "--queue-child", &format!("noop-{i}")])
                .env(crate::store::STORE_ENV, &opts.url)
                .stdout(Stdio::piped())
                .spawn()
                .context("starting a worker process")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut completed = 0;
    for child in children {
        let out = child.wait_with_output().context("waiting for a worker")?;
        if !out.status.success() {
            bail!("a bench worker failed ({})", out.status);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        completed += text
            .trim()
            .parse::<usize>()
            .context("a worker's job count")?;
    }
    let drain = start.elapsed();
    let done = queue.counts()?.done;
    if completed != opts.jobs {
        bail!("{completed} of {} no-op jobs completed", opts.jobs);
    }
    log::info!("{workers} workers: {completed} jobs completed, {done} done in the queue");
    Ok(Row {
        workers,
        enqueue,
        drain,
    })
}

/// `bench queue --queue-child NAME`: one worker process; prints how many
/// jobs it completed.
pub fn bench_queue_child(url: &str, name: &str) -> anyhow::Result<()> {
    let done = run_noop_worker(url, name, LEASE, &|e| log::warn!("{e:?}"))?;
    println!("{done}");
    Ok(())
}

fn print_table(opts: &QueueBenchOptions, rows: &[Row]) {
    println!(
        "queue {} · {} no-op jobs per row · {} cores",
        redact(&opts.url),
        opts.jobs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| worker processes | enqueue jobs/s | drain jobs/s | ms per job per worker |");
    println!("|---|---|---|---|");
    for r in rows {
        let n = opts.jobs as f64;
        let drain = r.drain.as_secs_f64();
        println!(
            "| {} | {:.0} | {:.0} | {:.2} |",
            r.workers,
            n / r.enqueue.as_secs_f64(),
            n / drain,
            1000.0 * drain * r.workers as f64 / n
        );
    }
    println!(
        "ms per job per worker with 1 worker = the queue's overhead per render job \
         (lease, heartbeat connection, guarded complete; worker start-up included)."
    );
}
