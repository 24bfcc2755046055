//! The `adapters` table: fine-tuned (LoRA) adapters on disk.

use rusqlite::{params, Row};
use serde::Serialize;
use serde_json::Value;

use super::connection::Store;
use super::error::StoreError;
use super::ids::{AdapterId, TrainingRunId};
use super::sql_types::{json_column, json_text};

const TABLE: &str = "adapters";

/// An adapter to register.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAdapter {
    /// The run that produced it, if it was trained here.
    pub training_run_id: Option<TrainingRunId>,
    /// Display name. Must not be empty.
    pub name: String,
    /// Id of the base model it applies to. Must not be empty.
    pub base_model: String,
    /// Path of the adapter weights. Must not be empty.
    pub path: String,
    /// Adapter configuration (rank, alpha, target modules, ...).
    pub config_json: Value,
}

/// A row of `adapters`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdapterRow {
    /// Row id.
    pub id: AdapterId,
    /// The run that produced it, if any.
    pub training_run_id: Option<TrainingRunId>,
    /// Display name.
    pub name: String,
    /// Id of the base model.
    pub base_model: String,
    /// Path of the adapter weights.
    pub path: String,
    /// Adapter configuration.
    pub config_json: Value,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
}

impl AdapterRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<AdapterRow> {
        Ok(AdapterRow {
            id: row.get(0)?,
            training_run_id: row.get(1)?,
            name: row.get(2)?,
            base_model: row.get(3)?,
            path: row.get(4)?,
            config_json: json_column(row, 5)?,
            created_at: row.get(6)?,
        })
    }
}

impl Store {
    /// Registers an adapter and returns its id. Fails with
    /// [`StoreError::Constraint`] if the training run does not exist.
    pub fn insert_adapter(&self, adapter: &NewAdapter) -> Result<AdapterId, StoreError> {
        self.conn
            .execute(
                "INSERT INTO adapters (training_run_id, name, base_model, path, config_json) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    adapter.training_run_id,
                    adapter.name,
                    adapter.base_model,
                    adapter.path,
                    json_text(&adapter.config_json),
                ],
            )
            .map_err(|e| self.sql_err(TABLE, e))?;
        Ok(AdapterId(self.conn.last_insert_rowid()))
    }

    /// All adapters, newest first.
    pub fn list_adapters(&self) -> Result<Vec<AdapterRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, training_run_id, name, base_model, path, config_json, created_at \
                 FROM adapters ORDER BY created_at DESC, id DESC",
            )
            .map_err(|e| self.sql_err(TABLE, e))?;
        stmt.query_map([], AdapterRow::from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(TABLE, e))
    }
}
