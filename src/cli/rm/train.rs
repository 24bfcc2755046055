//! `adstudio rm train`: trains the compact reward model on the stored
//! creatives, with per-epoch progress and checkpoints.

use std::path::PathBuf;

use anyhow::Context as _;
use candle_core::Device;

use super::data::{PairingOptions, StoredCreatives};
use crate::ml::reward::compact::CompactConfig;
use crate::ml::reward::train::{EpochReport, PairDataset, TrainConfig, Trainer};
use crate::store::{
    FinishTrainingRun, ImageStore, NewTrainingRun, RunStatus, Store, TrainingRunId,
};

/// The `training_runs.kind` of compact reward-model runs.
pub const REWARD_RUN_KIND: &str = "reward_compact";

/// What `rm train` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RmTrainOptions {
    /// Pair selection and split.
    pub pairing: PairingOptions,
    /// Total epochs (a resumed run continues up to this number).
    pub epochs: usize,
    /// Peak AdamW learning rate.
    pub learning_rate: f64,
    /// Products per mini-batch.
    pub products_per_batch: usize,
    /// Seed of the initial weights and batch order.
    pub seed: u64,
    /// The checkpoint written after every epoch (atomically).
    pub out: PathBuf,
    /// A checkpoint to continue from.
    pub resume: Option<PathBuf>,
    /// Architecture of a fresh model (ignored when resuming).
    pub model: CompactConfig,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RmTrainOutcome {
    /// Training products and pairs.
    pub train_products: usize,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out products (0 without a validation set).
    pub val_products: usize,
    /// Held-out pairs.
    pub val_pairs: usize,
    /// The epochs run now (none when the checkpoint was already complete).
    pub epochs: Vec<EpochReport>,
    /// The checkpoint written.
    pub checkpoint: PathBuf,
    /// The run recorded in the store's `training_runs`.
    pub training_run: TrainingRunId,
}

/// Trains on the stored creatives. The checkpoint is written after every
/// epoch through a temporary file and a rename, so interrupting the process
/// (Ctrl-C) at any moment leaves the last completed epoch's checkpoint
/// intact; `--resume` continues from it. The pairing options are saved
/// beside the checkpoint for `rm eval`. The run is recorded in
/// `training_runs` (kind [`REWARD_RUN_KIND`]): `succeeded` with the epoch
/// reports, or `failed` with the error (a killed process leaves it
/// `running`).
pub fn train_reward_model(
    store: &Store,
    images: &ImageStore,
    options: &RmTrainOptions,
    on_epoch: impl FnMut(&EpochReport),
) -> anyhow::Result<RmTrainOutcome> {
    let config_json = serde_json::json!({
        "pairing": options.pairing,
        "epochs": options.epochs,
        "learning_rate": options.learning_rate,
        "products_per_batch": options.products_per_batch,
        "seed": options.seed,
        "out": options.out,
        "resume": options.resume,
        "model": options.model,
    });
    let run = store
        .insert_training_run(&NewTrainingRun {
            kind: REWARD_RUN_KIND.to_string(),
            config_json,
        })
        .context("recording the training run")?;
    let result = train_recorded(store, images, options, on_epoch, run);
    let finish = match &result {
        Ok(outcome) => FinishTrainingRun {
            status: RunStatus::Succeeded,
            metrics_json: serde_json::json!({
                "train_products": outcome.train_products,
                "train_pairs": outcome.train_pairs,
                "val_products": outcome.val_products,
                "val_pairs": outcome.val_pairs,
                "epochs": outcome.epochs,
            }),
        },
        Err(e) => FinishTrainingRun {
            status: RunStatus::Failed,
            metrics_json: serde_json::json!({ "error": format!("{e:#}") }),
        },
    };
    store
        .finish_training_run(run, &finish)
        .context("recording the end of the training run")?;
    result
}

fn train_recorded(
    store: &Store,
    images: &ImageStore,
    options: &RmTrainOptions,
    mut on_epoch: impl FnMut(&EpochReport),
    training_run: TrainingRunId,
) -> anyhow::Result<RmTrainOutcome> {
    let data = StoredCreatives::load(store, images)?;
    let pairs = data.split(&options.pairing)?;
    if pairs.train.is_empty() {
        anyhow::bail!(
            "no training pairs: {} creatives, {} below --min-impressions {}, {} outside the band, \
             {} ties; lower --min-impressions or widen --band",
            data.rows.len(),
            pairs.set.rows_below_min_impressions,
            options.pairing.min_impressions,
            pairs.set.outside_band,
            pairs.set.ties_skipped
        );
    }
    let device = Device::Cpu;
    let config = TrainConfig {
        epochs: options.epochs,
        products_per_batch: options.products_per_batch,
        learning_rate: options.learning_rate,
        seed: options.seed,
        checkpoint: Some(options.out.clone()),
        ..TrainConfig::default()
    };
    let mut trainer = match &options.resume {
        Some(path) => Trainer::resume(path, config, &device)
            .with_context(|| format!("resuming from {}", path.display()))?,
        None => Trainer::new(&options.model, config, &device)?,
    };
    let size = trainer.model().config().image_size;
    let refs = data.image_refs();
    let train = PairDataset::new(&data.rows, &refs, &pairs.train, size, &device)?;
    let validation = if pairs.validation.is_empty() {
        None
    } else {
        Some(PairDataset::new(
            &data.rows,
            &refs,
            &pairs.validation,
            size,
            &device,
        )?)
    };
    options.pairing.save_for(&options.out)?;
    let epochs = trainer.fit(&train, validation.as_ref(), |report| {
        on_epoch(report);
        Ok(())
    })?;
    if epochs.is_empty() {
        // Already complete: still leave a checkpoint at --out.
        trainer
            .save_checkpoint(&options.out)
            .with_context(|| format!("writing {}", options.out.display()))?;
    }
    Ok(RmTrainOutcome {
        train_products: train.product_count(),
        train_pairs: train.pair_count(),
        val_products: validation.as_ref().map_or(0, PairDataset::product_count),
        val_pairs: validation.as_ref().map_or(0, PairDataset::pair_count),
        epochs,
        checkpoint: options.out.clone(),
        training_run,
    })
}

/// One progress line of an epoch.
pub fn epoch_line(r: &EpochReport) -> String {
    let val = r
        .val_accuracy
        .map(|a| format!("{:.1}%", 100.0 * a))
        .unwrap_or_else(|| "n/a".to_string());
    format!(
        "epoch {}/{}: train loss {:.4} (ce {:.4}, mse {:.4}), lr {:.2e}, validation pairwise accuracy {val}, {:.1} s",
        r.epoch, r.epochs, r.loss, r.ce, r.mse, r.learning_rate, r.seconds
    )
}
