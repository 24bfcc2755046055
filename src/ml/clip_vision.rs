//! The CLIP vision tower of `ml`, shared by the prompt model (LLaVA's
//! vision tower) and the reward model (the compact model's frozen CLIP
//! backbone): candle-transformers' implementation configured from a Hugging
//! Face `vision_config`, exposing per-layer hidden states, the pooled output
//! and the optional `visual_projection`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::text_model::Activation;
use candle_transformers::models::clip::vision_model::{ClipVisionConfig, ClipVisionTransformer};
use serde::Deserialize;

use crate::ml::json::{read_json, JsonError};
use crate::ml::weights::{safetensors_files, WeightFiles, WeightsError};

/// CLIP's per-channel pixel mean (RGB, on [0, 1] values).
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// CLIP's per-channel pixel standard deviation (RGB, on [0, 1] values).
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// What can go wrong while loading or running the CLIP vision tower.
#[derive(Debug, thiserror::Error)]
pub enum ClipVisionError {
    /// The vision config is invalid or asks for something not implemented.
    #[error("invalid CLIP vision config {path}: {reason}")]
    Config {
        /// Where the config came from.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The vision tower is not a CLIP tower.
    #[error("vision tower `{0}` (only CLIP is implemented)")]
    Unsupported(String),
    /// The config file could not be read or parsed.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// A weight file could not be opened, or a tensor the folder must hold
    /// is missing (the message names file and tensor).
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The pixel tensor or a layer index does not fit the tower.
    #[error("invalid CLIP vision input: {0}")]
    Input(String),
    /// A tensor operation failed (a missing or mis-shaped tensor names its
    /// file and tensor).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias of the CLIP vision tower.
pub type Result<T> = std::result::Result<T, ClipVisionError>;

#[derive(Deserialize)]
struct RawVisionConfig {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default)]
    projection_dim: usize,
    #[serde(default = "three")]
    num_channels: usize,
    image_size: usize,
    patch_size: usize,
    hidden_act: Option<String>,
    layer_norm_eps: Option<f64>,
    model_type: Option<String>,
}

fn three() -> usize {
    3
}

/// Parses a CLIP `vision_config` (or a `clip_vision_model` config.json).
pub fn vision_config_from_json(
    value: &serde_json::Value,
    origin: &Path,
) -> Result<ClipVisionConfig> {
    let err = |reason: String| ClipVisionError::Config {
        path: origin.to_path_buf(),
        reason,
    };
    let raw: RawVisionConfig =
        serde_json::from_value(value.clone()).map_err(|e| err(format!("vision_config: {e}")))?;
    if let Some(kind) = raw.model_type.as_deref() {
        if !kind.starts_with("clip") {
            return Err(ClipVisionError::Unsupported(kind.to_string()));
        }
    }
    match raw.hidden_act.as_deref() {
        None | Some("quick_gelu") => {}
        Some(other) => {
            return Err(err(format!(
                "vision hidden_act `{other}` is not supported (quick_gelu only)"
            )))
        }
    }
    if raw.layer_norm_eps.is_some_and(|e| (e - 1e-5).abs() > 1e-12) {
        return Err(err(
            "vision layer_norm_eps other than 1e-5 is not supported".to_string(),
        ));
    }
    if raw.patch_size == 0 || !raw.image_size.is_multiple_of(raw.patch_size) {
        return Err(err(format!(
            "image_size {} is not a multiple of patch_size {}",
            raw.image_size, raw.patch_size
        )));
    }
    Ok(ClipVisionConfig {
        embed_dim: raw.hidden_size,
        activation: Activation::QuickGelu,
        intermediate_size: raw.intermediate_size,
        num_hidden_layers: raw.num_hidden_layers,
        num_attention_heads: raw.num_attention_heads,
        projection_dim: raw.projection_dim,
        num_channels: raw.num_channels,
        image_size: raw.image_size,
        patch_size: raw.patch_size,
    })
}

/// A CLIP vision encoder.
#[derive(Debug, Clone)]
pub struct ClipVision {
    model: ClipVisionTransformer,
    cfg: ClipVisionConfig,
    projection: Option<candle_nn::Linear>,
}

impl ClipVision {
    /// Loads `vision_model.*`-style weights from `vb` (already prefixed);
    /// `projection` is the var builder of `visual_projection` when present.
    pub fn new(
        cfg: &ClipVisionConfig,
        vb: VarBuilder,
        projection: Option<VarBuilder>,
    ) -> Result<Self> {
        let model = ClipVisionTransformer::new(vb, cfg)?;
        let projection = match projection {
            Some(p) => Some(candle_nn::linear_no_bias(
                cfg.embed_dim,
                cfg.projection_dim,
                p,
            )?),
            None => None,
        };
        Ok(Self {
            model,
            cfg: cfg.clone(),
            projection,
        })
    }

    /// Loads a Hugging Face CLIP folder: `config.json` (a
    /// `clip_vision_model` config, or a full CLIP config with a
    /// `vision_config` entry) and `model.safetensors` (or shards) with
    /// `vision_model.*` keys, memory-mapped in f32; with `project`, also
    /// `visual_projection.*`, which the folder must then hold.
    pub fn load_folder(dir: &Path, project: bool, device: &Device) -> Result<Self> {
        let config_path = dir.join("config.json");
        let json: serde_json::Value = read_json(&config_path)?;
        let vision_json = json.get("vision_config").unwrap_or(&json);
        let cfg = vision_config_from_json(vision_json, &config_path)?;
        let weights = WeightFiles::open(&safetensors_files(dir)?)?;
        if project && !weights.contains("visual_projection.weight") {
            return Err(ClipVisionError::Config {
                path: config_path,
                reason: format!(
                    "the projection is asked for, but `visual_projection.weight` is missing \
                     from {}",
                    weights
                        .paths()
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let vb = weights.var_builder(DType::F32, device);
        let projection = project.then(|| vb.pp("visual_projection"));
        Self::new(&cfg, vb.pp("vision_model"), projection)
    }

    /// The configuration.
    pub fn config(&self) -> &ClipVisionConfig {
        &self.cfg
    }

    fn check_pixels(&self, pixels: &Tensor) -> Result<()> {
        let dims = pixels.dims();
        let s = self.cfg.image_size;
        if dims.len() != 4 || dims[1] != self.cfg.num_channels || dims[2] != s || dims[3] != s {
            return Err(ClipVisionError::Input(format!(
                "pixel values {dims:?} must be (batch, {}, {s}, {s})",
                self.cfg.num_channels
            )));
        }
        Ok(())
    }

    /// Outputs of every encoder layer, each (batch, 1 + patches, hidden); the
    /// Hugging Face list `hidden_states` is this list preceded by the embeddings.
    pub fn layer_outputs(&self, pixels: &Tensor) -> Result<Vec<Tensor>> {
        self.check_pixels(pixels)?;
        let mut states = self.model.output_hidden_states(pixels)?;
        states.pop(); // pooled output
        Ok(states)
    }

    /// Hidden states of Hugging Face layer index `layer` (negative counts from
    /// the end of `hidden_states`, whose entry 0 is the embeddings output).
    pub fn hidden_state(&self, pixels: &Tensor, layer: i64) -> Result<Tensor> {
        let outputs = self.layer_outputs(pixels)?;
        let n = outputs.len() as i64; // hidden_states has n + 1 entries
        let index = if layer < 0 { n + 1 + layer } else { layer };
        if index < 1 || index > n {
            return Err(ClipVisionError::Input(format!(
                "vision feature layer {layer} is not one of the {n} encoder layers"
            )));
        }
        Ok(outputs[(index - 1) as usize].clone())
    }

    /// Last hidden state (batch, 1 + patches, hidden) and, with a projection,
    /// the image embeddings (batch, projection_dim) of `CLIPVisionModelWithProjection`.
    pub fn forward(&self, pixels: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        self.check_pixels(pixels)?;
        let last = self.hidden_state(pixels, -1)?;
        let embeds = match &self.projection {
            Some(p) => Some(p.forward(&self.model.forward(pixels)?)?),
            None => None,
        };
        Ok((last, embeds))
    }

    /// One pass through the tower: the last encoder layer's hidden states
    /// (batch, 1 + patches, hidden; Hugging Face `last_hidden_state`, before
    /// the post-layernorm) and the pooled output (batch, hidden: the CLS
    /// token after the post-layernorm, Hugging Face `pooler_output`).
    pub fn last_hidden_and_pooled(&self, pixels: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check_pixels(pixels)?;
        let mut states = self.model.output_hidden_states(pixels)?;
        let pooled = states.pop();
        let last = states.pop();
        match (last, pooled) {
            (Some(last), Some(pooled)) => Ok((last, pooled)),
            _ => Err(ClipVisionError::Input(
                "the vision tower has no encoder layers".to_string(),
            )),
        }
    }

    /// The `visual_projection` layer (hidden -> projection_dim), when loaded.
    pub fn projection(&self) -> Option<&candle_nn::Linear> {
        self.projection.as_ref()
    }

    /// Patch features without the CLS token: (batch, patches, hidden).
    pub fn patch_features(&self, pixels: &Tensor, layer: i64) -> Result<Tensor> {
        let h = self.hidden_state(pixels, layer)?;
        let n = h.dim(1)?;
        Ok(h.i((.., 1..n, ..))?)
    }
}
