//! Training the compact reward model from the studio.
//!
//! [`train_reward_model`] generates a synthetic click world (click logs
//! from the store are trained with `adstudio rm train`), splits it by
//! product, trains with per-batch cancel, reports every epoch as typed
//! progress ([`Progress::Epoch`]) for the live plot, and writes the
//! checkpoint the scorer uses only when training finished (a cancelled run
//! leaves the old model in place; the hub reloads the new one because its
//! modification time changed).

use std::path::PathBuf;

use anyhow::Context as _;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::jobs::{Cancelled, Reporter};
use crate::ml::reward::baseline::brightness_rule_accuracy;
use crate::ml::reward::compact::CompactConfig;
use crate::ml::reward::pairs::{make_pairs, PairingConfig, ProductSplit};
use crate::ml::reward::synthetic::{SyntheticWorld, WorldConfig};
use crate::ml::reward::train::{pairwise_accuracy, PairDataset, TrainConfig, Trainer};
use crate::ml::reward::RewardError;

use super::progress::Progress;

/// Settings of a training run from the Training window (persisted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    /// Products in the synthetic world.
    pub products: usize,
    /// Creatives per product.
    pub creatives_per_product: usize,
    /// Epochs.
    pub epochs: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Seed of the world, the split and the initial weights.
    pub seed: u64,
}

impl Default for TrainSettings {
    /// The reward model's CI-sized synthetic experiment: 160 products x 6
    /// creatives, 4 epochs, learning rate 2e-3.
    fn default() -> Self {
        Self {
            products: 160,
            creatives_per_product: 6,
            epochs: 4,
            learning_rate: 2e-3,
            seed: 11,
        }
    }
}

/// A training job.
#[derive(Debug, Clone)]
pub struct TrainJob {
    /// What to train on and how long.
    pub settings: TrainSettings,
    /// Where the finished checkpoint goes.
    pub checkpoint: PathBuf,
}

/// What a finished training run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The written checkpoint.
    pub checkpoint: PathBuf,
    /// Held-out pairwise accuracy of the final model.
    pub val_accuracy: f64,
    /// Held-out accuracy of the "brighter image wins" rule.
    pub brightness_baseline: f64,
    /// Held-out pairs.
    pub val_pairs: usize,
}

/// Trains the compact reward model on a synthetic click world (see the
/// module docs). Cancel is honoured before every batch.
pub fn train_reward_model(
    rep: &dyn Reporter<Progress>,
    job: &TrainJob,
) -> anyhow::Result<TrainOutcome> {
    let s = job.settings;
    rep.steps(0, s.epochs as u64, "generating the click world");
    let world = SyntheticWorld::generate(&WorldConfig {
        seed: s.seed,
        products: s.products,
        creatives_per_product: s.creatives_per_product,
        image_size: 32,
        impressions: (800, 50_000),
    })
    .context("generating the synthetic click world")?;
    rep.checkpoint()?;
    let rows = world.click_rows();
    let images: Vec<&RgbImage> = world.creatives.iter().map(|c| &c.image).collect();
    let pairs = make_pairs(&rows, &PairingConfig::default()).context("pairing creatives")?;
    let split = ProductSplit::new(&rows, 0.2, s.seed).context("splitting products")?;
    let (train_pairs, val_pairs) = split.split_pairs(&rows, &pairs.pairs);
    let model = CompactConfig::default();
    let device = candle_core::Device::Cpu;
    let train = PairDataset::new(&rows, &images, &train_pairs, model.image_size, &device)
        .context("building the training set")?;
    let val = PairDataset::new(&rows, &images, &val_pairs, model.image_size, &device)
        .context("building the validation set")?;
    let image_pairs: Vec<(&RgbImage, &RgbImage)> = val_pairs
        .iter()
        .map(|p| (images[p.better], images[p.worse]))
        .collect();
    let brightness_baseline = brightness_rule_accuracy(&image_pairs).unwrap_or(0.0);
    rep.checkpoint()?;

    let config = TrainConfig {
        epochs: s.epochs.max(1),
        learning_rate: s.learning_rate,
        seed: s.seed,
        checkpoint: None,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, config, &device).context("creating the trainer")?;
    trainer.set_cancel_flag(rep.cancel_token().shared_flag());
    rep.steps(0, s.epochs as u64, "training");
    let fitted = trainer.fit(&train, Some(&val), |report| {
        rep.report(Progress::Epoch(report.clone()));
        Ok(())
    });
    match fitted {
        Ok(_) => {}
        Err(RewardError::Cancelled { .. }) => return Err(Cancelled.into()),
        Err(err) => return Err(anyhow::Error::new(err).context("training the reward model")),
    }
    let accuracy = pairwise_accuracy(trainer.model(), &val).context("evaluating the model")?;
    if let Some(dir) = job.checkpoint.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    trainer
        .save_checkpoint(&job.checkpoint)
        .with_context(|| format!("saving {}", job.checkpoint.display()))?;
    Ok(TrainOutcome {
        checkpoint: job.checkpoint.clone(),
        val_accuracy: accuracy.fraction(),
        brightness_baseline,
        val_pairs: accuracy.total,
    })
}
