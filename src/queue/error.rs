//! The queue's error type.

/// What can go wrong talking to the queue. Messages name the database
/// (without its password) and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The URL is not a `postgres://` URL the client understands.
    #[error("the job queue needs a PostgreSQL store (postgres://...), not {url}: {reason}")]
    BadUrl {
        /// The URL given, without its password.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to the job queue at {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// The client's error.
        source: postgres::Error,
    },
    /// The server accepted the connection but did not answer in time.
    #[error("the job queue at {url} did not answer within {secs} s (is it a PostgreSQL server?)")]
    NoAnswer {
        /// The URL, without its password.
        url: String,
        /// How long it waited.
        secs: u64,
    },
    /// A statement failed.
    #[error("job queue at {url}: {what} failed: {source}")]
    Sql {
        /// The URL, without its password.
        url: String,
        /// What was being done ("taking a job").
        what: &'static str,
        /// The client's error.
        source: postgres::Error,
    },
    /// A stored job row holds a value this build does not know.
    #[error("job queue at {url}: job {id} has an unknown state {state:?}")]
    UnknownState {
        /// The URL, without its password.
        url: String,
        /// The job.
        id: i64,
        /// The stored state.
        state: String,
    },
    /// No job has this id.
    #[error("no job {0} in the queue")]
    NoSuchJob(i64),
}
