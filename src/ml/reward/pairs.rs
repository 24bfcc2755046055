//! Training/evaluation pairs from click rows: two creatives of the same
//! product, both with more than a minimum number of impressions, optionally
//! restricted to a CTR-ratio band; and the train/validation split, always by
//! product (never by pair) so that no product leaks across the split.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::clicklog::ClickRow;
use super::error::{Result, RewardError};

/// CAIG's hard evaluation band of CTR ratios (higher / lower).
pub const CAIG_HARD_BAND: (f64, f64) = (1.05, 1.20);

/// Which pairs to build.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairingConfig {
    /// Both creatives need strictly more impressions than this (default 1000).
    pub min_impressions: u64,
    /// Keep only pairs whose CTR ratio (higher / lower) lies in this
    /// inclusive band; `None` keeps every pair with distinct CTRs.
    pub ctr_ratio_band: Option<(f64, f64)>,
}

impl Default for PairingConfig {
    fn default() -> Self {
        Self {
            min_impressions: 1000,
            ctr_ratio_band: None,
        }
    }
}

impl PairingConfig {
    /// The CAIG hard set: default minimum, ratio band [1.05, 1.20].
    pub fn caig_hard() -> Self {
        Self {
            ctr_ratio_band: Some(CAIG_HARD_BAND),
            ..Self::default()
        }
    }
}

/// A pair of creatives of one product, by index into the rows it was built
/// from, oriented so that `better` has the higher observed CTR.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreativePair {
    /// Row index of the creative with the higher CTR.
    pub better: usize,
    /// Row index of the creative with the lower CTR.
    pub worse: usize,
    /// CTR(better) / CTR(worse) (infinite when the worse has no clicks).
    pub ctr_ratio: f64,
}

/// Pairs and what was left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairSet {
    /// The pairs, grouped by product in product-id order.
    pub pairs: Vec<CreativePair>,
    /// Rows left out for having too few impressions.
    pub rows_below_min_impressions: usize,
    /// Candidate pairs dropped because both CTRs are equal (no winner).
    pub ties_skipped: usize,
    /// Candidate pairs dropped for lying outside the ratio band.
    pub outside_band: usize,
}

/// Builds all pairs of creatives of the same product per `config`.
pub fn make_pairs(rows: &[ClickRow], config: &PairingConfig) -> Result<PairSet> {
    if let Some((lo, hi)) = config.ctr_ratio_band {
        if !(lo >= 1.0 && hi >= lo) {
            return Err(RewardError::Config(format!(
                "CTR ratio band must satisfy 1 <= lo <= hi, got [{lo}, {hi}]"
            )));
        }
    }
    let mut set = PairSet::default();
    let mut by_product: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.impressions > config.min_impressions {
            by_product.entry(&row.product_id).or_default().push(i);
        } else {
            set.rows_below_min_impressions += 1;
        }
    }
    for members in by_product.values() {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                let (ca, cb) = (rows[a].ctr(), rows[b].ctr());
                if ca == cb {
                    set.ties_skipped += 1;
                    continue;
                }
                let (better, worse, hi, lo) = if ca > cb {
                    (a, b, ca, cb)
                } else {
                    (b, a, cb, ca)
                };
                let ratio = if lo > 0.0 { hi / lo } else { f64::INFINITY };
                if let Some((band_lo, band_hi)) = config.ctr_ratio_band {
                    if !(band_lo..=band_hi).contains(&ratio) {
                        set.outside_band += 1;
                        continue;
                    }
                }
                set.pairs.push(CreativePair {
                    better,
                    worse,
                    ctr_ratio: ratio,
                });
            }
        }
    }
    Ok(set)
}

/// Product ids on each side of a train/validation split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductSplit {
    /// Training products.
    pub train: BTreeSet<String>,
    /// Validation (held-out) products.
    pub validation: BTreeSet<String>,
}

impl ProductSplit {
    /// Splits the distinct product ids of `rows`: a seeded shuffle, then the
    /// first `round(validation_fraction * n)` products (at least one when
    /// there are two or more products and the fraction is positive) go to
    /// validation.
    pub fn new(rows: &[ClickRow], validation_fraction: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&validation_fraction) {
            return Err(RewardError::Config(format!(
                "validation fraction must lie in [0, 1], got {validation_fraction}"
            )));
        }
        let ids: BTreeSet<&str> = rows.iter().map(|r| r.product_id.as_str()).collect();
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.shuffle(&mut StdRng::seed_from_u64(seed));
        let n = ids.len();
        let mut n_val = (validation_fraction * n as f64).round() as usize;
        if validation_fraction > 0.0 && n >= 2 {
            n_val = n_val.clamp(1, n - 1);
        }
        Ok(Self {
            validation: ids[..n_val].iter().map(|s| s.to_string()).collect(),
            train: ids[n_val..].iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Splits pairs (built from `rows`) into (train, validation) by the
    /// product of their creatives.
    pub fn split_pairs(
        &self,
        rows: &[ClickRow],
        pairs: &[CreativePair],
    ) -> (Vec<CreativePair>, Vec<CreativePair>) {
        pairs
            .iter()
            .partition(|p| !self.validation.contains(&rows[p.better].product_id))
    }
}
