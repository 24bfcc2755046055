//! `adstudio batch CATALOG --out DIR --queue [--wait]`: the catalog's
//! products as jobs of the team's queue, and (with `--wait`) the batch's
//! `winners.csv` and `index.html` written from the jobs' results.

use std::time::Duration;

use anyhow::Context as _;

use crate::jobs::CancelToken;
use crate::queue::JobQueue;
use crate::studio::batch::queued::{collect, enqueue_batch, Collected};
use crate::studio::batch::report::write_outputs;
use crate::studio::batch::{read_catalog, BadRow, BatchJob, BatchOutcome};

use super::batch::{summary, BatchArgs};
use super::interrupt::{cancel_on_ctrl_c, INTERRUPTED_EXIT};

/// How often `--wait` looks at the jobs.
const POLL: Duration = Duration::from_millis(500);

/// Queues the catalog; with `--wait`, waits and writes the outputs.
pub(super) fn run_queued(args: &BatchArgs, store: Option<&str>) -> anyhow::Result<i32> {
    let url = store.context(
        "--queue needs the team's PostgreSQL store: --store postgres://... (or ADSTUDIO_STORE)",
    )?;
    let catalog = read_catalog(&args.catalog)?;
    let job = BatchJob {
        catalog,
        settings: args.settings(),
        out: std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone()),
        data_root: Default::default(),
    };
    crate::studio::batch::check_job(&job)?;
    let mut queue = JobQueue::connect(url)?;
    let queued = enqueue_batch(&mut queue, &job, args.priority)?;
    let new = queued.iter().filter(|q| q.new).count();
    println!(
        "queued {new} job(s), {} already queued, on {}",
        queued.len() - new,
        queue.url()
    );
    for bad in &job.catalog.bad {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    if !args.wait {
        println!("run `adstudio worker --store ...` on the render machines; `adstudio jobs list` shows progress");
        return Ok(if job.catalog.bad.is_empty() { 0 } else { 1 });
    }
    let stop = CancelToken::new();
    cancel_on_ctrl_c(stop.clone(), "the jobs stay queued")?;
    let collected = wait_for(&mut queue, &queued, &stop)?;
    if stop.is_cancelled() {
        eprintln!(
            "stopped waiting: {} job(s) still queued or running",
            collected.pending
        );
        return Ok(INTERRUPTED_EXIT);
    }
    let ids: Vec<&str> = job.catalog.rows.iter().map(|r| r.id.as_str()).collect();
    let outcome = outcome_of(collected, &job, &ids);
    write_outputs(&job.out, &outcome.products)?;
    Ok(summary(&outcome, &job.out))
}

/// Polls until no job of `queued` is pending (or `stop`).
fn wait_for(
    queue: &mut JobQueue,
    queued: &[crate::studio::batch::queued::QueuedProduct],
    stop: &CancelToken,
) -> anyhow::Result<Collected> {
    let mut last = usize::MAX;
    loop {
        let c = collect(queue, queued)?;
        if c.pending != last {
            eprintln!(
                "{} done, {} failed, {} pending",
                c.reports.len(),
                c.failed.len(),
                c.pending
            );
            last = c.pending;
        }
        if c.pending == 0 || stop.is_cancelled() {
            return Ok(c);
        }
        std::thread::sleep(POLL);
    }
}

/// The batch outcome from the jobs' results, failed jobs as bad rows.
fn outcome_of(c: Collected, job: &BatchJob, ids: &[&str]) -> BatchOutcome {
    let line_of = |id: &str| {
        job.catalog
            .rows
            .iter()
            .find(|r| r.id == id)
            .map_or(0, |r| r.line)
    };
    let mut bad = job.catalog.bad.clone();
    bad.extend(c.failed.into_iter().map(|(id, reason)| BadRow {
        line: line_of(&id),
        id: Some(id),
        reason,
    }));
    bad.sort_by_key(|b| b.line);
    let mut products = c.reports;
    products.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    BatchOutcome {
        products,
        bad,
        cancelled: false,
        unfinished: 0,
    }
}
