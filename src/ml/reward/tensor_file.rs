//! The safetensors files the reward model writes (compact checkpoints and
//! LLaVA adapters): f32 tensors plus string metadata with a `format` key,
//! written atomically and read into memory (no mapping).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::error::{Result, RewardError};

/// A file that is not a valid reward checkpoint or adapter.
pub(super) fn bad(path: &Path, reason: impl Into<String>) -> RewardError {
    RewardError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes `tensors` (as f32, sorted by name) and `metadata` to `path`
/// atomically: a temporary file next to it is renamed over it.
pub(super) fn write_tensor_file(
    path: &Path,
    mut tensors: Vec<(String, Tensor)>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut owned = Vec::with_capacity(tensors.len());
    for (name, t) in &tensors {
        let values = t
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(RewardError::candle(format!("reading {name}")))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push((name, t.dims().to_vec(), bytes));
    }
    let mut views = Vec::with_capacity(owned.len());
    for (name, shape, bytes) in &owned {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        views.push((name.to_string(), view));
    }
    let tmp = path.with_extension("safetensors.tmp");
    safetensors::tensor::serialize_to_file(views, Some(metadata), &tmp)
        .map_err(|e| bad(&tmp, e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|source| RewardError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A file read into memory, with its metadata.
pub(super) struct TensorFile<'a> {
    path: &'a Path,
    /// The whole file.
    pub bytes: Vec<u8>,
    meta: HashMap<String, String>,
}

impl<'a> TensorFile<'a> {
    /// Reads `path` and checks that its `format` metadata is `format`.
    pub fn read(path: &'a Path, format: &str) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| RewardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, header) =
            SafeTensors::read_metadata(&bytes).map_err(|e| bad(path, e.to_string()))?;
        let meta = header
            .metadata()
            .clone()
            .ok_or_else(|| bad(path, "no metadata"))?;
        let file = Self { path, bytes, meta };
        let found = file.get("format")?;
        if found != format {
            return Err(bad(path, format!("format {found:?}, want {format:?}")));
        }
        Ok(file)
    }

    /// A metadata entry, if present.
    pub fn entry(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// A metadata entry that must be present.
    pub fn get(&self, key: &str) -> Result<&str> {
        self.entry(key)
            .ok_or_else(|| bad(self.path, format!("metadata lacks {key:?}")))
    }

    /// A metadata entry parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T> {
        self.parse_json(key, self.get(key)?)
    }

    /// `text` (metadata entry `key`) parsed as JSON.
    pub fn parse_json<T: serde::de::DeserializeOwned>(&self, key: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| bad(self.path, format!("{key}: {e}")))
    }
}
