//! A CLIP vision tower as the compact reward model's image backbone: the
//! shared [`ClipVision`] of [`crate::ml::clip_vision`] (the one LLaVA uses)
//! loaded from a Hugging Face CLIP folder (`config.json` +
//! `model.safetensors` with `vision_model.*` keys, and optionally
//! `visual_projection.*`), frozen, pooled to one vector per image.

use std::path::PathBuf;

use candle_core::{Device, IndexOp, Module, Tensor};

use super::error::{Result, RewardError};
use crate::ml::clip_vision::{ClipVision, CLIP_MEAN, CLIP_STD};

/// How the tower's outputs become one feature vector per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipPooling {
    /// The CLS token after the post-layernorm (Hugging Face `pooler_output`).
    #[default]
    Cls,
    /// The mean of the last layer's patch tokens (CLS excluded, before the
    /// post-layernorm, as in Hugging Face `last_hidden_state`).
    MeanPatches,
}

fn yes() -> bool {
    true
}

/// Where the CLIP tower comes from and how it is used (serialised in the
/// reward checkpoint's `backbone` metadata).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipBackboneConfig {
    /// Hugging Face CLIP folder: `config.json` (a `clip_vision_model`
    /// config, or a full CLIP config with a `vision_config` entry) and
    /// `model.safetensors` (or shards with `model.safetensors.index.json`).
    pub dir: PathBuf,
    /// Pooling of the tower's outputs.
    #[serde(default)]
    pub pooling: ClipPooling,
    /// Apply `visual_projection` to the pooled vector (the folder must hold
    /// it); the features are then CLIP's image embeddings.
    #[serde(default)]
    pub project: bool,
    /// The tower is frozen: compute each training image's features once per
    /// `fit` instead of once per batch.
    #[serde(default = "yes")]
    pub cache_features: bool,
}

impl ClipBackboneConfig {
    /// CLS pooling, no projection, cached features.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            pooling: ClipPooling::Cls,
            project: false,
            cache_features: true,
        }
    }
}

/// Everything one pass of the tower gives.
#[derive(Debug, Clone)]
pub struct ClipTowerOutput {
    /// Last encoder layer (batch, 1 + patches, hidden), before the
    /// post-layernorm (Hugging Face `last_hidden_state`).
    pub last_hidden_state: Tensor,
    /// CLS token after the post-layernorm (batch, hidden).
    pub pooled: Tensor,
    /// `visual_projection(pooled)` (batch, projection_dim) when the
    /// projection is loaded (Hugging Face `image_embeds`).
    pub image_embeds: Option<Tensor>,
}

/// A frozen CLIP vision tower producing one feature vector per image.
#[derive(Debug, Clone)]
pub struct ClipTower {
    vision: ClipVision,
    config: ClipBackboneConfig,
    /// CLIP mean and std as (1, 3, 1, 1).
    mean: Tensor,
    std: Tensor,
}

impl ClipTower {
    /// Loads the tower from `config.dir` with [`ClipVision::load_folder`]
    /// (errors name the file and the tensor). Weights are plain tensors: no
    /// gradients ever reach them.
    pub fn load(config: &ClipBackboneConfig, device: &Device) -> Result<Self> {
        let vision = ClipVision::load_folder(&config.dir, config.project, device)?;
        let stats = |v: [f32; 3]| {
            Tensor::from_vec(v.to_vec(), (1, 3, 1, 1), device)
                .map_err(RewardError::candle("CLIP normalisation constants"))
        };
        Ok(Self {
            vision,
            config: config.clone(),
            mean: stats(CLIP_MEAN)?,
            std: stats(CLIP_STD)?,
        })
    }

    /// The backbone configuration.
    pub fn config(&self) -> &ClipBackboneConfig {
        &self.config
    }

    /// Side of the square input the tower takes.
    pub fn image_size(&self) -> usize {
        self.vision.config().image_size
    }

    /// Width of one image's feature vector.
    pub fn feature_dim(&self) -> usize {
        if self.config.project {
            self.vision.config().projection_dim
        } else {
            self.vision.config().embed_dim
        }
    }

    /// Runs the tower on CLIP-normalised pixels (batch, 3, S, S).
    pub fn encode(&self, pixels: &Tensor) -> Result<ClipTowerOutput> {
        let (last_hidden_state, pooled) = self.vision.last_hidden_and_pooled(pixels)?;
        let image_embeds = match self.vision.projection() {
            Some(p) => Some(
                p.forward(&pooled)
                    .map_err(RewardError::candle("CLIP visual_projection"))?,
            ),
            None => None,
        };
        Ok(ClipTowerOutput {
            last_hidden_state,
            pooled,
            image_embeds,
        })
    }

    /// Feature vectors (batch, [`ClipTower::feature_dim`]) of CLIP-normalised
    /// pixels: pooled as configured, then projected if configured.
    pub fn features_from_pixels(&self, pixels: &Tensor) -> Result<Tensor> {
        let out = self.encode(pixels)?;
        let pooled = match self.config.pooling {
            ClipPooling::Cls => out.pooled,
            ClipPooling::MeanPatches => {
                let n = out
                    .last_hidden_state
                    .dim(1)
                    .map_err(RewardError::candle("CLIP hidden states"))?;
                out.last_hidden_state
                    .i((.., 1..n, ..))
                    .and_then(|p| p.mean(1))
                    .map_err(RewardError::candle("CLIP mean of patch tokens"))?
            }
        };
        match self.vision.projection() {
            Some(p) if self.config.project => p
                .forward(&pooled)
                .map_err(RewardError::candle("CLIP visual_projection")),
            _ => Ok(pooled),
        }
    }

    /// Converts images in the reward model's layout ([N, 3, S, S] in
    /// [-1, 1]) to CLIP-normalised pixels.
    pub fn pixels_from_unit_range(&self, images: &Tensor) -> Result<Tensor> {
        let run = || -> candle_core::Result<Tensor> {
            let unit = ((images + 1.0)? * 0.5)?;
            unit.broadcast_sub(&self.mean)?.broadcast_div(&self.std)
        };
        run().map_err(RewardError::candle("CLIP normalisation"))
    }

    /// Feature vectors of images in the reward model's layout ([N, 3, S, S]
    /// in [-1, 1], S = [`ClipTower::image_size`]), detached.
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        let pixels = self.pixels_from_unit_range(images)?;
        Ok(self.features_from_pixels(&pixels)?.detach())
    }
}
