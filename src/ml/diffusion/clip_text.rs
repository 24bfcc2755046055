//! CLIP text encoder (Hugging Face `CLIPTextModel` layout), batch-safe.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Embedding, LayerNorm, Module, VarBuilder};

use super::blocks::at_rest::{embedding, layer_norm, linear, Linear};
use super::blocks::kernels::Kernels;
use serde::Deserialize;

use super::error::{DiffusionError, Result};
use crate::ml::json::read_json;

/// Activation of the CLIP MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipActivation {
    /// `x * sigmoid(1.702 x)` (SD 1.x).
    QuickGelu,
    /// tanh-approximated GELU (SD 2.x text encoders write "gelu").
    Gelu,
}

impl ClipActivation {
    fn apply(self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::QuickGelu => xs * candle_nn::ops::sigmoid(&(xs * 1.702)?)?,
            Self::Gelu => xs.gelu_erf(),
        }
    }
}

/// `config.json` of a CLIP text encoder (`text_encoder/config.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct ClipTextConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads.
    pub num_attention_heads: usize,
    /// Context length (77).
    pub max_position_embeddings: usize,
    /// MLP activation.
    #[serde(default = "default_act")]
    pub hidden_act: ClipActivation,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn default_act() -> ClipActivation {
    ClipActivation::QuickGelu
}
fn default_eps() -> f64 {
    1e-5
}

impl ClipTextConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(read_json(path)?)
    }
}

#[derive(Debug)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &ClipTextConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            q_proj: linear(h, h, vb.pp("q_proj"))?,
            k_proj: linear(h, h, vb.pp("k_proj"))?,
            v_proj: linear(h, h, vb.pp("v_proj"))?,
            out_proj: linear(h, h, vb.pp("out_proj"))?,
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
        })
    }

    fn split(&self, xs: &Tensor, b: usize, s: usize) -> candle_core::Result<Tensor> {
        xs.reshape((b, s, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    fn forward(&self, xs: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, s, c) = xs.dims3()?;
        let scale = (self.head_dim as f64).powf(-0.5);
        let q = self.split(&(self.q_proj.forward(xs)? * scale)?, b, s)?;
        let k = self.split(&self.k_proj.forward(xs)?, b, s)?;
        let v = self.split(&self.v_proj.forward(xs)?, b, s)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, s, c))?;
        self.out_proj.forward(&out)
    }
}

#[derive(Debug)]
struct EncoderLayer {
    self_attn: Attention,
    layer_norm1: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    layer_norm2: LayerNorm,
    act: ClipActivation,
}

impl EncoderLayer {
    fn new(cfg: &ClipTextConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            self_attn: Attention::new(cfg, vb.pp("self_attn"))?,
            layer_norm1: layer_norm(h, cfg.layer_norm_eps, vb.pp("layer_norm1"))?,
            fc1: linear(h, cfg.intermediate_size, vb.pp("mlp").pp("fc1"))?,
            fc2: linear(cfg.intermediate_size, h, vb.pp("mlp").pp("fc2"))?,
            layer_norm2: layer_norm(h, cfg.layer_norm_eps, vb.pp("layer_norm2"))?,
            act: cfg.hidden_act,
        })
    }

    fn forward(&self, xs: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let h = self
            .self_attn
            .forward(&self.layer_norm1.forward(xs)?, mask)?;
        let xs = (xs + h)?;
        let h = self.layer_norm2.forward(&xs)?;
        let h = self.fc2.forward(&self.act.apply(&self.fc1.forward(&h)?)?)?;
        xs + h
    }
}

/// The CLIP text transformer; `forward` gives `last_hidden_state`.
#[derive(Debug)]
pub struct ClipTextModel {
    token_embedding: Embedding,
    position_embedding: Embedding,
    layers: Vec<EncoderLayer>,
    final_layer_norm: LayerNorm,
    config: ClipTextConfig,
    kernels: Kernels,
    bf16_operands: bool,
}

impl ClipTextModel {
    /// Builds the model; `vb` may point at the checkpoint root (with or
    /// without the `text_model.` prefix).
    pub fn new(cfg: &ClipTextConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let vb = if vb.contains_tensor("text_model.embeddings.token_embedding.weight") {
            vb.pp("text_model")
        } else {
            vb
        };
        let emb = vb.pp("embeddings");
        let token_embedding =
            embedding(cfg.vocab_size, cfg.hidden_size, emb.pp("token_embedding"))?;
        let position_embedding = embedding(
            cfg.max_position_embeddings,
            cfg.hidden_size,
            emb.pp("position_embedding"),
        )?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| EncoderLayer::new(cfg, vb.pp("encoder").pp("layers").pp(i)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let final_layer_norm = layer_norm(
            cfg.hidden_size,
            cfg.layer_norm_eps,
            vb.pp("final_layer_norm"),
        )?;
        Ok(Self {
            token_embedding,
            position_embedding,
            layers,
            final_layer_norm,
            config: cfg.clone(),
            kernels: Kernels::from_env(),
            bf16_operands: super::blocks::bf16::Bf16Mode::from_env().enabled(),
        })
    }

    /// Loads `text_encoder/` (config.json + model.safetensors) of a diffusers
    /// folder.
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let cfg = ClipTextConfig::from_file(&dir.join("config.json"))?;
        let file = super::load::find_weights(dir, &["model.safetensors"])?;
        let vb = super::load::mmap_var_builder(std::slice::from_ref(&file), dtype, device)?;
        Self::new(&cfg, vb).map_err(|source| DiffusionError::Weights {
            path: file.display().to_string(),
            source,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClipTextConfig {
        &self.config
    }

    /// The kernels its forward passes run ([`super::blocks::kernels`];
    /// set at construction from `ADSTUDIO_KERNELS`).
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Runs the forward passes with `kernels`.
    pub fn set_kernels(&mut self, kernels: Kernels) {
        self.kernels = kernels;
    }

    /// Rounds matrix-product operands to bf16 in the forward passes
    /// ([`super::blocks::bf16`]; set at construction from `ADSTUDIO_BF16`).
    pub fn set_bf16_operands(&mut self, on: bool) {
        self.bf16_operands = on;
    }

    /// `last_hidden_state` for token ids of shape `(batch, seq)` (u32 or i64).
    pub fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        self.forward_clip_skip(input_ids, 0)
    }

    /// Hidden states `clip_skip` layers before the last, passed through the
    /// final layer norm (AUTOMATIC1111's "clip skip"; 0 = last layer).
    pub fn forward_clip_skip(&self, input_ids: &Tensor, clip_skip: usize) -> Result<Tensor> {
        super::blocks::kernels::scope(self.kernels, self.bf16_operands, || {
            let (_batch, s) = input_ids.dims2()?;
            if s > self.config.max_position_embeddings {
                return Err(DiffusionError::InvalidInput(format!(
                    "text encoder input has {s} tokens, the model takes at most {}",
                    self.config.max_position_embeddings
                )));
            }
            if clip_skip >= self.layers.len() {
                return Err(DiffusionError::InvalidInput(format!(
                    "clip skip {clip_skip} with only {} layers",
                    self.layers.len()
                )));
            }
            let device = input_ids.device();
            let ids = input_ids.to_dtype(DType::U32)?;
            let pos = Tensor::arange(0u32, s as u32, device)?;
            let xs = self
                .token_embedding
                .forward(&ids)?
                .broadcast_add(&self.position_embedding.forward(&pos)?)?;
            let mask = causal_mask(s, xs.dtype(), device)?;
            let mut xs = xs;
            for layer in &self.layers[..self.layers.len() - clip_skip] {
                xs = layer.forward(&xs, &mask)?;
            }
            Ok(self.final_layer_norm.forward(&xs)?)
        })
    }
}

/// `(1, 1, s, s)` additive mask: 0 on and below the diagonal, -inf above.
fn causal_mask(s: usize, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
    let values: Vec<f32> = (0..s)
        .flat_map(|i| (0..s).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (1, 1, s, s), device)?.to_dtype(dtype)
}

/// Helper for callers: token ids as a `(1, len)` tensor.
pub fn ids_tensor(ids: &[u32], device: &Device) -> Result<Tensor> {
    Ok(Tensor::new(ids, device)?.unsqueeze(0)?)
}
