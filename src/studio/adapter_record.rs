//! Provenance of a trained PCPO adapter, shared by `pcpo train` and the
//! online rounds: the adapter's name, the data set hash and the
//! `config_json` stored with the adapter (base model id and hash, data
//! hash, hyper-parameters, per-epoch metrics, adapter file), written with
//! its `training_runs` row in one transaction.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::ml::hashing::records_hash;
use crate::ml::pcpo::{BaseModel, EpochMetrics, EpochReport};
use crate::prefs::TextPair;
use crate::store::{AdapterId, NewAdapter, NewTrainingRun, ProductId, Store};

/// Folder of the data directory that holds adapter files.
pub const ADAPTERS_DIR: &str = "adapters";

fn exists(store: &Store, name: &str) -> anyhow::Result<bool> {
    Ok(store
        .adapter_by_name(name)
        .context("looking up adapter names")?
        .is_some())
}

/// A free name `<stem>-<unix seconds>`, with `-2`, `-3`, ... added when
/// that name is taken.
pub fn default_name(store: &Store, stem: &str) -> anyhow::Result<String> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stem = format!("{stem}-{secs}");
    let mut name = stem.clone();
    let mut n = 1;
    while exists(store, &name)? {
        n += 1;
        name = format!("{stem}-{n}");
    }
    Ok(name)
}

/// Fails unless `name` can name an adapter: letters, digits, `.`, `_`,
/// `-`; not only digits (so it never reads as an id); not starting with `.`.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty()
        || name.starts_with('.')
        || !name.chars().all(allowed)
        || name.chars().all(|c| c.is_ascii_digit())
    {
        bail!(
            "bad adapter name {name:?}: use letters, digits, '.', '_' and '-', not only digits, not starting with '.'"
        );
    }
    Ok(())
}

/// The adapter's name: `requested` (see [`check_name`]) or a default
/// `pcpo-<unix seconds>`; refused when an adapter of that name exists.
pub fn adapter_name(store: &Store, requested: Option<&str>) -> anyhow::Result<String> {
    let Some(name) = requested else {
        return default_name(store, "pcpo");
    };
    check_name(name)?;
    if exists(store, name)? {
        bail!("an adapter named {name:?} already exists (choose another --name)");
    }
    Ok(name.to_string())
}

/// Fails when an adapter named `name` exists.
pub fn check_free(store: &Store, name: &str) -> anyhow::Result<()> {
    if exists(store, name)? {
        bail!("an adapter named {name:?} already exists (choose another --name)");
    }
    Ok(())
}

/// One preference pair as text: the product, its title and the two
/// prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairText<'a> {
    /// The product both prompts were written for.
    pub product: ProductId,
    /// Its title.
    pub title: &'a str,
    /// The preferred prompt.
    pub chosen: &'a str,
    /// The other prompt.
    pub rejected: &'a str,
}

impl<'a> PairText<'a> {
    /// The text of a stored label's pair.
    pub fn of(pair: &'a TextPair) -> Self {
        Self {
            product: pair.product,
            title: &pair.title,
            chosen: &pair.chosen,
            rejected: &pair.rejected,
        }
    }
}

/// SHA-256 over the pairs' canonical text, in order: one compact JSON
/// array `[product id, title, chosen, rejected]` per pair.
pub fn pairs_hash(pairs: &[PairText<'_>]) -> String {
    records_hash(
        pairs
            .iter()
            .map(|p| json!([p.product.0, p.title, p.chosen, p.rejected]).to_string()),
    )
}

/// The per-epoch metrics as stored: `{"epochs": [{epoch, train, valid,
/// seconds}, ...]}`.
pub fn epoch_metrics(history: &[EpochReport]) -> Value {
    let m = |m: &EpochMetrics| json!({ "loss": m.loss, "accuracy": m.accuracy, "margin": m.reward_margin, "pairs": m.pairs });
    let epochs: Vec<Value> = history
        .iter()
        .map(|r| {
            json!({
                "epoch": r.epoch,
                "train": m(&r.train),
                "valid": r.validation.as_ref().map(m),
                "seconds": r.seconds,
            })
        })
        .collect();
    json!({ "epochs": epochs })
}

/// What a finished run records.
pub struct RunRecord<'a> {
    /// `training_runs.kind` (`pcpo`, `pcpo-online`).
    pub kind: &'a str,
    /// Hyper-parameters, as stored.
    pub hyper_parameters: Value,
    /// The base model trained on.
    pub base: &'a BaseModel,
    /// Training pairs, in order.
    pub train: &'a [PairText<'a>],
    /// Validation pairs, in order.
    pub valid: &'a [PairText<'a>],
    /// Metrics, as stored (at least [`epoch_metrics`]).
    pub metrics: Value,
    /// Adapter name.
    pub name: &'a str,
    /// Adapter file, relative to the data directory.
    pub adapter_file: &'a str,
    /// More provenance, stored under `config_json.online` when set.
    pub online: Option<Value>,
    /// For a model trained on product images: each product's image hash
    /// (SHA-256 of the stored original), stored as `config_json.data.images`.
    pub images: Option<Value>,
}

impl RunRecord<'_> {
    /// The adapter's `config_json`.
    pub fn config_json(&self) -> Value {
        let mut config = json!({
            "base_model": { "id": self.base.id, "hash": self.base.hash },
            "data": {
                "hash": pairs_hash(self.train),
                "pairs": self.train.len(),
                "valid_hash": pairs_hash(self.valid),
                "valid_pairs": self.valid.len(),
            },
            "hyper_parameters": self.hyper_parameters,
            "metrics": self.metrics,
            "adapter_file": self.adapter_file,
        });
        if let (Some(online), Some(map)) = (&self.online, config.as_object_mut()) {
            map.insert("online".to_string(), online.clone());
        }
        if let (Some(images), Some(data)) = (&self.images, config["data"].as_object_mut()) {
            data.insert("images".to_string(), images.clone());
        }
        config
    }

    /// Stores the run and the adapter in one transaction.
    pub fn store(&self, store: &Store) -> anyhow::Result<AdapterId> {
        let config = self.config_json();
        let run = NewTrainingRun {
            kind: self.kind.to_string(),
            config_json: config.clone(),
        };
        let adapter = NewAdapter {
            training_run_id: None,
            name: self.name.to_string(),
            base_model: self.base.id.clone(),
            path: self.adapter_file.to_string(),
            config_json: config,
        };
        let (_, id) = store
            .record_trained_adapter(&run, &self.metrics, &adapter)
            .context("recording the adapter in the store")?;
        Ok(id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_the_online_block_is_kept() {
        assert!(check_name("warm-r1").is_ok());
        for bad in ["", ".x", "12", "a b", "a/b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let base = BaseModel {
            id: "m".into(),
            hash: "ab".into(),
        };
        let pair = PairText {
            product: ProductId(1),
            title: "mug",
            chosen: "oak table",
            rejected: "beach",
        };
        let record = RunRecord {
            kind: "pcpo-online",
            hyper_parameters: json!({ "lr": 0.1 }),
            base: &base,
            train: &[pair],
            valid: &[],
            metrics: epoch_metrics(&[]),
            name: "x",
            adapter_file: "adapters/x.safetensors",
            online: Some(json!({ "round": 2 })),
            images: Some(json!({ "1": "ab" })),
        };
        let config = record.config_json();
        assert_eq!(config["online"]["round"], 2);
        assert_eq!(config["data"]["pairs"], 1);
        assert_eq!(config["data"]["images"]["1"], "ab");
        assert_ne!(config["data"]["hash"], config["data"]["valid_hash"]);
        let store = Store::open_in_memory().unwrap();
        record.store(&store).unwrap();
        assert!(check_free(&store, "x").is_err());
        assert!(adapter_name(&store, Some("x")).is_err());
        assert!(default_name(&store, "online")
            .unwrap()
            .starts_with("online-"));
    }
}
