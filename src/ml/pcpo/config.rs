//! Hyper-parameters of a PCPO (or plain DPO, `weight = 0`) fine-tune.

use serde::{Deserialize, Serialize};

use super::adamw::AdamWParams;
use super::error::{PcpoError, Result};
use crate::ml::prompt_model::{LoraConfig, LoraTarget};

/// Everything that determines a run (saved in checkpoints and adapters; a
/// resumed run must use the same settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcpoConfig {
    /// `b` of the losses (0.5).
    pub beta: f64,
    /// `w`, weight of the PCPO term (1.0; 0 gives plain DPO).
    pub weight: f64,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// AdamW constants.
    pub adamw: AdamWParams,
    /// Passes over the pairs.
    pub epochs: usize,
    /// Pairs per update.
    pub batch_size: usize,
    /// Share of all updates spent in linear warm-up (rounded up).
    pub warmup_ratio: f64,
    /// Seed of the adapters' initialisation, the shuffles and the corruptions.
    pub seed: u64,
    /// Token that replaces masked title tokens.
    pub mask_token_id: u32,
    /// Token that pads the rows of a mini-batch (never scored).
    pub pad_token_id: u32,
    /// LoRA rank.
    pub lora_rank: usize,
    /// LoRA alpha (the update is scaled by `alpha / rank`).
    pub lora_alpha: f64,
    /// Projections with adapters (`q_proj`, `v_proj`, ...).
    pub lora_targets: Vec<String>,
}

impl Default for PcpoConfig {
    /// b = 0.5, w = 1.0, lr 2e-4, 3 epochs of batches of 4, 10% warm-up,
    /// LoRA rank 8 / alpha 16 on q/k/v/o.
    fn default() -> Self {
        let lora = LoraConfig::default();
        Self {
            beta: 0.5,
            weight: 1.0,
            learning_rate: 2e-4,
            adamw: AdamWParams::default(),
            epochs: 3,
            batch_size: 4,
            warmup_ratio: 0.1,
            seed: 0,
            mask_token_id: 0,
            pad_token_id: 0,
            lora_rank: lora.rank,
            lora_alpha: lora.alpha,
            lora_targets: lora.targets.iter().map(|t| t.name().to_string()).collect(),
        }
    }
}

impl PcpoConfig {
    /// The LoRA settings.
    pub fn lora(&self) -> Result<LoraConfig> {
        let targets = self
            .lora_targets
            .iter()
            .map(|t| LoraTarget::parse(t))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(LoraConfig {
            rank: self.lora_rank,
            alpha: self.lora_alpha,
            targets,
        })
    }

    /// Checks every setting is in range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(PcpoError::Config(m.to_string()));
        if !(self.beta > 0.0 && self.beta.is_finite()) {
            return bad("beta must be a positive number");
        }
        if !(self.weight >= 0.0 && self.weight.is_finite()) {
            return bad("the PCPO weight must be >= 0");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("the learning rate must be positive");
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return bad("epochs and batch size must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return bad("the warm-up ratio must be in [0, 1]");
        }
        if self.lora_rank == 0 || self.lora_targets.is_empty() || self.lora_alpha <= 0.0 {
            return bad("LoRA needs rank >= 1, alpha > 0 and at least one target");
        }
        self.lora().map(|_| ())
    }

    /// Updates per epoch for `pairs` pairs.
    pub fn steps_per_epoch(&self, pairs: usize) -> usize {
        pairs.div_ceil(self.batch_size.max(1))
    }

    /// Warm-up updates of a run of `total` updates.
    pub fn warmup_steps(&self, total: usize) -> usize {
        (self.warmup_ratio * total as f64).ceil() as usize
    }
}
