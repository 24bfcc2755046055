//! Training of the LLaVA reward model: LoRA adapters on the decoder plus
//! the two heads, base weights frozen, AdamW, the compact model's loss
//! (cross-entropy + `mse_weight` * MSE of the scaled CTRs), every pair shown
//! in both orders.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use image::RgbImage;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::error::{Result, RewardError};
use super::llava_rm::LlavaRewardModel;
use super::loss::{reward_loss, LossParts};
use super::train::Accuracy;
use super::RewardModel;

/// One training pair: two creatives of the same product and their
/// observed CTRs.
#[derive(Debug, Clone, Copy)]
pub struct TrainingPair<'a> {
    /// The creative with the higher CTR.
    pub better: &'a RgbImage,
    /// The creative with the lower CTR.
    pub worse: &'a RgbImage,
    /// Observed CTR of `better`.
    pub ctr_better: f32,
    /// Observed CTR of `worse`.
    pub ctr_worse: f32,
}

/// Optimiser and loss settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlavaTrainConfig {
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Weight of the point-head MSE in the loss (CAIG: 0.5).
    pub mse_weight: f64,
    /// Seed of the LoRA A factors (attached if not yet attached).
    pub lora_seed: u64,
}

impl Default for LlavaTrainConfig {
    /// lr 1e-4, weight decay 0, MSE weight 0.5, seed 0.
    fn default() -> Self {
        Self {
            learning_rate: 1e-4,
            weight_decay: 0.0,
            mse_weight: 0.5,
            lora_seed: 0,
        }
    }
}

/// Loss values of one step (before the update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLoss {
    /// `ce + mse_weight * mse`.
    pub total: f64,
    /// Cross-entropy of the choice head.
    pub ce: f64,
    /// MSE of the point head (scaled CTR units).
    pub mse: f64,
}

/// Trains a [`LlavaRewardModel`] step by step.
pub struct LlavaRmTrainer {
    model: LlavaRewardModel,
    optimizer: AdamW,
    config: LlavaTrainConfig,
}

impl LlavaRmTrainer {
    /// Attaches fresh trainable LoRA adapters to the decoder (seeded by
    /// `config.lora_seed`; B = 0, so scores are unchanged at first) and
    /// sets up AdamW over the adapters and the heads.
    pub fn new(mut model: LlavaRewardModel, config: LlavaTrainConfig) -> Result<Self> {
        Self::check(&config)?;
        model.attach_lora(config.lora_seed)?;
        Self::with_optimizer(model, config)
    }

    /// Continues training from an adapter file written by
    /// [`LlavaRewardModel::save_adapter`]: `model` (freshly built, trainable
    /// heads) takes the file's LoRA factors and heads as trainable
    /// variables (AdamW moments restart from zero).
    pub fn resume(
        mut model: LlavaRewardModel,
        adapter: &std::path::Path,
        config: LlavaTrainConfig,
    ) -> Result<Self> {
        Self::check(&config)?;
        model.load_adapter_trainable(adapter)?;
        Self::with_optimizer(model, config)
    }

    fn check(config: &LlavaTrainConfig) -> Result<()> {
        if config.learning_rate.is_nan() || config.learning_rate <= 0.0 || config.mse_weight < 0.0 {
            return Err(RewardError::Config(format!(
                "need learning_rate > 0 and mse_weight >= 0, got {} and {}",
                config.learning_rate, config.mse_weight
            )));
        }
        Ok(())
    }

    fn with_optimizer(model: LlavaRewardModel, config: LlavaTrainConfig) -> Result<Self> {
        let vars = model.trainable_vars();
        if model.head_vars.all_vars().is_empty() {
            return Err(RewardError::Config(
                "the heads were loaded from a file and are not trainable; build a fresh \
                 LlavaRewardModel to train"
                    .to_string(),
            ));
        }
        let params = ParamsAdamW {
            lr: config.learning_rate,
            weight_decay: config.weight_decay,
            ..Default::default()
        };
        let optimizer = AdamW::new(vars, params).map_err(RewardError::candle("creating AdamW"))?;
        Ok(Self {
            model,
            optimizer,
            config,
        })
    }

    /// The model being trained.
    pub fn model(&self) -> &LlavaRewardModel {
        &self.model
    }

    /// The model being trained, mutable.
    pub fn model_mut(&mut self) -> &mut LlavaRewardModel {
        &mut self.model
    }

    /// Ends training and returns the model (adapters stay attached).
    pub fn into_model(self) -> LlavaRewardModel {
        self.model
    }

    /// The loss on a batch (both orders of every pair), differentiable.
    pub fn loss(&self, batch: &[TrainingPair<'_>]) -> Result<LossParts> {
        if batch.is_empty() {
            return Err(RewardError::Input("empty training batch".to_string()));
        }
        let mut ordered: Vec<(&RgbImage, &RgbImage)> = Vec::with_capacity(2 * batch.len());
        let mut labels = Vec::with_capacity(2 * batch.len());
        let mut targets = Vec::with_capacity(4 * batch.len());
        let scale = self.model.config().ctr_scale as f32;
        for p in batch {
            ordered.push((p.better, p.worse));
            labels.push(0u32);
            targets.extend([p.ctr_better * scale, p.ctr_worse * scale]);
        }
        for p in batch {
            ordered.push((p.worse, p.better));
            labels.push(1u32);
            targets.extend([p.ctr_worse * scale, p.ctr_better * scale]);
        }
        let out = self.model.forward_pairs(&ordered)?;
        let device: &Device = out.logits.device();
        let n = labels.len();
        let labels = Tensor::from_vec(labels, n, device).map_err(RewardError::candle("labels"))?;
        let targets =
            Tensor::from_vec(targets, (n, 2), device).map_err(RewardError::candle("targets"))?;
        reward_loss(
            &out.logits,
            &labels,
            &out.ctr_scaled,
            &targets,
            self.config.mse_weight,
        )
    }

    /// One AdamW step on a batch; returns the loss before the update.
    pub fn train_step(&mut self, batch: &[TrainingPair<'_>]) -> Result<StepLoss> {
        let parts = self.loss(batch)?;
        self.optimizer
            .backward_step(&parts.total)
            .map_err(RewardError::candle("AdamW step"))?;
        step_loss(&parts)
    }
}

impl LlavaRmTrainer {
    /// One pass over `pairs` in mini-batches of `batch_size` pairs (order
    /// shuffled with `seed`). `cancel` is checked before every batch (set:
    /// [`RewardError::Cancelled`] with `epoch: 0`, nothing rolled back);
    /// `on_batch(done, total, loss)` is called after every step. Returns the
    /// mean loss over the batches.
    pub fn train_epoch(
        &mut self,
        pairs: &[TrainingPair<'_>],
        batch_size: usize,
        seed: u64,
        cancel: Option<&AtomicBool>,
        mut on_batch: impl FnMut(usize, usize, &StepLoss),
    ) -> Result<StepLoss> {
        if pairs.is_empty() || batch_size == 0 {
            return Err(RewardError::Input(format!(
                "need pairs and batch_size > 0, got {} pairs and batch_size {batch_size}",
                pairs.len()
            )));
        }
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let total = order.len().div_ceil(batch_size);
        let mut sum = StepLoss {
            total: 0.0,
            ce: 0.0,
            mse: 0.0,
        };
        for (i, chunk) in order.chunks(batch_size).enumerate() {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(RewardError::Cancelled { epoch: 0 });
            }
            let batch: Vec<TrainingPair<'_>> = chunk.iter().map(|&k| pairs[k]).collect();
            let loss = self.train_step(&batch)?;
            sum.total += loss.total;
            sum.ce += loss.ce;
            sum.mse += loss.mse;
            on_batch(i + 1, total, &loss);
        }
        let n = total as f64;
        Ok(StepLoss {
            total: sum.total / n,
            ce: sum.ce / n,
            mse: sum.mse / n,
        })
    }
}

/// Position-debiased pairwise accuracy of any reward model on pairs given
/// as (better, worse): a pair counts as correct when `p_left > 0.5`.
pub fn pairwise_accuracy_of(
    model: &dyn RewardModel,
    pairs: &[(&RgbImage, &RgbImage)],
) -> Result<Accuracy> {
    let scores = model.prefer_many(pairs)?;
    Ok(Accuracy {
        correct: scores.iter().filter(|s| s.p_left > 0.5).count(),
        total: scores.len(),
    })
}

/// Reads the scalar parts of a loss.
pub fn step_loss(parts: &LossParts) -> Result<StepLoss> {
    let scalar = |t: &Tensor| {
        t.to_scalar::<f32>()
            .map(f64::from)
            .map_err(RewardError::candle("reading the loss"))
    };
    Ok(StepLoss {
        total: scalar(&parts.total)?,
        ce: scalar(&parts.ce)?,
        mse: scalar(&parts.mse)?,
    })
}
