//! Loading a saved adapter onto a base model, refused when the adapter was
//! made for another base (told apart by the hash of the weights, not by
//! the file name).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::config::PcpoConfig;
use super::error::{PcpoError, Result};
use crate::ml::hashing::{model_hash, model_id};
use crate::ml::prompt_model::Decoder;

const CONFIG_KEY: &str = "meta.config";

/// A base model as adapters record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseModel {
    /// File or folder name of the model.
    pub id: String,
    /// SHA-256 of its weights ([`crate::ml::hashing::model_hash`]).
    pub hash: String,
}

impl BaseModel {
    /// Identifies the model at `path` (hashes its weights, streaming).
    pub fn of(path: &Path) -> Result<Self> {
        Ok(Self {
            id: model_id(path),
            hash: model_hash(path)?,
        })
    }

    /// The first `n` characters of the hash, for display.
    pub fn short_hash(&self, n: usize) -> &str {
        self.hash.get(..n).unwrap_or(&self.hash)
    }

    /// Fails with [`PcpoError::BaseMismatch`] (naming both models and both
    /// hashes) unless `actual` has the same weights as `self`.
    pub fn check(&self, actual: &BaseModel) -> Result<()> {
        if self.hash == actual.hash {
            return Ok(());
        }
        Err(PcpoError::BaseMismatch {
            adapter_model: self.id.clone(),
            adapter_hash: self.hash.clone(),
            model: actual.id.clone(),
            model_hash: actual.hash.clone(),
        })
    }
}

/// Reads an adapter file written by [`super::save_adapter`]: its factors
/// (by name) and the settings of the run that made it.
pub fn read_adapter(path: &Path, device: &Device) -> Result<(HashMap<String, Tensor>, PcpoConfig)> {
    let bad = |reason: String| PcpoError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(PcpoError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no adapter file here"),
        });
    }
    let mut tensors = candle_core::safetensors::load(path, device)?;
    let meta = tensors
        .remove(CONFIG_KEY)
        .ok_or_else(|| bad(format!("no `{CONFIG_KEY}` entry (not an adapter file?)")))?;
    let bytes = meta.to_vec1::<u8>()?;
    let config: PcpoConfig =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("`{CONFIG_KEY}`: {e}")))?;
    Ok((tensors, config))
}

/// Attaches the adapter at `path` to `decoder`, the model `actual`, after
/// checking that `recorded` (the base the adapter was trained on) has the
/// same hash; a mismatch is [`PcpoError::BaseMismatch`] and leaves the
/// decoder untouched. Returns the number of adapted projections.
pub fn load_adapter_for(
    decoder: &mut Decoder,
    path: &Path,
    recorded: &BaseModel,
    actual: &BaseModel,
) -> Result<usize> {
    recorded.check(actual)?;
    let (tensors, config) = read_adapter(path, decoder.device())?;
    Ok(decoder.load_lora(&tensors, "", config.lora_alpha)?)
}
