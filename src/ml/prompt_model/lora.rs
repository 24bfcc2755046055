//! Linear layers that accept LoRA adapters.
//!
//! `y = x W^T + b + scale * (x A^T) B^T` with `A: (rank, in)`, `B: (out, rank)`
//! and `scale = alpha / rank` (the PEFT convention). The base weight is either
//! a dense f32 tensor (trainable adapters, mergeable) or a quantised GGUF
//! matrix (fast inference; adapters still apply but cannot be merged).

use candle_core::quantized::QMatMul;
use candle_core::{Module, Tensor};

use super::error::{PromptModelError, Result};

/// Which projection of a decoder layer an adapter is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoraTarget {
    /// Attention query projection.
    Q,
    /// Attention key projection.
    K,
    /// Attention value projection.
    V,
    /// Attention output projection.
    O,
    /// MLP gate projection.
    Gate,
    /// MLP up projection.
    Up,
    /// MLP down projection.
    Down,
}

impl LoraTarget {
    /// All targets, in checkpoint order.
    pub const ALL: [LoraTarget; 7] = [
        Self::Q,
        Self::K,
        Self::V,
        Self::O,
        Self::Gate,
        Self::Up,
        Self::Down,
    ];

    /// Hugging Face module name (`q_proj`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Q => "q_proj",
            Self::K => "k_proj",
            Self::V => "v_proj",
            Self::O => "o_proj",
            Self::Gate => "gate_proj",
            Self::Up => "up_proj",
            Self::Down => "down_proj",
        }
    }

    /// Parses a module name (`q_proj` or `q`).
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name || t.name().trim_end_matches("_proj") == name)
            .ok_or_else(|| PromptModelError::Lora(format!("unknown LoRA target `{name}`")))
    }
}

/// Rank, alpha and targets of a set of adapters.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    /// Rank of the low-rank update.
    pub rank: usize,
    /// Scaling numerator: the update is multiplied by `alpha / rank`.
    pub alpha: f64,
    /// Projections that get an adapter in every layer.
    pub targets: Vec<LoraTarget>,
}

impl Default for LoraConfig {
    /// Rank 8, alpha 16, on q/k/v/o.
    fn default() -> Self {
        Self {
            rank: 8,
            alpha: 16.0,
            targets: vec![LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O],
        }
    }
}

impl LoraConfig {
    /// `alpha / rank`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }
}

/// The two low-rank factors of one adapter.
#[derive(Debug, Clone)]
pub struct LoraAdapter {
    /// Down factor, shape (rank, in_features).
    pub a: Tensor,
    /// Up factor, shape (out_features, rank).
    pub b: Tensor,
    /// Multiplier of the update (`alpha / rank`).
    pub scale: f64,
}

#[derive(Debug, Clone)]
enum Base {
    Dense(candle_nn::Linear),
    Quantized {
        matmul: QMatMul,
        bias: Option<Tensor>,
    },
}

/// A linear layer with an optional LoRA adapter.
#[derive(Debug, Clone)]
pub struct LoraLinear {
    name: String,
    in_features: usize,
    out_features: usize,
    base: Base,
    adapter: Option<LoraAdapter>,
    enabled: bool,
}

impl LoraLinear {
    /// Wraps a dense weight `(out, in)` and optional bias `(out)`.
    pub fn dense(name: &str, weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        let (out_features, in_features) = weight.dims2().map_err(|e| PromptModelError::Tensor {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            name: name.to_string(),
            in_features,
            out_features,
            base: Base::Dense(candle_nn::Linear::new(weight, bias)),
            adapter: None,
            enabled: true,
        })
    }

    /// Wraps a quantised matrix of logical shape `(out, in)`.
    pub fn quantized(
        name: &str,
        matmul: QMatMul,
        out_features: usize,
        in_features: usize,
        bias: Option<Tensor>,
    ) -> Self {
        Self {
            name: name.to_string(),
            in_features,
            out_features,
            base: Base::Quantized { matmul, bias },
            adapter: None,
            enabled: true,
        }
    }

    /// Checkpoint name of the layer (without `.weight`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Whether the base weight is quantised.
    pub fn is_quantized(&self) -> bool {
        matches!(self.base, Base::Quantized { .. })
    }

    /// The dense base weight `(out, in)`, or `None` for a quantised base.
    pub fn weight(&self) -> Option<&Tensor> {
        match &self.base {
            Base::Dense(l) => Some(l.weight()),
            Base::Quantized { .. } => None,
        }
    }

    /// The bias `(out)`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        match &self.base {
            Base::Dense(l) => l.bias(),
            Base::Quantized { bias, .. } => bias.as_ref(),
        }
    }

    /// Attaches an adapter after checking the factor shapes.
    pub fn set_adapter(&mut self, adapter: LoraAdapter) -> Result<()> {
        let bad = |what: String| PromptModelError::Lora(format!("{}: {what}", self.name));
        let (rank, a_in) = adapter.a.dims2().map_err(|e| bad(format!("A: {e}")))?;
        let (b_out, b_rank) = adapter.b.dims2().map_err(|e| bad(format!("B: {e}")))?;
        if a_in != self.in_features || b_out != self.out_features || b_rank != rank {
            return Err(bad(format!(
                "factor shapes A {:?} B {:?} do not fit a {}x{} layer",
                adapter.a.dims(),
                adapter.b.dims(),
                self.out_features,
                self.in_features
            )));
        }
        self.adapter = Some(adapter);
        Ok(())
    }

    /// The attached adapter, if any.
    pub fn adapter(&self) -> Option<&LoraAdapter> {
        self.adapter.as_ref()
    }

    /// Removes the adapter and returns it.
    pub fn take_adapter(&mut self) -> Option<LoraAdapter> {
        self.adapter.take()
    }

    /// Turns the adapter on or off without removing it.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Whether an adapter is attached and enabled.
    pub fn adapter_active(&self) -> bool {
        self.enabled && self.adapter.is_some()
    }

    /// Folds the adapter into the dense base weight (`W += scale * B A`) and
    /// removes it. A quantised base cannot be merged.
    pub fn merge(&mut self) -> Result<()> {
        let Some(adapter) = self.adapter.take() else {
            return Ok(());
        };
        match &self.base {
            Base::Dense(linear) => {
                let delta = (adapter.b.matmul(&adapter.a)? * adapter.scale)?;
                let weight = (linear.weight() + delta.detach())?;
                self.base = Base::Dense(candle_nn::Linear::new(weight, linear.bias().cloned()));
                Ok(())
            }
            Base::Quantized { .. } => {
                self.adapter = Some(adapter);
                Err(PromptModelError::Lora(format!(
                    "{}: cannot merge into a quantised base weight (load the model dequantised)",
                    self.name
                )))
            }
        }
    }

    /// Applies the layer to `x` of shape (..., in_features).
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = match &self.base {
            Base::Dense(linear) if super::frozen::use_frozen(x, linear.weight()) => {
                let y = super::frozen::frozen_matmul(x, linear.weight())?;
                match linear.bias() {
                    Some(b) => y.broadcast_add(b)?,
                    None => y,
                }
            }
            Base::Dense(linear) => linear.forward(x)?,
            Base::Quantized { matmul, bias } => {
                let y = matmul.forward(x)?;
                match bias {
                    Some(b) => y.broadcast_add(b)?,
                    None => y,
                }
            }
        };
        match (&self.adapter, self.enabled) {
            (Some(ad), true) => {
                let low = x.broadcast_matmul(&ad.a.t()?)?;
                let up = low.broadcast_matmul(&ad.b.t()?)?;
                y + (up * ad.scale)?
            }
            _ => Ok(y),
        }
    }
}
