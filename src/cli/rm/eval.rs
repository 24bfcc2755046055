//! `adstudio rm eval`: held-out pairwise accuracy of a checkpoint with a
//! 95% confidence interval and the brightness baseline.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use candle_core::Device;
use image::RgbImage;

use super::data::{PairingOptions, StoredCreatives};
use crate::ml::reward::baseline::brightness_rule_accuracy;
use crate::ml::reward::checkpoint::load_compact;
use crate::ml::reward::pairs::CAIG_HARD_BAND;
use crate::ml::reward::train::{pairwise_accuracy, Accuracy, PairDataset};
use crate::store::{ImageStore, Store};

/// Results of `rm eval`.
#[derive(Debug, Clone, PartialEq)]
pub struct RmEvalReport {
    /// Which pairs were evaluated ("validation" or "all").
    pub set: &'static str,
    /// Products evaluated.
    pub products: usize,
    /// The model's position-debiased pairwise accuracy.
    pub accuracy: Accuracy,
    /// "Brighter image wins" on the same pairs.
    pub brightness_baseline: f64,
    /// The model on the pairs in CAIG's hard band [1.05, 1.20], if any.
    pub hard_band: Option<Accuracy>,
    /// Epochs the checkpoint was trained for.
    pub checkpoint_epochs: usize,
}

impl fmt::Display for RmEvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| set | products | pairs | accuracy | 95% CI | brightness baseline |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        writeln!(
            f,
            "| {} | {} | {} | {:.1}% | +/- {:.1}% | {:.1}% |",
            self.set,
            self.products,
            self.accuracy.total,
            100.0 * self.accuracy.fraction(),
            100.0 * self.accuracy.ci95(),
            100.0 * self.brightness_baseline
        )?;
        if let Some(h) = &self.hard_band {
            writeln!(
                f,
                "| hard band [1.05, 1.20] | | {} | {:.1}% | +/- {:.1}% | |",
                h.total,
                100.0 * h.fraction(),
                100.0 * h.ci95()
            )?;
        }
        write!(
            f,
            "checkpoint trained for {} epochs",
            self.checkpoint_epochs
        )
    }
}

/// Evaluates `checkpoint` on the held-out products of the split given by
/// `pairing` (default: the options saved beside the checkpoint by
/// `rm train`, else the defaults). When the split leaves no held-out pair
/// (e.g. one product), every pair is evaluated and the set says "all".
pub fn evaluate_reward_model(
    store: &Store,
    images: &ImageStore,
    checkpoint: &Path,
    pairing: Option<PairingOptions>,
) -> anyhow::Result<RmEvalReport> {
    let device = Device::Cpu;
    let (model, meta) = load_compact(checkpoint, &device)
        .with_context(|| format!("loading reward checkpoint {}", checkpoint.display()))?;
    let pairing = match pairing {
        Some(p) => p,
        None => PairingOptions::load_for(checkpoint)?.unwrap_or_default(),
    };
    let data = StoredCreatives::load(store, images)?;
    let pairs = data.split(&pairing)?;
    let (set, chosen) = if pairs.validation.is_empty() {
        ("all", pairs.set.pairs.clone())
    } else {
        ("validation", pairs.validation)
    };
    if chosen.is_empty() {
        anyhow::bail!(
            "no pairs to evaluate ({} creatives, {} below min impressions {})",
            data.rows.len(),
            pairs.set.rows_below_min_impressions,
            pairing.min_impressions
        );
    }
    let refs = data.image_refs();
    let size = model.config().image_size;
    let dataset = PairDataset::new(&data.rows, &refs, &chosen, size, &device)?;
    let accuracy = pairwise_accuracy(&model, &dataset)?;
    let image_pairs: Vec<(&RgbImage, &RgbImage)> = chosen
        .iter()
        .map(|p| (refs[p.better], refs[p.worse]))
        .collect();
    let hard: Vec<_> = chosen
        .iter()
        .copied()
        .filter(|p| (CAIG_HARD_BAND.0..=CAIG_HARD_BAND.1).contains(&p.ctr_ratio))
        .collect();
    let hard_band = if hard.is_empty() {
        None
    } else {
        let ds = PairDataset::new(&data.rows, &refs, &hard, size, &device)?;
        Some(pairwise_accuracy(&model, &ds)?)
    };
    Ok(RmEvalReport {
        set,
        products: dataset.product_count(),
        accuracy,
        brightness_baseline: brightness_rule_accuracy(&image_pairs).unwrap_or(0.0),
        hard_band,
        checkpoint_epochs: meta.epoch,
    })
}
