//! Background jobs.
//!
//! One worker thread runs every long task (decoding, masking, database work,
//! and later model inference and training) so that the UI thread never
//! blocks. The worker owns a resource value `R` (the store and, later, the
//! loaded models) that every job borrows mutably while it runs. Jobs are fed
//! through a bounded channel and run one at a time in submission order; each
//! reports [`JobEvent`]s back and checks its [`CancelToken`] at every step.

mod cancel;
mod context;
mod event;
mod worker;

pub use cancel::CancelToken;
pub use context::{Cancelled, JobContext};
pub use event::{JobEvent, JobId};
pub use worker::{JobHandle, SubmitError, Worker, WorkerOptions};
