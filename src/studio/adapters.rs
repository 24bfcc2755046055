//! The stored PCPO adapters as the studio offers them: one line each for
//! the suggestions panel (name, base model, created, last validation
//! accuracy), and the one a suggestion job applies to the prompt model.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use serde_json::Value;

use crate::ml::pcpo::BaseModel;
use crate::store::{AdapterId, AdapterRow, Store};

/// One stored adapter, as the panel lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterInfo {
    /// Its row id.
    pub id: AdapterId,
    /// Its name (unique in practice: `pcpo train` refuses a taken name).
    pub name: String,
    /// Id of the base model it was trained on.
    pub base_model: String,
    /// Creation time, UTC, ISO 8601.
    pub created_at: String,
    /// Pairwise accuracy on the held-out pairs after the last epoch.
    pub valid_accuracy: Option<f64>,
}

impl AdapterInfo {
    /// The row as the panel shows it.
    pub fn of(row: &AdapterRow) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            base_model: row.base_model.clone(),
            created_at: row.created_at.clone(),
            valid_accuracy: valid_accuracy(row),
        }
    }

    /// `base MODEL · created DATE TIME · val acc 62.5%` (without the
    /// accuracy when none was measured).
    pub fn details(&self) -> String {
        let created = self
            .created_at
            .get(..16)
            .unwrap_or(&self.created_at)
            .replace('T', " ");
        let accuracy = self
            .valid_accuracy
            .map_or_else(String::new, |a| format!(" · val acc {:.1}%", 100.0 * a));
        format!("base {} · created {created}{accuracy}", self.base_model)
    }
}

/// An adapter to apply to the prompt model: its file and the base model
/// it records.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAdapter {
    /// Its row id.
    pub id: AdapterId,
    /// Its name (recorded with what it writes).
    pub name: String,
    /// The adapter file.
    pub path: PathBuf,
    /// The base model it was trained on.
    pub recorded: BaseModel,
}

/// The base model an adapter row records, from its `config_json`.
pub fn recorded_base(row: &AdapterRow) -> anyhow::Result<BaseModel> {
    let base = row.config_json.get("base_model").ok_or_else(|| {
        anyhow!(
            "adapter {} ({:?}) records no base model hash (not trained by `pcpo train`?)",
            row.id,
            row.name
        )
    })?;
    serde_json::from_value(base.clone())
        .with_context(|| format!("adapter {}: reading its base model", row.id))
}

/// The validation accuracy of the last epoch in a row's `config_json`.
pub fn valid_accuracy(row: &AdapterRow) -> Option<f64> {
    row.config_json
        .pointer("/metrics/epochs")
        .and_then(Value::as_array)
        .and_then(|e| e.last())
        .and_then(|e| e.pointer("/valid/accuracy"))
        .and_then(Value::as_f64)
}

/// Every stored adapter, newest first.
pub fn list_adapters(store: &Store) -> anyhow::Result<Vec<AdapterInfo>> {
    let rows = store.list_adapters().context("listing the adapters")?;
    Ok(rows.iter().map(AdapterInfo::of).collect())
}

/// The newest adapter named `name`, ready to apply (its file relative to
/// `data_root`).
pub fn active_adapter(
    store: &Store,
    data_root: &Path,
    name: &str,
) -> anyhow::Result<ActiveAdapter> {
    let row = store
        .adapter_by_name(name)
        .context("reading the adapters")?
        .ok_or_else(|| anyhow!("no adapter named {name:?} in the store"))?;
    Ok(ActiveAdapter {
        id: row.id,
        name: row.name.clone(),
        path: data_root.join(&row.path),
        recorded: recorded_base(&row)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::NewAdapter;

    #[test]
    fn listed_with_their_last_validation_accuracy_and_resolved_by_name() {
        let store = Store::open_in_memory().unwrap();
        let config = json!({
            "base_model": { "id": "tiny", "hash": "ab12" },
            "metrics": { "epochs": [
                { "valid": { "accuracy": 0.25 } },
                { "valid": { "accuracy": 0.625 } }
            ] }
        });
        store
            .insert_adapter(&NewAdapter {
                training_run_id: None,
                name: "warm".into(),
                base_model: "tiny".into(),
                path: "adapters/warm.safetensors".into(),
                config_json: config,
            })
            .unwrap();
        let listed = list_adapters(&store).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].valid_accuracy, Some(0.625));
        assert!(listed[0].details().ends_with("val acc 62.5%"));
        assert!(listed[0].details().starts_with("base tiny · created "));
        let active = active_adapter(&store, Path::new("/data"), "warm").unwrap();
        assert_eq!(active.path, Path::new("/data/adapters/warm.safetensors"));
        assert_eq!(active.recorded.hash, "ab12");
        let missing = active_adapter(&store, Path::new("/data"), "cold").unwrap_err();
        assert!(missing.to_string().contains("\"cold\""), "{missing}");
    }
}
