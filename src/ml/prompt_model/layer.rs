//! One pre-norm decoder layer: RMSNorm, attention, RMSNorm, SwiGLU MLP.

use candle_core::Tensor;

use super::attention::{Attention, KvCache};
use super::config::DecoderConfig;
use super::error::Result;
use super::lora::{LoraLinear, LoraTarget};
use super::ops;
use super::weights::WeightSource;

/// SwiGLU feed-forward block: `down(silu(gate(x)) * up(x))`.
#[derive(Debug, Clone)]
pub struct Mlp {
    gate_proj: LoraLinear,
    up_proj: LoraLinear,
    down_proj: LoraLinear,
}

impl Mlp {
    /// Loads `prefix.{gate,up,down}_proj`.
    pub fn new(cfg: &DecoderConfig, src: &dyn WeightSource, prefix: &str) -> Result<Self> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            gate_proj: src.linear(&format!("{prefix}.gate_proj"), i, h, cfg.mlp_bias)?,
            up_proj: src.linear(&format!("{prefix}.up_proj"), i, h, cfg.mlp_bias)?,
            down_proj: src.linear(&format!("{prefix}.down_proj"), h, i, cfg.mlp_bias)?,
        })
    }

    /// Applies the block.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate_proj.forward(x)?)?;
        let up = self.up_proj.forward(x)?;
        Ok(self.down_proj.forward(&(gate * up)?)?)
    }
}

/// One decoder layer.
#[derive(Debug, Clone)]
pub struct DecoderLayer {
    pub(super) input_layernorm: Tensor,
    self_attn: Attention,
    pub(super) post_attention_layernorm: Tensor,
    mlp: Mlp,
    eps: f64,
}

impl DecoderLayer {
    /// Loads `prefix.{input_layernorm,self_attn,post_attention_layernorm,mlp}`.
    pub fn new(cfg: &DecoderConfig, src: &dyn WeightSource, prefix: &str) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            input_layernorm: src.tensor(&format!("{prefix}.input_layernorm.weight"), &[h])?,
            self_attn: Attention::new(cfg, src, &format!("{prefix}.self_attn"))?,
            post_attention_layernorm: src
                .tensor(&format!("{prefix}.post_attention_layernorm.weight"), &[h])?,
            mlp: Mlp::new(cfg, src, &format!("{prefix}.mlp"))?,
            eps: cfg.rms_norm_eps,
        })
    }

    /// The projection named by `target`.
    pub fn projection_mut(&mut self, target: LoraTarget) -> &mut LoraLinear {
        match target {
            LoraTarget::Gate => &mut self.mlp.gate_proj,
            LoraTarget::Up => &mut self.mlp.up_proj,
            LoraTarget::Down => &mut self.mlp.down_proj,
            LoraTarget::Q => &mut self.self_attn.q_proj,
            LoraTarget::K => &mut self.self_attn.k_proj,
            LoraTarget::V => &mut self.self_attn.v_proj,
            LoraTarget::O => &mut self.self_attn.o_proj,
        }
    }

    /// The projection named by `target`.
    pub fn projection(&self, target: LoraTarget) -> &LoraLinear {
        match target {
            LoraTarget::Gate => &self.mlp.gate_proj,
            LoraTarget::Up => &self.mlp.up_proj,
            LoraTarget::Down => &self.mlp.down_proj,
            LoraTarget::Q => &self.self_attn.q_proj,
            LoraTarget::K => &self.self_attn.k_proj,
            LoraTarget::V => &self.self_attn.v_proj,
            LoraTarget::O => &self.self_attn.o_proj,
        }
    }

    /// Applies the layer to `x` (batch, seq, hidden).
    pub fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let normed = ops::rms_norm(x, &self.input_layernorm, self.eps)?;
        let x = (x + self.self_attn.forward(&normed, cos, sin, mask, cache)?)?;
        let normed = ops::rms_norm(&x, &self.post_attention_layernorm, self.eps)?;
        Ok((&x + self.mlp.forward(&normed)?)?)
    }
}
