//! The Llama/Qwen2 decoder: token embeddings, decoder layers, final RMSNorm
//! and output projection, with a KV cache for generation.

use candle_core::{Device, IndexOp, Tensor};
use candle_nn::VarBuilder;

use super::attention::{causal_mask, KvCache};
use super::config::DecoderConfig;
use super::error::{PromptModelError, Result};
use super::layer::DecoderLayer;
use super::lora::LoraLinear;
use super::ops;
use super::rope::RotaryTables;
use super::weights::{VarBuilderSource, WeightSource};

/// Longest context the RoPE tables are built for, whatever the config says.
const MAX_CONTEXT: usize = 8192;

/// A causal decoder-only language model (Llama or Qwen2 family).
#[derive(Debug, Clone)]
pub struct Decoder {
    cfg: DecoderConfig,
    pub(super) embed_tokens: Tensor,
    pub(super) layers: Vec<DecoderLayer>,
    pub(super) norm: Tensor,
    pub(super) lm_head: LoraLinear,
    rope: RotaryTables,
    cache: Vec<KvCache>,
    device: Device,
}

impl Decoder {
    /// Loads a Hugging Face `*ForCausalLM` checkpoint (`model.*`, `lm_head.*`).
    pub fn new(cfg: &DecoderConfig, vb: VarBuilder) -> Result<Self> {
        Self::from_source(cfg, &VarBuilderSource::new(vb), "")
    }

    /// Loads from any weight source; `prefix` is prepended to every name
    /// (e.g. `language_model.` inside a LLaVA checkpoint).
    pub fn from_source(cfg: &DecoderConfig, src: &dyn WeightSource, prefix: &str) -> Result<Self> {
        let h = cfg.hidden_size;
        let embed_tokens = src.tensor(
            &format!("{prefix}model.embed_tokens.weight"),
            &[cfg.vocab_size, h],
        )?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::new(cfg, src, &format!("{prefix}model.layers.{i}")))
            .collect::<Result<Vec<_>>>()?;
        let norm = src.tensor(&format!("{prefix}model.norm.weight"), &[h])?;
        let lm_head = src.lm_head(
            &format!("{prefix}lm_head"),
            &embed_tokens,
            cfg.tie_word_embeddings,
            cfg.vocab_size,
            h,
        )?;
        let device = src.device().clone();
        let rope = RotaryTables::new(
            cfg.head_dim,
            cfg.rope_theta,
            &cfg.rope_scaling,
            cfg.max_position_embeddings.min(MAX_CONTEXT),
            &device,
        )?;
        Ok(Self {
            cfg: cfg.clone(),
            embed_tokens,
            cache: vec![None; layers.len()],
            layers,
            norm,
            lm_head,
            rope,
            device,
        })
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Number of positions held in the KV cache.
    pub fn cached_len(&self) -> usize {
        match self.cache.first() {
            Some(Some((k, _))) => k.dims().get(2).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// A copy of the KV cache (cheap: tensors are shared, not copied).
    pub fn kv_cache(&self) -> Vec<KvCache> {
        self.cache.clone()
    }

    /// Restores a cache taken with [`Decoder::kv_cache`], keeping only its
    /// first `len` positions.
    pub fn restore_kv_cache(&mut self, cache: &[KvCache], len: usize) -> Result<()> {
        if cache.len() != self.layers.len() {
            return Err(PromptModelError::Input(format!(
                "KV cache has {} layers, the model {}",
                cache.len(),
                self.layers.len()
            )));
        }
        let mut restored = Vec::with_capacity(cache.len());
        for slot in cache {
            restored.push(match slot {
                Some((k, v)) if k.dim(2)? >= len && len > 0 => {
                    Some((k.narrow(2, 0, len)?, v.narrow(2, 0, len)?))
                }
                Some(_) => {
                    return Err(PromptModelError::Input(format!(
                        "KV cache holds fewer than {len} positions"
                    )))
                }
                None => None,
            });
        }
        self.cache = restored;
        Ok(())
    }

    /// Most positions (prompt plus generated tokens) the model handles.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings.min(MAX_CONTEXT)
    }

    /// Forgets all cached keys and values.
    pub fn clear_kv_cache(&mut self) {
        self.cache.iter_mut().for_each(|c| *c = None);
    }

    /// Token embeddings of `ids` (batch, seq) -> (batch, seq, hidden).
    pub fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids
            .dims2()
            .map_err(|e| PromptModelError::Input(format!("token ids must be (batch, seq): {e}")))?;
        let flat = ids.flatten_all()?;
        Ok(self
            .embed_tokens
            .embedding(&flat)?
            .reshape((b, t, self.cfg.hidden_size))?)
    }

    fn run(
        &self,
        embeds: &Tensor,
        offset: usize,
        mut cache: Option<&mut [KvCache]>,
    ) -> Result<Tensor> {
        let (_, t, h) = embeds.dims3().map_err(|e| {
            PromptModelError::Input(format!("embeddings must be (batch, seq, hidden): {e}"))
        })?;
        if h != self.cfg.hidden_size || t == 0 {
            return Err(PromptModelError::Input(format!(
                "embeddings {:?} do not match hidden size {} (or are empty)",
                embeds.dims(),
                self.cfg.hidden_size
            )));
        }
        let (cos, sin) = self.rope.slice(offset, t)?;
        let mask = causal_mask(t, offset, &self.device)?;
        let mut x = embeds.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().and_then(|c| c.get_mut(i));
            x = layer.forward(&x, &cos, &sin, mask.as_ref(), slot)?;
        }
        Ok(ops::rms_norm(&x, &self.norm, self.cfg.rms_norm_eps)?)
    }

    /// Final hidden states (after the last RMSNorm) for `embeds`
    /// (batch, seq, hidden), without touching the KV cache.
    pub fn hidden_states(&self, embeds: &Tensor) -> Result<Tensor> {
        self.run(embeds, 0, None)
    }

    /// Logits of every position (batch, seq, vocab) for token ids (batch, seq),
    /// without touching the KV cache (scoring and training).
    pub fn logits(&self, ids: &Tensor) -> Result<Tensor> {
        self.logits_from_embeds(&self.embed(ids)?)
    }

    /// Logits of every position for input embeddings (batch, seq, hidden).
    pub fn logits_from_embeds(&self, embeds: &Tensor) -> Result<Tensor> {
        let hidden = self.run(embeds, 0, None)?;
        Ok(self.lm_head.forward(&hidden)?)
    }

    /// Incremental step for generation: feeds `ids` (batch, seq) at positions
    /// `offset..`, extends the KV cache and returns the logits of the last
    /// position (batch, vocab). `offset` must equal [`Decoder::cached_len`].
    pub fn forward(&mut self, ids: &Tensor, offset: usize) -> Result<Tensor> {
        let embeds = self.embed(ids)?;
        self.forward_embeds(&embeds, offset)
    }

    /// Like [`Decoder::forward`] with input embeddings (batch, seq, hidden).
    pub fn forward_embeds(&mut self, embeds: &Tensor, offset: usize) -> Result<Tensor> {
        let cached = self.cached_len();
        if offset != cached {
            return Err(PromptModelError::Input(format!(
                "offset {offset} does not match the {cached} cached positions"
            )));
        }
        let mut cache = std::mem::take(&mut self.cache);
        let hidden = self.run(embeds, offset, Some(&mut cache));
        self.cache = cache;
        if hidden.is_err() {
            self.clear_kv_cache();
        }
        let hidden = hidden?;
        let t = hidden.dim(1)?;
        let last = hidden.i((.., t - 1..t, ..))?;
        Ok(self.lm_head.forward(&last)?.squeeze(1)?)
    }
}
