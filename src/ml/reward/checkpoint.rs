//! Checkpoints of the compact reward model: one safetensors file holding
//! every trained weight (f32) plus metadata (`format`, the model `config` as
//! JSON, the `backbone` as JSON, the completed `epoch`). A frozen CLIP
//! backbone is not stored: the `backbone` entry names its folder. Reading is
//! safe (the file is read into memory).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::backbone::BackboneConfig;
use super::compact::{CompactConfig, CompactRewardModel};
use super::error::{Result, RewardError};

/// Value of the `format` metadata key.
pub const CHECKPOINT_FORMAT: &str = "adstudio-compact-rm/1";

/// What a checkpoint says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointMeta {
    /// Architecture of the saved model.
    pub config: CompactConfig,
    /// The backbone (absent in older checkpoints: the CNN).
    pub backbone: BackboneConfig,
    /// Number of completed training epochs.
    pub epoch: usize,
}

fn bad(path: &Path, reason: impl Into<String>) -> RewardError {
    RewardError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes every variable of `varmap` and `meta` to `path` (atomically: a
/// temporary file next to it is renamed over it).
pub fn save_checkpoint(path: &Path, varmap: &VarMap, meta: &CheckpointMeta) -> Result<()> {
    let mut named: Vec<(String, Vec<usize>, Vec<u8>)> = {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| bad(path, "poisoned variable map"))?;
        let mut out = Vec::with_capacity(data.len());
        for (name, var) in data.iter() {
            let t = var.as_tensor();
            let values = t
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(RewardError::candle(format!("reading variable {name}")))?;
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            out.push((name.clone(), t.dims().to_vec(), bytes));
        }
        out
    };
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut views = Vec::with_capacity(named.len());
    for (name, shape, bytes) in &named {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let config = serde_json::to_string(&meta.config).map_err(|e| bad(path, e.to_string()))?;
    let backbone = serde_json::to_string(&meta.backbone).map_err(|e| bad(path, e.to_string()))?;
    let metadata = HashMap::from([
        ("format".to_string(), CHECKPOINT_FORMAT.to_string()),
        ("config".to_string(), config),
        ("backbone".to_string(), backbone),
        ("epoch".to_string(), meta.epoch.to_string()),
    ]);
    let tmp = path.with_extension("safetensors.tmp");
    safetensors::tensor::serialize_to_file(views, Some(metadata), &tmp)
        .map_err(|e| bad(&tmp, e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|source| RewardError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a checkpoint file: its bytes and its metadata.
pub fn read_checkpoint(path: &Path) -> Result<(Vec<u8>, CheckpointMeta)> {
    let bytes = std::fs::read(path).map_err(|source| RewardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(path, e.to_string()))?;
    let meta = header
        .metadata()
        .as_ref()
        .ok_or_else(|| bad(path, "no metadata"))?;
    let get = |k: &str| {
        meta.get(k)
            .ok_or_else(|| bad(path, format!("metadata lacks {k:?}")))
    };
    let format = get("format")?;
    if format != CHECKPOINT_FORMAT {
        return Err(bad(
            path,
            format!("format {format:?}, want {CHECKPOINT_FORMAT:?}"),
        ));
    }
    let config: CompactConfig =
        serde_json::from_str(get("config")?).map_err(|e| bad(path, format!("config: {e}")))?;
    let backbone: BackboneConfig = match meta.get("backbone") {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| bad(path, format!("backbone: {e}")))?
        }
        None => BackboneConfig::Cnn,
    };
    let epoch = get("epoch")?
        .parse()
        .map_err(|e| bad(path, format!("epoch: {e}")))?;
    Ok((
        bytes,
        CheckpointMeta {
            config,
            backbone,
            epoch,
        },
    ))
}

/// Loads a compact reward model for inference (plain tensors, no
/// gradients). A CLIP backbone is loaded from the folder the checkpoint
/// names.
pub fn load_compact(path: &Path, device: &Device) -> Result<(CompactRewardModel, CheckpointMeta)> {
    load_compact_with_backbone(path, None, device)
}

/// Like [`load_compact`], with the checkpoint's backbone replaced by
/// `backbone` when given (e.g. the CLIP folder moved; the tower must have
/// the same feature width).
pub fn load_compact_with_backbone(
    path: &Path,
    backbone: Option<&BackboneConfig>,
    device: &Device,
) -> Result<(CompactRewardModel, CheckpointMeta)> {
    let (bytes, mut meta) = read_checkpoint(path)?;
    if let Some(b) = backbone {
        meta.backbone = b.clone();
    }
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)
        .map_err(RewardError::candle(format!("reading {}", path.display())))?;
    let model = CompactRewardModel::with_backbone(&meta.config, &meta.backbone, vb)
        .map_err(|e| bad(path, e.to_string()))?;
    Ok((model, meta))
}

/// Overwrites every variable of `varmap` with the checkpoint's tensor of
/// the same name (shapes must match).
pub fn load_into_varmap(path: &Path, bytes: &[u8], varmap: &VarMap, device: &Device) -> Result<()> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(path, e.to_string()))?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| bad(path, "poisoned variable map"))?;
    for (name, var) in data.iter() {
        let view = st
            .tensor(name)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        if view.dtype() != Dtype::F32 || view.shape() != var.dims() {
            return Err(bad(
                path,
                format!(
                    "tensor {name} is {:?} {:?}, want F32 {:?}",
                    view.dtype(),
                    view.shape(),
                    var.dims()
                ),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = Tensor::from_vec(values, view.shape(), device)
            .map_err(RewardError::candle(format!("tensor {name}")))?;
        var.set(&t)
            .map_err(RewardError::candle(format!("setting {name}")))?;
    }
    Ok(())
}
