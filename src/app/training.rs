//! Training the compact reward model from the studio.
//!
//! [`run_training`] is a model-worker job: it generates a synthetic click
//! world (or, later, reads the store's click logs), splits it by product,
//! trains with per-batch cancel, streams every [`EpochReport`] over a
//! channel for the live plot, and writes the checkpoint the scorer uses only
//! when training finished (a cancelled run leaves the old model in place).

use std::path::PathBuf;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, Sender};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::jobs::{Cancelled, JobContext, JobId};
use crate::ml::reward::baseline::brightness_rule_accuracy;
use crate::ml::reward::compact::CompactConfig;
use crate::ml::reward::pairs::{make_pairs, PairingConfig, ProductSplit};
use crate::ml::reward::synthetic::{SyntheticWorld, WorldConfig};
use crate::ml::reward::train::{pairwise_accuracy, EpochReport, PairDataset, TrainConfig, Trainer};
use crate::ml::reward::RewardError;

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
    /// Every epoch's report is sent here (for the live plot).
    pub reports: Sender<EpochReport>,
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
pub fn run_training<O>(ctx: &JobContext<'_, O>, job: &TrainJob) -> anyhow::Result<TrainOutcome> {
    let s = job.settings;
    ctx.progress(0, s.epochs as u64, "generating the click world");
    let world = SyntheticWorld::generate(&WorldConfig {
        seed: s.seed,
        products: s.products,
        creatives_per_product: s.creatives_per_product,
        image_size: 32,
        impressions: (800, 50_000),
    })
    .context("generating the synthetic click world")?;
    ctx.checkpoint()?;
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
    ctx.checkpoint()?;

    let config = TrainConfig {
        epochs: s.epochs.max(1),
        learning_rate: s.learning_rate,
        seed: s.seed,
        checkpoint: None,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, config, &device).context("creating the trainer")?;
    trainer.set_cancel_flag(ctx.cancel_token().shared_flag());
    ctx.progress(0, s.epochs as u64, "training");
    let fitted = trainer.fit(&train, Some(&val), |report| {
        let accuracy = report
            .val_accuracy
            .map_or_else(String::new, |a| format!(", val {:.1}%", 100.0 * a));
        ctx.progress(
            report.epoch as u64,
            report.epochs as u64,
            format!("epoch {}: loss {:.3}{accuracy}", report.epoch, report.loss),
        );
        // The window may have been closed: nobody listens, which is fine.
        let _ = job.reports.send(report.clone());
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

/// The Training window's state (runtime; settings persist in the prefs).
#[derive(Debug, Default)]
pub struct TrainingState {
    /// Whether the window is open.
    pub open: bool,
    /// Reports of the current (or last) run, in epoch order.
    pub history: Vec<EpochReport>,
    /// The running job.
    pub job: Option<JobId>,
    /// The last run's result or error (and whether it is an error).
    pub message: Option<(String, bool)>,
    reports: Option<Receiver<EpochReport>>,
}

impl TrainingState {
    /// A run was submitted: clears the plot and returns the sender its job
    /// reports epochs to.
    pub fn begin(&mut self) -> Sender<EpochReport> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.history.clear();
        self.message = None;
        self.reports = Some(rx);
        tx
    }

    /// Moves newly reported epochs into the history (call every frame).
    pub fn drain(&mut self) {
        if let Some(rx) = &self.reports {
            self.history.extend(rx.try_iter());
        }
    }

    /// Whether a training job is queued or running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The job ended (`result` = its outcome or error; `None` = cancelled).
    pub fn finish(&mut self, id: JobId, result: Option<Result<TrainOutcome, String>>) -> bool {
        if self.job != Some(id) {
            return false;
        }
        self.drain();
        self.job = None;
        self.reports = None;
        self.message = Some(match result {
            Some(Ok(outcome)) => (
                format!(
                    "Saved {}: held-out accuracy {:.1}% on {} pairs (brighter-wins rule {:.1}%)",
                    outcome.checkpoint.display(),
                    100.0 * outcome.val_accuracy,
                    outcome.val_pairs,
                    100.0 * outcome.brightness_baseline
                ),
                false,
            ),
            Some(Err(error)) => (error, true),
            None => (
                "Training cancelled; the previous model is unchanged".to_string(),
                false,
            ),
        });
        true
    }
}
