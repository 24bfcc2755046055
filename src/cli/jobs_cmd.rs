//! `adstudio jobs list | cancel ID | retry ID`: the team's job queue in
//! the PostgreSQL store.

use std::time::SystemTime;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::queue::{JobQueue, JobRow};

/// Arguments of `adstudio jobs`.
#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: JobsCommand,
}

/// `jobs` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum JobsCommand {
    /// Every job: id, state, priority, attempts, worker, product, error.
    List,
    /// Cancel a queued or running job (its worker stops at its next
    /// heartbeat).
    Cancel {
        /// The job id.
        id: i64,
    },
    /// Queue a failed or cancelled job again.
    Retry {
        /// The job id.
        id: i64,
    },
}

/// Seconds since `t`, for "updated 3 s ago".
fn age(t: Option<SystemTime>) -> String {
    t.and_then(|t| t.elapsed().ok())
        .map_or("-".into(), |d| format!("{}s", d.as_secs()))
}

/// One line of `jobs list`.
fn line(j: &JobRow) -> String {
    let product = j
        .payload
        .pointer("/row/id")
        .and_then(|v| v.as_str())
        .unwrap_or("-");
    format!(
        "{:>6}  {:<9}  {:>4}  {}/{}  {:<20}  {:<16}  {:>6}  {}",
        j.id,
        j.state.as_str(),
        j.priority,
        j.attempt,
        j.max_attempts,
        j.worker.as_deref().unwrap_or("-"),
        product,
        age(j.heartbeat_at),
        j.error.as_deref().unwrap_or("")
    )
}

/// Runs `adstudio jobs`.
pub fn run_jobs(args: &JobsArgs, store: Option<&str>) -> anyhow::Result<()> {
    let url = store.context(
        "the job queue lives in the team's PostgreSQL store: --store postgres://... (or ADSTUDIO_STORE)",
    )?;
    let mut queue = JobQueue::connect(url)?;
    match args.command {
        JobsCommand::List => {
            println!(
                "{:>6}  {:<9}  {:>4}  try  {:<20}  {:<16}  {:>6}  error",
                "id", "state", "prio", "worker", "product", "beat"
            );
            for j in queue.list(None)? {
                println!("{}", line(&j));
            }
            let c = queue.counts()?;
            println!(
                "{} queued, {} running, {} done, {} failed, {} cancelled",
                c.queued, c.running, c.done, c.failed, c.cancelled
            );
        }
        JobsCommand::Cancel { id } => {
            if queue.cancel(id)? {
                println!("job {id} cancelled");
            } else {
                anyhow::bail!("job {id} had already ended; nothing cancelled");
            }
        }
        JobsCommand::Retry { id } => {
            if queue.retry(id)? {
                println!("job {id} queued again");
            } else {
                anyhow::bail!("job {id} is not failed or cancelled; nothing to retry");
            }
        }
    }
    Ok(())
}
