//! Decoder configuration, read from a Hugging Face `config.json` or GGUF metadata.

use std::path::Path;

use serde::Deserialize;

use super::error::{PromptModelError, Result};

/// The decoder families this module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Llama family (Llama 2/3, SmolLM, TinyLlama...): no attention biases by default.
    Llama,
    /// Qwen2 family: biases on the q/k/v projections.
    Qwen2,
}

impl Architecture {
    /// Maps a Hugging Face `model_type` or GGUF `general.architecture` to a family.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "llama" | "mistral" => Ok(Self::Llama),
            "qwen2" => Ok(Self::Qwen2),
            other => Err(PromptModelError::UnsupportedArchitecture(other.to_string())),
        }
    }
}

/// Hyper-parameters of a Llama/Qwen2 decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderConfig {
    /// Model family.
    pub architecture: Architecture,
    /// Vocabulary size (rows of the embedding matrix).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Number of decoder layers.
    pub num_hidden_layers: usize,
    /// Number of query heads.
    pub num_attention_heads: usize,
    /// Number of key/value heads (grouped-query attention when smaller).
    pub num_key_value_heads: usize,
    /// Size of one attention head.
    pub head_dim: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base frequency.
    pub rope_theta: f64,
    /// RoPE frequency scaling.
    pub rope_scaling: RopeScaling,
    /// Longest supported sequence (size of the RoPE tables).
    pub max_position_embeddings: usize,
    /// Whether the output projection reuses the token embeddings.
    pub tie_word_embeddings: bool,
    /// Whether q/k/v projections have biases (Qwen2: true).
    pub qkv_bias: bool,
    /// Whether the output projection of attention has a bias.
    pub o_bias: bool,
    /// Whether the MLP projections have biases.
    pub mlp_bias: bool,
    /// Beginning-of-sequence token id, if any.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence token ids.
    pub eos_token_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct RopeParameters {
    rope_theta: Option<f64>,
    rope_type: Option<String>,
    #[serde(rename = "type")]
    legacy_type: Option<String>,
    factor: Option<f64>,
    low_freq_factor: Option<f64>,
    high_freq_factor: Option<f64>,
    original_max_position_embeddings: Option<usize>,
}

/// How RoPE frequencies are adjusted for long contexts.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// Llama 3.1+ frequency-dependent scaling (`rope_type: llama3`).
    Llama3 {
        /// Overall scale factor.
        factor: f64,
        /// Wavelengths above `original / low_freq_factor` are fully scaled.
        low_freq_factor: f64,
        /// Wavelengths below `original / high_freq_factor` are kept.
        high_freq_factor: f64,
        /// Context length the model was pre-trained with.
        original_max_position_embeddings: usize,
    },
    /// Per-frequency divisors (llama.cpp's `rope_freqs.weight`).
    FreqFactors(Vec<f32>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: f64,
    rope_theta: Option<f64>,
    rope_parameters: Option<RopeParameters>,
    rope_scaling: Option<RopeParameters>,
    max_position_embeddings: Option<usize>,
    #[serde(default)]
    tie_word_embeddings: bool,
    attention_bias: Option<bool>,
    #[serde(default)]
    mlp_bias: bool,
    hidden_act: Option<String>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<OneOrMany>,
}

fn config_error(path: &Path, reason: impl Into<String>) -> PromptModelError {
    PromptModelError::Config {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl DecoderConfig {
    /// Reads a decoder config from a `config.json` file. LLaVA configs are
    /// accepted: their `text_config` is used.
    pub fn from_file(path: &Path) -> Result<Self> {
        let value: serde_json::Value = crate::ml::json::read_json(path)?;
        Self::from_json(&value, path)
    }

    /// Builds the config from a parsed `config.json` (`origin` names it in errors).
    pub fn from_json(value: &serde_json::Value, origin: &Path) -> Result<Self> {
        let value = match value.get("text_config") {
            Some(text) if value.get("model_type").and_then(|m| m.as_str()) == Some("llava") => text,
            _ => value,
        };
        let raw: RawConfig = serde_json::from_value(value.clone())
            .map_err(|e| config_error(origin, e.to_string()))?;
        let model_type = raw
            .model_type
            .as_deref()
            .ok_or_else(|| config_error(origin, "missing `model_type`"))?;
        let architecture = Architecture::from_name(model_type)?;
        if let Some(act) = raw.hidden_act.as_deref() {
            if act != "silu" {
                return Err(config_error(
                    origin,
                    format!("hidden_act `{act}` is not supported (only silu)"),
                ));
            }
        }
        let mut rope_scaling = RopeScaling::None;
        for rope in [&raw.rope_parameters, &raw.rope_scaling]
            .into_iter()
            .flatten()
        {
            match rope.rope_type.as_deref().or(rope.legacy_type.as_deref()) {
                None | Some("default") => {}
                Some("llama3") => {
                    rope_scaling = RopeScaling::Llama3 {
                        factor: rope.factor.unwrap_or(8.0),
                        low_freq_factor: rope.low_freq_factor.unwrap_or(1.0),
                        high_freq_factor: rope.high_freq_factor.unwrap_or(4.0),
                        original_max_position_embeddings: rope
                            .original_max_position_embeddings
                            .unwrap_or(8192),
                    }
                }
                Some(kind) => {
                    return Err(config_error(
                        origin,
                        format!("rope type `{kind}` is not supported (default, llama3)"),
                    ));
                }
            }
        }
        let rope_theta = raw
            .rope_theta
            .or(raw.rope_parameters.as_ref().and_then(|r| r.rope_theta))
            .unwrap_or(10_000.0);
        let heads = raw.num_attention_heads;
        if heads == 0 || !raw.hidden_size.is_multiple_of(heads) && raw.head_dim.is_none() {
            return Err(config_error(
                origin,
                format!(
                    "hidden_size {} is not divisible by num_attention_heads {heads}",
                    raw.hidden_size
                ),
            ));
        }
        let qkv_default = architecture == Architecture::Qwen2;
        let cfg = Self {
            architecture,
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_hidden_layers: raw.num_hidden_layers,
            num_attention_heads: heads,
            num_key_value_heads: raw.num_key_value_heads.unwrap_or(heads),
            head_dim: raw.head_dim.unwrap_or(raw.hidden_size / heads),
            rms_norm_eps: raw.rms_norm_eps,
            rope_theta,
            rope_scaling,
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(4096),
            tie_word_embeddings: raw.tie_word_embeddings,
            qkv_bias: raw.attention_bias.unwrap_or(qkv_default),
            o_bias: raw.attention_bias.unwrap_or(false) && architecture == Architecture::Llama,
            mlp_bias: raw.mlp_bias,
            bos_token_id: raw.bos_token_id,
            eos_token_ids: match raw.eos_token_id {
                Some(OneOrMany::One(id)) => vec![id],
                Some(OneOrMany::Many(ids)) => ids,
                None => Vec::new(),
            },
        };
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Checks the invariants the decoder relies on.
    pub fn validate(&self, origin: &Path) -> Result<()> {
        if self.num_key_value_heads == 0
            || !self
                .num_attention_heads
                .is_multiple_of(self.num_key_value_heads)
        {
            return Err(config_error(
                origin,
                format!(
                    "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                    self.num_attention_heads, self.num_key_value_heads
                ),
            ));
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) {
            return Err(config_error(
                origin,
                format!("head_dim {} must be even and positive", self.head_dim),
            ));
        }
        if self.vocab_size == 0 || self.num_hidden_layers == 0 {
            return Err(config_error(
                origin,
                "vocab_size and num_hidden_layers must be positive",
            ));
        }
        Ok(())
    }

    /// Number of query heads sharing one key/value head.
    pub fn gqa_groups(&self) -> usize {
        self.num_attention_heads / self.num_key_value_heads
    }
}
