//! Background jobs.
//!
//! A worker thread runs long tasks (decoding, masking, database work, model
//! inference and training) so that the UI thread never blocks. The worker
//! owns a resource value `R` that every job borrows mutably while it runs.
//! Jobs are fed through a bounded channel and run one at a time in
//! submission order; each reports typed progress `P` through its
//! [`Reporter`], checks its [`CancelToken`] at every step and ends with one
//! output `O` (see [`JobEvent`]).

mod cancel;
mod context;
mod event;
pub mod threads;
mod worker;

pub use cancel::CancelToken;
pub use context::{Cancelled, InlineReporter, JobContext, Reporter};
pub use event::{JobEvent, JobId, Steps};
pub use threads::{reserve_ui_core, ComputeThreads, ThreadSource};
pub use worker::{JobHandle, SubmitError, Worker, WorkerOptions};
