//! End-to-end experiment on the synthetic click world (generate, pair,
//! split by product, train the compact RM, evaluate on held-out products
//! against baselines) and the reward-model bench built on it.

use std::fmt;
use std::time::Instant;

use candle_core::Device;
use image::RgbImage;

use super::baseline::brightness_rule_accuracy;
use super::compact::CompactConfig;
use super::error::Result;
use super::pairs::{make_pairs, CreativePair, PairingConfig, ProductSplit, CAIG_HARD_BAND};
use super::synthetic::{SyntheticWorld, WorldConfig};
use super::train::{pairwise_accuracy, Accuracy, EpochReport, PairDataset, TrainConfig, Trainer};

/// Everything an experiment on the synthetic world needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticExperiment {
    /// The world to generate.
    pub world: WorldConfig,
    /// The model architecture.
    pub model: CompactConfig,
    /// Training hyper-parameters.
    pub train: TrainConfig,
    /// Pair selection.
    pub pairing: PairingConfig,
    /// Fraction of products held out for validation.
    pub validation_fraction: f64,
    /// Seed of the product split.
    pub split_seed: u64,
}

impl SyntheticExperiment {
    /// CI-sized run: 32 px images, 160 products x 6 creatives, 4 epochs,
    /// 20% of products held out.
    pub fn ci() -> Self {
        Self {
            world: WorldConfig {
                seed: 11,
                products: 160,
                creatives_per_product: 6,
                image_size: 32,
                impressions: (800, 50_000),
            },
            model: CompactConfig::default(),
            train: TrainConfig {
                epochs: 4,
                ..TrainConfig::default()
            },
            pairing: PairingConfig::default(),
            validation_fraction: 0.2,
            split_seed: 5,
        }
    }

    /// Bench-sized run: 32 px images, 640 products x 8 creatives (28 pairs
    /// per product), a wider CNN, 12 epochs, 20% of products held out.
    pub fn bench() -> Self {
        Self {
            world: WorldConfig {
                seed: 23,
                products: 640,
                creatives_per_product: 8,
                image_size: 32,
                impressions: (800, 50_000),
            },
            model: CompactConfig {
                image_size: 32,
                channels: vec![24, 48, 96],
                hidden: 128,
                ctr_scale: 10.0,
            },
            train: TrainConfig {
                epochs: 12,
                ..TrainConfig::default()
            },
            pairing: PairingConfig::default(),
            validation_fraction: 0.2,
            split_seed: 5,
        }
    }
}

/// Results of a synthetic experiment, on held-out products.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentReport {
    /// Training products / pairs.
    pub train_products: usize,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out products.
    pub val_products: usize,
    /// Held-out pairs.
    pub val_pairs: usize,
    /// The model's position-debiased pairwise accuracy.
    pub accuracy: Accuracy,
    /// Accuracy of the "brighter image wins" rule on the same pairs.
    pub brightness_baseline: f64,
    /// Accuracy of the true CTR (the ceiling set by click sampling noise).
    pub oracle: f64,
    /// The model's accuracy on held-out pairs in CAIG's hard band
    /// (CTR ratio in [1.05, 1.20]), if there are any.
    pub hard_band: Option<Accuracy>,
    /// Seconds spent generating the world and building datasets.
    pub prepare_seconds: f64,
    /// Seconds spent training (including per-epoch validation).
    pub train_seconds: f64,
    /// Per-epoch reports.
    pub epochs: Vec<EpochReport>,
}

impl fmt::Display for ExperimentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "train: {} products, {} pairs; held out: {} products, {} pairs",
            self.train_products, self.train_pairs, self.val_products, self.val_pairs
        )?;
        writeln!(
            f,
            "held-out pairwise accuracy: {:.1}% +/- {:.1}% (95% CI)",
            100.0 * self.accuracy.fraction(),
            100.0 * self.accuracy.ci95()
        )?;
        writeln!(
            f,
            "brighter-wins baseline: {:.1}%; true-CTR ceiling: {:.1}%",
            100.0 * self.brightness_baseline,
            100.0 * self.oracle
        )?;
        if let Some(h) = &self.hard_band {
            writeln!(
                f,
                "hard band [1.05, 1.20]: {:.1}% on {} pairs",
                100.0 * h.fraction(),
                h.total
            )?;
        }
        write!(
            f,
            "time: prepare {:.1} s, train {:.1} s ({} epochs)",
            self.prepare_seconds,
            self.train_seconds,
            self.epochs.len()
        )
    }
}

/// Runs a synthetic experiment on the CPU; `on_epoch` sees every epoch
/// (return an error to stop).
pub fn run_synthetic(
    exp: &SyntheticExperiment,
    on_epoch: impl FnMut(&EpochReport) -> Result<()>,
) -> Result<ExperimentReport> {
    let device = Device::Cpu;
    let start = Instant::now();
    let world = SyntheticWorld::generate(&exp.world)?;
    let rows = world.click_rows();
    let images: Vec<&RgbImage> = world.creatives.iter().map(|c| &c.image).collect();
    let pairs = make_pairs(&rows, &exp.pairing)?;
    let split = ProductSplit::new(&rows, exp.validation_fraction, exp.split_seed)?;
    let (train_pairs, val_pairs) = split.split_pairs(&rows, &pairs.pairs);
    let size = exp.model.image_size;
    let train = PairDataset::new(&rows, &images, &train_pairs, size, &device)?;
    let val = PairDataset::new(&rows, &images, &val_pairs, size, &device)?;
    let hard: Vec<CreativePair> = val_pairs
        .iter()
        .copied()
        .filter(|p| (CAIG_HARD_BAND.0..=CAIG_HARD_BAND.1).contains(&p.ctr_ratio))
        .collect();
    let hard = if hard.is_empty() {
        None
    } else {
        Some(PairDataset::new(&rows, &images, &hard, size, &device)?)
    };
    let image_pairs: Vec<(&RgbImage, &RgbImage)> = val_pairs
        .iter()
        .map(|p| (images[p.better], images[p.worse]))
        .collect();
    let brightness_baseline = brightness_rule_accuracy(&image_pairs).unwrap_or(0.0);
    let oracle = val_pairs
        .iter()
        .filter(|p| world.creatives[p.better].true_ctr > world.creatives[p.worse].true_ctr)
        .count() as f64
        / val_pairs.len().max(1) as f64;
    let prepare_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut trainer = Trainer::new(&exp.model, exp.train.clone(), &device)?;
    let epochs = trainer.fit(&train, Some(&val), on_epoch)?;
    let accuracy = pairwise_accuracy(trainer.model(), &val)?;
    let hard_band = match &hard {
        Some(h) => Some(pairwise_accuracy(trainer.model(), h)?),
        None => None,
    };
    Ok(ExperimentReport {
        train_products: train.product_count(),
        train_pairs: train.pair_count(),
        val_products: val.product_count(),
        val_pairs: val.pair_count(),
        accuracy,
        brightness_baseline,
        oracle,
        hard_band,
        prepare_seconds,
        train_seconds: start.elapsed().as_secs_f64(),
        epochs,
    })
}

/// The reward-model bench: trains the bench-sized configuration
/// ([`SyntheticExperiment::bench`]) from scratch on the synthetic world and
/// reports held-out accuracy, baselines and time. Target: >= 85% held-out
/// pairwise accuracy. `on_epoch` sees every epoch.
pub fn bench_reward(on_epoch: impl FnMut(&EpochReport) -> Result<()>) -> Result<ExperimentReport> {
    run_synthetic(&SyntheticExperiment::bench(), on_epoch)
}
