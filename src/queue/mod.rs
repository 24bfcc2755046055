//! A job queue in PostgreSQL for headless workers on other machines.
//!
//! Jobs are rows of `queue_jobs` in the team's PostgreSQL database. A worker
//! takes the best queued job with `SELECT ... FOR UPDATE SKIP LOCKED` (no two
//! workers ever take the same row, and none waits on another's lock), holds
//! it under a lease that its heartbeats extend, and finishes it with a
//! result. A job whose worker died (no heartbeat) is taken again once its
//! lease has expired; a worker that lost its lease cannot store a result,
//! so every job's result is stored once. Times are the server's clock, so
//! workers' clocks may differ.
//!
//! Why not a queue crate: apalis (postgres storage) and sqlxmq are async
//! and built on sqlx, a second PostgreSQL driver and runtime beside the
//! synchronous `postgres` client the store already uses; the queue here is
//! a few statements on one table, in the same database and transactions
//! as the store.

mod error;
mod jobs;
mod schema;

pub use error::QueueError;
pub use jobs::{redact, JobQueue, JobRow, JobState, Lease, NewJob, QueueCounts};
