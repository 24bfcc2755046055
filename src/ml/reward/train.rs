//! Training of the compact reward model: AdamW over mini-batches of
//! products (each creative's image goes through the CNN once per batch, then
//! every pair of the batch is scored in both orders), validation pairwise
//! accuracy after each epoch, per-epoch checkpoints and resume.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use image::RgbImage;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::backbone::BackboneConfig;
use super::checkpoint::{load_into_varmap, read_checkpoint, save_checkpoint, CheckpointMeta};
use super::clicklog::ClickRow;
use super::compact::{CompactConfig, CompactRewardModel};
use super::error::{Result, RewardError};
use super::init::seeded_var_builder;
use super::loss::reward_loss;
use super::pairs::CreativePair;
use super::prepare::{prepare_pairs, PairImage};

/// Training hyper-parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Total number of epochs (a resumed run continues up to it).
    pub epochs: usize,
    /// Products per mini-batch (all pairs of a product share a batch).
    pub products_per_batch: usize,
    /// Peak AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Weight of the point-head MSE in the loss (CAIG: 0.5).
    pub mse_weight: f64,
    /// Cosine decay of the learning rate to 10% over the epochs.
    pub cosine_decay: bool,
    /// Randomly mirror each batch's images left-right (a nuisance
    /// transformation for ad backgrounds).
    pub flip_augment: bool,
    /// Seed of the initial weights, batch order and augmentation.
    pub seed: u64,
    /// Write a checkpoint here after every epoch.
    pub checkpoint: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            products_per_batch: 8,
            learning_rate: 2e-3,
            weight_decay: 1e-4,
            mse_weight: 0.5,
            cosine_decay: true,
            flip_augment: true,
            seed: 0,
            checkpoint: None,
        }
    }
}

/// Images, observed CTRs and pairs, ready for training or evaluation.
#[derive(Debug, Clone)]
pub struct PairDataset {
    /// [N, 3, S, S] in [-1, 1]: only creatives that appear in a pair.
    images: Tensor,
    /// Observed CTR of each of the N creatives.
    ctr: Vec<f32>,
    /// Pairs as (better, worse) local creative indices, grouped by product.
    groups: Vec<Vec<(usize, usize)>>,
}

impl PairDataset {
    /// Builds a dataset from click rows, their images (`images[i]` belongs
    /// to `rows[i]`) and pairs over row indices. Only creatives that appear
    /// in a pair are kept; images are resized to `image_size`.
    pub fn new(
        rows: &[ClickRow],
        images: &[&RgbImage],
        pairs: &[CreativePair],
        image_size: usize,
        device: &Device,
    ) -> Result<Self> {
        if rows.len() != images.len() {
            return Err(RewardError::Input(format!(
                "{} click rows but {} images",
                rows.len(),
                images.len()
            )));
        }
        let mut local: HashMap<usize, usize> = HashMap::new();
        let mut kept: Vec<usize> = Vec::new();
        let mut groups: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
        for p in pairs {
            if p.better >= rows.len() || p.worse >= rows.len() {
                return Err(RewardError::Input(format!(
                    "pair ({}, {}) indexes past {} rows",
                    p.better,
                    p.worse,
                    rows.len()
                )));
            }
            let mut idx = |r: usize| {
                *local.entry(r).or_insert_with(|| {
                    kept.push(r);
                    kept.len() - 1
                })
            };
            let (b, w) = (idx(p.better), idx(p.worse));
            groups
                .entry(&rows[p.better].product_id)
                .or_default()
                .push((b, w));
        }
        if kept.is_empty() {
            return Err(RewardError::Input("no pairs in the dataset".into()));
        }
        let imgs: Vec<PairImage<'_>> = kept
            .iter()
            .map(|&r| PairImage::Decoded(images[r]))
            .collect();
        let prepared = prepare_pairs(&imgs, &[], image_size, device)?;
        Ok(Self {
            images: prepared.pixels,
            ctr: kept.iter().map(|&r| rows[r].ctr() as f32).collect(),
            groups: groups.into_values().collect(),
        })
    }

    /// Number of pairs.
    pub fn pair_count(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// Number of products.
    pub fn product_count(&self) -> usize {
        self.groups.len()
    }

    /// Number of distinct creatives.
    pub fn creative_count(&self) -> usize {
        self.ctr.len()
    }
}

/// Pairwise accuracy of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Pairs where the model gave the better creative p > 0.5.
    pub correct: usize,
    /// Pairs evaluated.
    pub total: usize,
}

impl Accuracy {
    /// correct / total (0 when empty).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// Normal-approximation 95% confidence half-width of the fraction.
    pub fn ci95(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let p = self.fraction();
        1.96 * (p * (1.0 - p) / self.total as f64).sqrt()
    }
}

/// Position-debiased pairwise accuracy of `model` on `data`.
pub fn pairwise_accuracy(model: &CompactRewardModel, data: &PairDataset) -> Result<Accuracy> {
    let n = data.creative_count();
    let mut parts = Vec::new();
    for start in (0..n).step_by(256) {
        let len = 256.min(n - start);
        let x = data
            .images
            .narrow(0, start, len)
            .map_err(RewardError::candle("slicing evaluation images"))?;
        parts.push(model.features(&x)?.detach());
    }
    let feats = Tensor::cat(&parts, 0).map_err(RewardError::candle("evaluation features"))?;
    let (better, worse): (Vec<u32>, Vec<u32>) = data
        .groups
        .iter()
        .flatten()
        .map(|&(b, w)| (b as u32, w as u32))
        .unzip();
    let select = |idx: Vec<u32>| -> Result<Tensor> {
        let len = idx.len();
        let idx = Tensor::from_vec(idx, len, model.device())
            .map_err(RewardError::candle("evaluation indices"))?;
        feats
            .index_select(&idx, 0)
            .map_err(RewardError::candle("selecting evaluation features"))
    };
    let total = better.len();
    let out = model.debiased(&select(better)?, &select(worse)?)?;
    let p = out
        .p_left
        .to_vec1::<f32>()
        .map_err(RewardError::candle("reading probabilities"))?;
    Ok(Accuracy {
        correct: p.iter().filter(|&&p| p > 0.5).count(),
        total,
    })
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// Mean total loss over the epoch's batches.
    pub loss: f64,
    /// Mean cross-entropy part.
    pub ce: f64,
    /// Mean MSE part (scaled CTR units).
    pub mse: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Validation pairwise accuracy (when a validation set is given).
    pub val_accuracy: Option<f64>,
    /// Seconds spent in the epoch (training and validation).
    pub seconds: f64,
}

/// Features of every creative of a dataset under a frozen backbone (and of
/// their mirror images when flip augmentation is on).
struct FeatureCache {
    plain: Tensor,
    flipped: Option<Tensor>,
}

impl FeatureCache {
    fn compute(model: &CompactRewardModel, data: &PairDataset, with_flipped: bool) -> Result<Self> {
        let n = data.creative_count();
        let run = |flip: bool| -> Result<Tensor> {
            let mut parts = Vec::new();
            for start in (0..n).step_by(64) {
                let len = 64.min(n - start);
                let slice = || -> candle_core::Result<Tensor> {
                    let x = data.images.narrow(0, start, len)?;
                    if flip {
                        x.flip(&[3])
                    } else {
                        Ok(x)
                    }
                };
                let x = slice().map_err(RewardError::candle("slicing images to cache"))?;
                parts.push(model.features(&x)?.detach());
            }
            Tensor::cat(&parts, 0).map_err(RewardError::candle("caching features"))
        };
        Ok(Self {
            plain: run(false)?,
            flipped: if with_flipped { Some(run(true)?) } else { None },
        })
    }

    fn select(&self, idx: &Tensor, flip: bool) -> candle_core::Result<Tensor> {
        let source = match (&self.flipped, flip) {
            (Some(f), true) => f,
            _ => &self.plain,
        };
        source.index_select(idx, 0)
    }
}

/// Trains a compact reward model.
pub struct Trainer {
    varmap: VarMap,
    model: CompactRewardModel,
    optimizer: AdamW,
    config: TrainConfig,
    epoch: usize,
    cancel: Option<Arc<AtomicBool>>,
}

impl Trainer {
    /// A fresh model (CNN backbone) with seeded initial weights.
    pub fn new(model_config: &CompactConfig, config: TrainConfig, device: &Device) -> Result<Self> {
        Self::with_backbone(model_config, &BackboneConfig::Cnn, config, device)
    }

    /// A fresh model with the given backbone; the fusion MLP and heads (and
    /// a CNN backbone) get seeded initial weights and are trained, a CLIP
    /// tower is loaded from its folder and stays frozen (with
    /// `cache_features`, each training image goes through it once per
    /// [`Trainer::fit`]).
    pub fn with_backbone(
        model_config: &CompactConfig,
        backbone: &BackboneConfig,
        config: TrainConfig,
        device: &Device,
    ) -> Result<Self> {
        Self::validate(&config)?;
        let varmap = VarMap::new();
        let vb = seeded_var_builder(&varmap, config.seed, device);
        let model = CompactRewardModel::with_backbone(model_config, backbone, vb)?;
        let optimizer = Self::optimizer(&varmap, &config)?;
        Ok(Self {
            varmap,
            model,
            optimizer,
            config,
            epoch: 0,
            cancel: None,
        })
    }

    /// Resumes from a checkpoint written by [`Trainer::save_checkpoint`]:
    /// weights and the completed epoch count are restored (AdamW moment
    /// estimates restart from zero).
    pub fn resume(path: &Path, config: TrainConfig, device: &Device) -> Result<Self> {
        let (bytes, meta) = read_checkpoint(path)?;
        let mut trainer = Self::with_backbone(&meta.config, &meta.backbone, config, device)?;
        load_into_varmap(path, &bytes, &trainer.varmap, device)?;
        trainer.epoch = meta.epoch;
        Ok(trainer)
    }

    fn validate(config: &TrainConfig) -> Result<()> {
        if config.products_per_batch == 0
            || config.learning_rate.is_nan()
            || config.learning_rate <= 0.0
            || config.mse_weight < 0.0
        {
            return Err(RewardError::Config(format!(
                "need products_per_batch > 0, learning_rate > 0, mse_weight >= 0; got {}, {}, {}",
                config.products_per_batch, config.learning_rate, config.mse_weight
            )));
        }
        Ok(())
    }

    fn optimizer(varmap: &VarMap, config: &TrainConfig) -> Result<AdamW> {
        let params = ParamsAdamW {
            lr: config.learning_rate,
            weight_decay: config.weight_decay,
            ..Default::default()
        };
        AdamW::new(varmap.all_vars(), params).map_err(RewardError::candle("creating AdamW"))
    }

    /// The model being trained.
    pub fn model(&self) -> &CompactRewardModel {
        &self.model
    }

    /// Completed epochs.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The training configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// A flag checked before every batch; when set, training stops with
    /// [`RewardError::Cancelled`].
    pub fn set_cancel_flag(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    /// Saves weights, architecture and completed epochs.
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let meta = CheckpointMeta {
            config: self.model.config().clone(),
            backbone: self.model.backbone_config().clone(),
            epoch: self.epoch,
        };
        save_checkpoint(path, &self.varmap, &meta)
    }

    fn learning_rate_for(&self, epoch: usize) -> f64 {
        let lr = self.config.learning_rate;
        if !self.config.cosine_decay || self.config.epochs <= 1 {
            return lr;
        }
        let t = (epoch.saturating_sub(1)) as f64 / (self.config.epochs - 1) as f64;
        lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
    }

    /// Runs the remaining epochs (up to `config.epochs`). After each epoch
    /// the validation accuracy is measured (if `validation` is given), the
    /// checkpoint is written (if configured) and `on_epoch` is called;
    /// returning an error from it stops training with that error.
    pub fn fit(
        &mut self,
        train: &PairDataset,
        validation: Option<&PairDataset>,
        mut on_epoch: impl FnMut(&EpochReport) -> Result<()>,
    ) -> Result<Vec<EpochReport>> {
        let mut reports = Vec::new();
        let cache = if self.epoch < self.config.epochs && self.model.backbone().caches_features() {
            Some(FeatureCache::compute(
                &self.model,
                train,
                self.config.flip_augment,
            )?)
        } else {
            None
        };
        while self.epoch < self.config.epochs {
            let start = Instant::now();
            let epoch = self.epoch + 1;
            let lr = self.learning_rate_for(epoch);
            self.optimizer.set_learning_rate(lr);
            let (loss, ce, mse) = self.train_epoch(train, epoch, cache.as_ref())?;
            let val_accuracy = match validation {
                Some(v) => Some(pairwise_accuracy(&self.model, v)?.fraction()),
                None => None,
            };
            self.epoch = epoch;
            if let Some(path) = &self.config.checkpoint {
                self.save_checkpoint(path)?;
            }
            let report = EpochReport {
                epoch,
                epochs: self.config.epochs,
                loss,
                ce,
                mse,
                learning_rate: lr,
                val_accuracy,
                seconds: start.elapsed().as_secs_f64(),
            };
            on_epoch(&report)?;
            reports.push(report);
        }
        Ok(reports)
    }

    /// One pass over the training products; returns mean (loss, ce, mse).
    fn train_epoch(
        &mut self,
        data: &PairDataset,
        epoch: usize,
        cache: Option<&FeatureCache>,
    ) -> Result<(f64, f64, f64)> {
        let mut rng =
            StdRng::seed_from_u64(self.config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9));
        let mut order: Vec<usize> = (0..data.groups.len()).collect();
        order.shuffle(&mut rng);
        let mut sums = (0.0, 0.0, 0.0);
        let mut batches = 0usize;
        for chunk in order.chunks(self.config.products_per_batch) {
            if self
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                return Err(RewardError::Cancelled { epoch: self.epoch });
            }
            let flip = self.config.flip_augment && rng.random_bool(0.5);
            let parts = self.train_batch(data, chunk, flip, cache)?;
            sums.0 += parts.0;
            sums.1 += parts.1;
            sums.2 += parts.2;
            batches += 1;
        }
        let n = batches.max(1) as f64;
        Ok((sums.0 / n, sums.1 / n, sums.2 / n))
    }

    fn train_batch(
        &mut self,
        data: &PairDataset,
        groups: &[usize],
        flip: bool,
        cache: Option<&FeatureCache>,
    ) -> Result<(f64, f64, f64)> {
        // Unique creatives of the batch, and pairs in local indices.
        let mut local: HashMap<usize, u32> = HashMap::new();
        let mut creatives: Vec<u32> = Vec::new();
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut labels = Vec::new();
        let mut targets = Vec::new();
        let scale = self.model.config().ctr_scale as f32;
        let mut id = |c: usize| {
            *local.entry(c).or_insert_with(|| {
                creatives.push(c as u32);
                (creatives.len() - 1) as u32
            })
        };
        let mut pairs = Vec::new();
        for &g in groups {
            for &(b, w) in &data.groups[g] {
                pairs.push((id(b), id(w), data.ctr[b] * scale, data.ctr[w] * scale));
            }
        }
        // Both orders of every pair: better on the left (label 0), then on
        // the right (label 1).
        for &(b, w, cb, cw) in &pairs {
            left.push(b);
            right.push(w);
            labels.push(0u32);
            targets.extend([cb, cw]);
        }
        for &(b, w, cb, cw) in &pairs {
            left.push(w);
            right.push(b);
            labels.push(1u32);
            targets.extend([cw, cb]);
        }
        let dev = self.model.device().clone();
        let n_pairs = labels.len();
        let n_creatives = creatives.len();
        let build = || -> candle_core::Result<(Tensor, Tensor, Tensor, Tensor, Tensor)> {
            let idx = Tensor::from_vec(creatives.clone(), n_creatives, &dev)?;
            Ok((
                idx,
                Tensor::from_vec(left.clone(), n_pairs, &dev)?,
                Tensor::from_vec(right.clone(), n_pairs, &dev)?,
                Tensor::from_vec(labels.clone(), n_pairs, &dev)?,
                Tensor::from_vec(targets.clone(), (n_pairs, 2), &dev)?,
            ))
        };
        let (idx, li, ri, labels, targets) =
            build().map_err(RewardError::candle("building a batch"))?;
        let feats = match cache {
            Some(cache) => cache
                .select(&idx, flip)
                .map_err(RewardError::candle("selecting cached features"))?,
            None => {
                let select = || -> candle_core::Result<Tensor> {
                    let images = data.images.index_select(&idx, 0)?;
                    if flip {
                        images.flip(&[3])
                    } else {
                        Ok(images)
                    }
                };
                let images = select().map_err(RewardError::candle("selecting batch images"))?;
                self.model.features(&images)?
            }
        };
        let select = |i: &Tensor| {
            feats
                .index_select(i, 0)
                .map_err(RewardError::candle("selecting pair features"))
        };
        let out = self.model.pair_forward(&select(&li)?, &select(&ri)?)?;
        let parts = reward_loss(
            &out.logits,
            &labels,
            &out.ctr_scaled,
            &targets,
            self.config.mse_weight,
        )?;
        self.optimizer
            .backward_step(&parts.total)
            .map_err(RewardError::candle("AdamW step"))?;
        let scalar = |t: &Tensor| {
            t.to_scalar::<f32>()
                .map(f64::from)
                .map_err(RewardError::candle("reading the loss"))
        };
        Ok((
            scalar(&parts.total)?,
            scalar(&parts.ce)?,
            scalar(&parts.mse)?,
        ))
    }
}
