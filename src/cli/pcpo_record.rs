//! Provenance of a `pcpo train` run: the adapter's name, the data set hash
//! and the `config_json` stored with the adapter (base model id and hash,
//! data hash, hyper-parameters, per-epoch metrics, adapter file).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::pcpo::PcpoTrainArgs;
use crate::ml::hashing::records_hash;
use crate::ml::pcpo::{BaseModel, EpochReport};
use crate::prefs::TextPair;
use crate::store::{AdapterId, NewAdapter, NewTrainingRun, Store};

/// Folder of the data directory that holds adapter files.
pub const ADAPTERS_DIR: &str = "adapters";

fn exists(store: &Store, name: &str) -> anyhow::Result<bool> {
    Ok(store
        .adapter_by_name(name)
        .context("looking up adapter names")?
        .is_some())
}

/// A free default name: `pcpo-<unix seconds>`, with `-2`, `-3`, ... added
/// when that name is taken.
fn default_name(store: &Store) -> anyhow::Result<String> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stem = format!("pcpo-{secs}");
    let mut name = stem.clone();
    let mut n = 1;
    while exists(store, &name)? {
        n += 1;
        name = format!("{stem}-{n}");
    }
    Ok(name)
}

/// The adapter's name: `requested` (letters, digits, `.`, `_`, `-`; not
/// only digits, so it never reads as an id) or a default derived from the
/// time; refused when an adapter of that name exists.
pub fn adapter_name(store: &Store, requested: Option<&str>) -> anyhow::Result<String> {
    let name = match requested {
        Some(n) => n.to_string(),
        None => return default_name(store),
    };
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
    if exists(store, &name)? {
        bail!("an adapter named {name:?} already exists (choose another --name)");
    }
    Ok(name)
}

/// SHA-256 over the pairs' canonical text, in order: one compact JSON
/// array `[product id, title, chosen, rejected]` per pair.
pub fn pairs_hash(pairs: &[&TextPair]) -> String {
    records_hash(
        pairs
            .iter()
            .map(|p| json!([p.product.0, p.title, p.chosen, p.rejected]).to_string()),
    )
}

/// What a finished run records.
pub struct RunRecord<'a> {
    /// The command's arguments (hyper-parameters).
    pub args: &'a PcpoTrainArgs,
    /// The base model trained on.
    pub base: &'a BaseModel,
    /// Training pairs, in order.
    pub train: &'a [&'a TextPair],
    /// Validation pairs, in order.
    pub valid: &'a [&'a TextPair],
    /// Reports of every finished epoch.
    pub history: &'a [EpochReport],
    /// Adapter name.
    pub name: &'a str,
    /// Adapter file, relative to the data directory.
    pub adapter_file: &'a str,
}

fn hyper_parameters(a: &PcpoTrainArgs) -> Value {
    json!({
        "rank": a.rank,
        "alpha": a.alpha,
        "targets": a.targets,
        "epochs": a.epochs,
        "lr": a.lr,
        "beta": a.beta,
        "weight": a.weight,
        "batch_size": a.batch_size,
        "seed": a.seed,
        "valid_share": a.valid_share,
        "with_model_labels": a.with_model_labels,
    })
}

fn metrics(history: &[EpochReport]) -> Value {
    let epochs: Vec<Value> = history
        .iter()
        .map(|r| {
            let m = |m: &crate::ml::pcpo::EpochMetrics| {
                json!({ "loss": m.loss, "accuracy": m.accuracy, "margin": m.reward_margin, "pairs": m.pairs })
            };
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

impl RunRecord<'_> {
    /// The adapter's `config_json`.
    pub fn config_json(&self) -> Value {
        json!({
            "base_model": { "id": self.base.id, "hash": self.base.hash },
            "data": {
                "hash": pairs_hash(self.train),
                "pairs": self.train.len(),
                "valid_hash": pairs_hash(self.valid),
                "valid_pairs": self.valid.len(),
            },
            "hyper_parameters": hyper_parameters(self.args),
            "metrics": metrics(self.history),
            "adapter_file": self.adapter_file,
        })
    }

    /// Stores the run and the adapter in one transaction.
    pub fn store(&self, store: &Store) -> anyhow::Result<AdapterId> {
        let config = self.config_json();
        let run = NewTrainingRun {
            kind: "pcpo".to_string(),
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
            .record_trained_adapter(&run, &metrics(self.history), &adapter)
            .context("recording the adapter in the store")?;
        Ok(id)
    }
}
