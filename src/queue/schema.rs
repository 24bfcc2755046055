//! The queue's table, created on first use.

/// Creates `queue_jobs` and its index if they do not exist. `key` makes
/// enqueueing idempotent (the same work is queued once); `attempt` counts
/// leases, so a result is accepted only from the current one.
pub(super) const CREATE: &str = "
CREATE TABLE IF NOT EXISTS queue_jobs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL,
    key           TEXT UNIQUE,
    payload       JSONB NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempt       INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    worker        TEXT,
    lease_until   TIMESTAMPTZ,
    heartbeat_at  TIMESTAMPTZ,
    result        JSONB,
    error         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS queue_jobs_ready
    ON queue_jobs (priority DESC, id) WHERE state IN ('queued', 'running');
";

/// Serialises concurrent first-time creation (`CREATE TABLE IF NOT EXISTS`
/// can race between two sessions): a transaction-level advisory lock.
pub(super) const LOCK: &str = "SELECT pg_advisory_xact_lock(7240113)";
