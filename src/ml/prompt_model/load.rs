//! Loading Hugging Face safetensors checkpoints (single file or sharded).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

use super::error::{PromptModelError, Result};
use crate::ml::weights::WeightFiles;

/// The safetensors files of a model folder: `model.safetensors`, or the
/// shards listed in `model.safetensors.index.json`.
pub fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join("model.safetensors.index.json");
    let text = std::fs::read_to_string(&index).map_err(|source| PromptModelError::Io {
        path: index.clone(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| PromptModelError::Config {
            path: index.clone(),
            reason: e.to_string(),
        })?;
    let map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| PromptModelError::Config {
            path: index.clone(),
            reason: "missing `weight_map`".to_string(),
        })?;
    let mut files: Vec<PathBuf> = map
        .values()
        .filter_map(|v| v.as_str())
        .map(|f| dir.join(f))
        .collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(PromptModelError::Config {
            path: index,
            reason: "`weight_map` lists no files".to_string(),
        });
    }
    Ok(files)
}

/// Memory-maps safetensors files into an f32 [`VarBuilder`], through the
/// crate's single mmap site ([`WeightFiles`]): a missing or mis-shaped
/// tensor is an error naming its file and tensor.
pub fn mmap_var_builder(files: &[PathBuf], device: &Device) -> Result<VarBuilder<'static>> {
    for f in files {
        if !f.is_file() {
            return Err(PromptModelError::Io {
                path: f.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "weight file not found"),
            });
        }
    }
    let weights = WeightFiles::open(files).map_err(|e| candle_core::Error::msg(e.to_string()))?;
    Ok(weights.var_builder(DType::F32, device))
}
