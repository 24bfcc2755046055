//! Checkpoints (adapter values, optimiser moments, progress and settings in
//! one safetensors file, written atomically) and adapter files.
//!
//! Layout: `lora.{layers.i.q_proj.A ...}` adapter factors, `adam.m.*` /
//! `adam.v.*` moments, and two u8 tensors holding JSON: `meta.config` (the
//! [`PcpoConfig`]) and `meta.state` (a [`TrainState`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::config::PcpoConfig;
use super::error::{PcpoError, Result};
use super::trainer::EpochReport;

/// Prefix of the adapter factors in a checkpoint.
pub const LORA_PREFIX: &str = "lora.";
const CONFIG_KEY: &str = "meta.config";
const STATE_KEY: &str = "meta.state";

/// Progress of a run at the end of an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimiser updates done.
    pub step: usize,
    /// Pairs in the training set (a resumed run must see the same number).
    pub pairs: usize,
    /// Reports of the completed epochs.
    pub history: Vec<EpochReport>,
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// Settings of the run.
    pub config: PcpoConfig,
    /// Progress.
    pub state: TrainState,
    /// Adapter factors by name (without [`LORA_PREFIX`]).
    pub adapters: HashMap<String, Tensor>,
    /// Optimiser moments (`adam.m.*`, `adam.v.*`).
    pub optimizer: HashMap<String, Tensor>,
}

fn json_tensor<T: Serialize>(value: &T) -> Result<Tensor> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| PcpoError::Config(format!("cannot serialise settings: {e}")))?;
    let n = bytes.len();
    Ok(Tensor::from_vec(bytes, n, &Device::Cpu)?)
}

fn from_json_tensor<T: for<'de> Deserialize<'de>>(
    path: &Path,
    t: Option<&Tensor>,
    key: &str,
) -> Result<T> {
    let bad = |reason: String| PcpoError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let t = t.ok_or_else(|| bad(format!("no `{key}` entry (not a PCPO checkpoint?)")))?;
    let bytes = t.to_vec1::<u8>()?;
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("`{key}`: {e}")))
}

/// Writes `tensors` to `path` through a temporary file and a rename, so a
/// crash never leaves a half-written file under `path`.
pub fn save_atomic(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let io = |source| PcpoError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".tmp");
    let cpu: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(k, t)| Ok((k.clone(), t.to_device(&Device::Cpu)?)))
        .collect::<Result<_>>()?;
    candle_core::safetensors::save(&cpu, &tmp)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Saves a checkpoint.
pub fn save_checkpoint(
    path: &Path,
    config: &PcpoConfig,
    state: &TrainState,
    adapters: &HashMap<String, Tensor>,
    optimizer: HashMap<String, Tensor>,
) -> Result<()> {
    let mut all = optimizer;
    for (name, t) in adapters {
        all.insert(format!("{LORA_PREFIX}{name}"), t.clone());
    }
    all.insert(CONFIG_KEY.to_string(), json_tensor(config)?);
    all.insert(STATE_KEY.to_string(), json_tensor(state)?);
    save_atomic(&all, path)
}

/// Reads a checkpoint written by [`save_checkpoint`] onto `device`.
pub fn load_checkpoint(path: &Path, device: &Device) -> Result<Checkpoint> {
    if !path.is_file() {
        return Err(PcpoError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint here"),
        });
    }
    let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
    let config = from_json_tensor(path, tensors.get(CONFIG_KEY), CONFIG_KEY)?;
    let state = from_json_tensor(path, tensors.get(STATE_KEY), STATE_KEY)?;
    let mut adapters = HashMap::new();
    let mut optimizer = HashMap::new();
    for (name, t) in tensors {
        let t = t.to_device(device)?;
        if let Some(rest) = name.strip_prefix(LORA_PREFIX) {
            adapters.insert(rest.to_string(), t);
        } else if name.starts_with("adam.") {
            optimizer.insert(name, t);
        }
    }
    Ok(Checkpoint {
        config,
        state,
        adapters,
        optimizer,
    })
}

/// Saves trained adapters as `layers.{i}.{target}.A/B` plus the run's
/// settings as `meta.config` (readable by [`crate::ml::prompt_model::Decoder::load_lora`]
/// with an empty prefix and the config's `lora_alpha`).
pub fn save_adapter(
    path: &Path,
    config: &PcpoConfig,
    adapters: &HashMap<String, Tensor>,
) -> Result<()> {
    let mut all = adapters.clone();
    all.insert(CONFIG_KEY.to_string(), json_tensor(config)?);
    save_atomic(&all, path)
}
