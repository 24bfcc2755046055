//! CLIP vision tower (candle-transformers' implementation) configured from a
//! Hugging Face `vision_config`, exposing per-layer hidden states as LLaVA
//! needs them.

use std::path::Path;

use candle_core::{IndexOp, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::text_model::Activation;
use candle_transformers::models::clip::vision_model::{ClipVisionConfig, ClipVisionTransformer};
use serde::Deserialize;

use super::error::{PromptModelError, Result};

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
    let err = |reason: String| PromptModelError::Config {
        path: origin.to_path_buf(),
        reason,
    };
    let raw: RawVisionConfig =
        serde_json::from_value(value.clone()).map_err(|e| err(format!("vision_config: {e}")))?;
    if let Some(kind) = raw.model_type.as_deref() {
        if !kind.starts_with("clip") {
            return Err(PromptModelError::UnsupportedArchitecture(format!(
                "vision tower `{kind}` (only CLIP is implemented)"
            )));
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

    /// The configuration.
    pub fn config(&self) -> &ClipVisionConfig {
        &self.cfg
    }

    fn check_pixels(&self, pixels: &Tensor) -> Result<()> {
        let dims = pixels.dims();
        let s = self.cfg.image_size;
        if dims.len() != 4 || dims[1] != self.cfg.num_channels || dims[2] != s || dims[3] != s {
            return Err(PromptModelError::Input(format!(
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
            return Err(PromptModelError::Input(format!(
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
            _ => Err(PromptModelError::Input(
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
