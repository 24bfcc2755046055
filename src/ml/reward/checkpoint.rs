//! Checkpoints of the compact reward model: one safetensors file holding
//! every trained weight (f32) plus metadata (`format`, the model `config` as
//! JSON, the `backbone` as JSON, the completed `epoch`). A frozen CLIP
//! backbone is not stored: the `backbone` entry names its folder. Reading is
//! safe (the file is read into memory).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use safetensors::tensor::{Dtype, SafeTensors};

use super::backbone::BackboneConfig;
use super::compact::{CompactConfig, CompactRewardModel};
use super::error::{Result, RewardError};
use super::tensor_file::{bad, write_tensor_file, TensorFile};

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

/// Writes every variable of `varmap` and `meta` to `path` (atomically: a
/// temporary file next to it is renamed over it).
pub fn save_checkpoint(path: &Path, varmap: &VarMap, meta: &CheckpointMeta) -> Result<()> {
    let tensors: Vec<(String, Tensor)> = varmap
        .data()
        .lock()
        .map_err(|_| bad(path, "poisoned variable map"))?
        .iter()
        .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
        .collect();
    let config = serde_json::to_string(&meta.config).map_err(|e| bad(path, e.to_string()))?;
    let backbone = serde_json::to_string(&meta.backbone).map_err(|e| bad(path, e.to_string()))?;
    let metadata = HashMap::from([
        ("format".to_string(), CHECKPOINT_FORMAT.to_string()),
        ("config".to_string(), config),
        ("backbone".to_string(), backbone),
        ("epoch".to_string(), meta.epoch.to_string()),
    ]);
    write_tensor_file(path, tensors, metadata)
}

/// Reads a checkpoint file: its bytes and its metadata.
pub fn read_checkpoint(path: &Path) -> Result<(Vec<u8>, CheckpointMeta)> {
    let file = TensorFile::read(path, CHECKPOINT_FORMAT)?;
    let config: CompactConfig = file.json("config")?;
    let backbone: BackboneConfig = match file.entry("backbone") {
        Some(text) => file.parse_json("backbone", text)?,
        None => BackboneConfig::Cnn,
    };
    let epoch = file
        .get("epoch")?
        .parse()
        .map_err(|e| bad(path, format!("epoch: {e}")))?;
    Ok((
        file.bytes,
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
