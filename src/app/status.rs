//! What the status bar shows: each worker's running job and the last
//! message.

/// One worker's activity.
#[derive(Debug, Clone, Default)]
pub struct WorkerStatus {
    /// The running job's label, if any.
    pub running: Option<String>,
    /// Progress of the running job: (done, total, step label).
    pub progress: Option<(u64, u64, String)>,
    /// Jobs waiting behind the running one.
    pub queued: usize,
}

/// The status bar's state.
#[derive(Debug, Clone, Default)]
pub struct StatusState {
    /// The studio worker (products, masks, store).
    pub studio: WorkerStatus,
    /// The model worker (renders, suggestions, scoring, training).
    pub models: WorkerStatus,
    /// The last message, and whether it is an error.
    pub message: Option<(String, bool)>,
    /// The compute device in use and its dtype ("CPU (f32)").
    pub device: String,
    /// The store in use ("SQLite /path" or "PostgreSQL postgres://u@h/db").
    pub store: String,
}
