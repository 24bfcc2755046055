//! The `adapters` table: fine-tuned (LoRA) adapters on disk.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::{AdapterId, TrainingRunId};
use super::sql_types::json_text;
use super::training_runs::NewTrainingRun;

const TABLE: &str = "adapters";

const COLUMNS: &str = "id, training_run_id, name, base_model, path, config_json, created_at";

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
    fn from_row(row: &DbRow) -> Result<AdapterRow, ConvertError> {
        Ok(AdapterRow {
            id: row.get(0)?,
            training_run_id: row.get(1)?,
            name: row.get(2)?,
            base_model: row.get(3)?,
            path: row.get(4)?,
            config_json: row.get(5)?,
            created_at: row.get(6)?,
        })
    }
}

impl Store {
    /// Registers an adapter and returns its id. Fails with
    /// [`StoreError::Constraint`] if the training run does not exist.
    pub fn insert_adapter(&self, adapter: &NewAdapter) -> Result<AdapterId, StoreError> {
        self.insert_returning_id(
            TABLE,
            "INSERT INTO adapters (training_run_id, name, base_model, path, config_json) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &vals![
                adapter.training_run_id,
                adapter.name,
                adapter.base_model,
                adapter.path,
                json_text(&adapter.config_json),
            ],
        )
        .map(AdapterId)
    }

    /// All adapters, newest first.
    pub fn list_adapters(&self) -> Result<Vec<AdapterRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!("SELECT {COLUMNS} FROM adapters ORDER BY created_at DESC, id DESC"),
            &[],
            AdapterRow::from_row,
        )
    }
}

impl Store {
    /// The adapter with this id, if any.
    pub fn adapter(&self, id: AdapterId) -> Result<Option<AdapterRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"),
            &vals![id],
            AdapterRow::from_row,
        )
    }

    /// The newest adapter with this name, if any.
    pub fn adapter_by_name(&self, name: &str) -> Result<Option<AdapterRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!(
                "SELECT {COLUMNS} FROM adapters WHERE name = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT 1"
            ),
            &vals![name],
            AdapterRow::from_row,
        )
    }

    /// Records a finished training run and the adapter it produced in ONE
    /// transaction: a `training_runs` row (status `succeeded`, with
    /// `metrics_json`) and an `adapters` row pointing at it (the adapter's
    /// own `training_run_id` is ignored). Nothing is stored on failure.
    pub fn record_trained_adapter(
        &self,
        run: &NewTrainingRun,
        metrics_json: &Value,
        adapter: &NewAdapter,
    ) -> Result<(TrainingRunId, AdapterId), StoreError> {
        self.transaction(TABLE, || {
            let run_id = TrainingRunId(self.insert_returning_id(
                "training_runs",
                "INSERT INTO training_runs (kind, config_json, status, metrics_json, \
                 finished_at) VALUES (?1, ?2, 'succeeded', ?3, @NOW)",
                &vals![
                    run.kind,
                    json_text(&run.config_json),
                    json_text(metrics_json)
                ],
            )?);
            let adapter_id = self.insert_adapter(&NewAdapter {
                training_run_id: Some(run_id),
                ..adapter.clone()
            })?;
            Ok((run_id, adapter_id))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::store::RunStatus;

    fn adapter(name: &str) -> NewAdapter {
        NewAdapter {
            training_run_id: None,
            name: name.to_string(),
            base_model: "base.gguf".to_string(),
            path: format!("adapters/{name}.safetensors"),
            config_json: json!({ "rank": 2 }),
        }
    }

    #[test]
    fn a_trained_adapter_is_recorded_with_its_run_and_found_by_id_and_name() {
        let store = Store::open_in_memory().unwrap();
        let run = NewTrainingRun {
            kind: "pcpo".to_string(),
            config_json: json!({ "epochs": 1 }),
        };
        let (run_id, id) = store
            .record_trained_adapter(&run, &json!({ "acc": 0.5 }), &adapter("a"))
            .unwrap();
        let row = store.adapter(id).unwrap().unwrap();
        assert_eq!(
            (row.training_run_id, row.name.as_str()),
            (Some(run_id), "a")
        );
        assert_eq!(store.adapter_by_name("a").unwrap(), Some(row));
        assert_eq!(store.adapter_by_name("b").unwrap(), None);
        assert_eq!(store.adapter(AdapterId(id.0 + 1)).unwrap(), None);
        let run_row = store.training_run(run_id).unwrap().unwrap();
        assert_eq!(run_row.status, RunStatus::Succeeded);
        assert_eq!(run_row.metrics_json, json!({ "acc": 0.5 }));
        assert!(run_row.finished_at.is_some());

        // A bad adapter row rolls the run back too.
        let err = store.record_trained_adapter(&run, &json!({}), &adapter(""));
        assert!(err.is_err());
        assert_eq!(store.list_training_runs().unwrap().len(), 1);
        assert_eq!(store.list_adapters().unwrap().len(), 1);
    }
}
