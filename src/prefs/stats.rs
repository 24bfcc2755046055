//! The preference statistics: counts per product and labeler, agreement
//! between labelers, and people against the reward model, computed from
//! a [`StatsInput`] (no database access here).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::error::PrefsError;
use super::input::{ProductRef, StatsInput};
use super::orient::PairKey;
use super::raters::{
    cohen_between_labelers, collect_ratings, fleiss_over_labelers, GroupAgreement, LabelerAgreement,
};
use super::reward::{reward_vs_people, PeopleVsModels};
use super::source::load_stats_input;
use crate::store::{unordered, Outcome, PreferenceCounts, PreferenceSource, Store};

/// Label counts of one product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductStats {
    /// The product.
    pub product: ProductRef,
    /// Human labels by outcome.
    pub human: PreferenceCounts,
    /// Model labels by outcome.
    pub model: PreferenceCounts,
    /// Distinct unordered pairs with at least one label.
    pub pairs: usize,
}

/// Label counts of one labeler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelerStats {
    /// User name or model id.
    pub labeler: String,
    /// Human or model.
    pub source: PreferenceSource,
    /// Labels by outcome.
    pub counts: PreferenceCounts,
    /// Distinct unordered pairs labelled.
    pub pairs: usize,
}

/// Everything `adstudio prefs stats` and the studio's panel show. Only
/// active labels count; retracted ones are only counted in `retracted`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrefStats {
    /// Active labels by outcome (human and model).
    pub total: PreferenceCounts,
    /// Retracted (undone) labels.
    pub retracted: u64,
    /// Per product, by product.
    pub products: Vec<ProductStats>,
    /// Per labeler, humans first, by name.
    pub labelers: Vec<LabelerStats>,
    /// Cohen's kappa for every two human labelers who share a rated pair.
    pub between_labelers: Vec<LabelerAgreement>,
    /// Fleiss' kappa over all human labelers.
    pub all_labelers: GroupAgreement,
    /// Reward models against the human verdicts.
    pub people_vs_models: PeopleVsModels,
}

/// Reads the store and computes its [`PrefStats`].
pub fn prefs_stats(store: &Store) -> Result<PrefStats, PrefsError> {
    Ok(compute_stats(&load_stats_input(store)?))
}

/// Computes the statistics of `input`. Agreement uses the ratings first
/// better / second better / tie of each label oriented to its unordered
/// pair (so "A better" on (x, y) and "B better" on (y, x) agree); can't
/// tell and skip are not ratings.
pub fn compute_stats(input: &StatsInput) -> PrefStats {
    let mut total = PreferenceCounts::default();
    for label in &input.labels {
        bump(&mut total, label.outcome);
    }
    let human = collect_ratings(&input.labels, PreferenceSource::Human);
    let model = collect_ratings(&input.labels, PreferenceSource::Model);
    PrefStats {
        total,
        retracted: input.retracted,
        products: product_stats(input),
        labelers: labeler_stats(input),
        between_labelers: cohen_between_labelers(&human),
        all_labelers: fleiss_over_labelers(&human),
        people_vs_models: reward_vs_people(&human, &model, &input.scores),
    }
}

/// Adds one label of `outcome` to `counts`.
pub fn bump(counts: &mut PreferenceCounts, outcome: Outcome) {
    let slot = match outcome {
        Outcome::A => &mut counts.a,
        Outcome::B => &mut counts.b,
        Outcome::Tie => &mut counts.tie,
        Outcome::CantTell => &mut counts.cant_tell,
        Outcome::Skip => &mut counts.skip,
    };
    *slot += 1;
}

fn product_stats(input: &StatsInput) -> Vec<ProductStats> {
    type Acc = (PreferenceCounts, PreferenceCounts, BTreeSet<PairKey>);
    let mut by_product: BTreeMap<&ProductRef, Acc> = BTreeMap::new();
    for label in &input.labels {
        let Some(product) = input.products.get(&label.a) else {
            continue;
        };
        let (human, model, pairs) = by_product.entry(product).or_default();
        match label.source {
            PreferenceSource::Human => bump(human, label.outcome),
            PreferenceSource::Model => bump(model, label.outcome),
        }
        pairs.insert(unordered(label.a, label.b));
    }
    by_product
        .into_iter()
        .map(|(product, (human, model, pairs))| ProductStats {
            product: product.clone(),
            human,
            model,
            pairs: pairs.len(),
        })
        .collect()
}

fn labeler_stats(input: &StatsInput) -> Vec<LabelerStats> {
    let mut by_labeler: BTreeMap<(bool, &str), (PreferenceCounts, BTreeSet<PairKey>)> =
        BTreeMap::new();
    for label in &input.labels {
        let is_model = label.source == PreferenceSource::Model;
        let (counts, pairs) = by_labeler
            .entry((is_model, label.labeler.as_str()))
            .or_default();
        bump(counts, label.outcome);
        pairs.insert(unordered(label.a, label.b));
    }
    by_labeler
        .into_iter()
        .map(|((is_model, labeler), (counts, pairs))| LabelerStats {
            labeler: labeler.to_string(),
            source: if is_model {
                PreferenceSource::Model
            } else {
                PreferenceSource::Human
            },
            counts,
            pairs: pairs.len(),
        })
        .collect()
}
