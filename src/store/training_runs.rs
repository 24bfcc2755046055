//! The `training_runs` table: reward-model and PCPO training jobs.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::TrainingRunId;
use super::sql_types::{json_text, text_enum};

const TABLE: &str = "training_runs";

const COLUMNS: &str = "id, kind, config_json, status, metrics_json, started_at, finished_at";

text_enum!(
    /// The state of a training run.
    RunStatus, "training run status" {
        /// Started and not finished (or the app died while it ran).
        Running => "running",
        /// Finished normally.
        Succeeded => "succeeded",
        /// Stopped by an error.
        Failed => "failed",
        /// Stopped by the user.
        Cancelled => "cancelled",
    }
);

/// A training run to start (it is inserted as [`RunStatus::Running`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTrainingRun {
    /// What is trained, e.g. "reward_model" or "pcpo". Must not be empty.
    pub kind: String,
    /// The full training configuration.
    pub config_json: Value,
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinishTrainingRun {
    /// Final status; must not be [`RunStatus::Running`].
    pub status: RunStatus,
    /// Final metrics (losses, accuracies, ...).
    pub metrics_json: Value,
}

/// A row of `training_runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingRunRow {
    /// Row id.
    pub id: TrainingRunId,
    /// What is trained.
    pub kind: String,
    /// The training configuration.
    pub config_json: Value,
    /// Current status.
    pub status: RunStatus,
    /// Metrics (`{}` until the run finishes).
    pub metrics_json: Value,
    /// Start time, UTC, ISO 8601 with milliseconds.
    pub started_at: String,
    /// End time, `None` while running.
    pub finished_at: Option<String>,
}

impl TrainingRunRow {
    fn from_row(row: &DbRow) -> Result<TrainingRunRow, ConvertError> {
        Ok(TrainingRunRow {
            id: row.get(0)?,
            kind: row.get(1)?,
            config_json: row.get(2)?,
            status: row.get(3)?,
            metrics_json: row.get(4)?,
            started_at: row.get(5)?,
            finished_at: row.get(6)?,
        })
    }
}

impl Store {
    /// Records the start of a training run (status `running`, metrics `{}`).
    pub fn insert_training_run(&self, run: &NewTrainingRun) -> Result<TrainingRunId, StoreError> {
        self.insert_returning_id(
            TABLE,
            "INSERT INTO training_runs (kind, config_json, status, metrics_json) \
             VALUES (?1, ?2, 'running', '{}')",
            &vals![run.kind, json_text(&run.config_json)],
        )
        .map(TrainingRunId)
    }

    /// Marks a running training run as finished with its final metrics.
    /// Fails with [`StoreError::NotFound`] if no *running* run has this id,
    /// and with [`StoreError::InvalidArgument`] for a `running` status.
    pub fn finish_training_run(
        &self,
        id: TrainingRunId,
        finish: &FinishTrainingRun,
    ) -> Result<(), StoreError> {
        if finish.status == RunStatus::Running {
            return Err(StoreError::InvalidArgument {
                table: TABLE,
                message: format!("run {id} cannot finish with status 'running'"),
            });
        }
        let changed = self.exec(
            TABLE,
            "UPDATE training_runs SET status = ?2, metrics_json = ?3, finished_at = @NOW \
             WHERE id = ?1 AND status = 'running'",
            &vals![id, finish.status, json_text(&finish.metrics_json)],
        )?;
        self.require_changed(changed, TABLE, id.0)
    }

    /// The training run with this id, if any.
    pub fn training_run(&self, id: TrainingRunId) -> Result<Option<TrainingRunRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!("SELECT {COLUMNS} FROM training_runs WHERE id = ?1"),
            &vals![id],
            TrainingRunRow::from_row,
        )
    }

    /// All training runs, newest first.
    pub fn list_training_runs(&self) -> Result<Vec<TrainingRunRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!("SELECT {COLUMNS} FROM training_runs ORDER BY started_at DESC, id DESC"),
            &[],
            TrainingRunRow::from_row,
        )
    }
}
