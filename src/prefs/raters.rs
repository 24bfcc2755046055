//! Agreement between labelers on the pairs they share: Cohen's kappa for
//! each two of them, Fleiss' kappa for all together.

use std::collections::BTreeMap;

use serde::Serialize;

use super::agreement::{cohen_kappa, fleiss_kappa};
use super::orient::{orient, PairKey, Rating};
use crate::store::{PreferenceRow, PreferenceSource};

/// Each labeler's rating of each unordered pair.
pub type RatingsByPair = BTreeMap<PairKey, BTreeMap<String, Rating>>;

/// The ratings of the labels from `source`, oriented to their unordered
/// pair. When a labeler labelled a pair more than once (only possible
/// through imports), the latest label counts; a latest can't tell or skip
/// leaves that labeler without a rating of the pair.
pub fn collect_ratings(labels: &[PreferenceRow], source: PreferenceSource) -> RatingsByPair {
    let mut out = RatingsByPair::new();
    for label in labels.iter().filter(|l| l.source == source) {
        let (key, rating) = orient(label.a, label.b, label.outcome);
        let raters = out.entry(key).or_default();
        match rating {
            Some(r) => {
                raters.insert(label.labeler.clone(), r);
            }
            None => {
                raters.remove(&label.labeler);
            }
        }
    }
    out.retain(|_, raters| !raters.is_empty());
    out
}

/// Cohen's kappa of two labelers on the pairs both rated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelerAgreement {
    /// The first labeler (alphabetically).
    pub labeler_a: String,
    /// The second labeler.
    pub labeler_b: String,
    /// Pairs both rated (first better / second better / tie).
    pub shared_pairs: usize,
    /// Of those, the pairs where they gave the same rating.
    pub agreeing: usize,
    /// Cohen's kappa; `None` when undefined (both always gave one and the
    /// same rating).
    pub kappa: Option<f64>,
}

/// Cohen's kappa for every two labelers who share at least one rated pair,
/// ordered by labeler names.
pub fn cohen_between_labelers(ratings: &RatingsByPair) -> Vec<LabelerAgreement> {
    let mut by_labeler: BTreeMap<&str, BTreeMap<&PairKey, Rating>> = BTreeMap::new();
    for (pair, raters) in ratings {
        for (labeler, &rating) in raters {
            by_labeler
                .entry(labeler.as_str())
                .or_default()
                .insert(pair, rating);
        }
    }
    let names: Vec<&str> = by_labeler.keys().copied().collect();
    let mut out = Vec::new();
    for (i, first) in names.iter().enumerate() {
        for second in &names[i + 1..] {
            let (x, y) = (&by_labeler[first], &by_labeler[second]);
            let shared: Vec<(Rating, Rating)> = x
                .iter()
                .filter_map(|(pair, &rx)| y.get(pair).map(|&ry| (rx, ry)))
                .collect();
            if shared.is_empty() {
                continue;
            }
            out.push(LabelerAgreement {
                labeler_a: (*first).to_string(),
                labeler_b: (*second).to_string(),
                shared_pairs: shared.len(),
                agreeing: shared.iter().filter(|(a, b)| a == b).count(),
                kappa: cohen_kappa(&shared),
            });
        }
    }
    out
}

/// Fleiss' kappa over all labelers of a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAgreement {
    /// Labelers with at least one rating.
    pub labelers: usize,
    /// Pairs rated by two labelers or more (the items of the kappa).
    pub pairs: usize,
    /// Ratings on those pairs.
    pub ratings: usize,
    /// Fleiss' kappa (variable-rater form, see
    /// [`super::agreement::fleiss_kappa`]); `None` when undefined.
    pub kappa: Option<f64>,
}

/// Fleiss' kappa over the pairs rated by two labelers or more, each pair
/// counting with however many labelers rated it.
pub fn fleiss_over_labelers(ratings: &RatingsByPair) -> GroupAgreement {
    let labelers: std::collections::BTreeSet<&String> =
        ratings.values().flat_map(|raters| raters.keys()).collect();
    let items: Vec<Vec<u64>> = ratings
        .values()
        .filter(|raters| raters.len() >= 2)
        .map(|raters| {
            let mut row = vec![0u64; Rating::COUNT];
            for rating in raters.values() {
                row[rating.index()] += 1;
            }
            row
        })
        .collect();
    GroupAgreement {
        labelers: labelers.len(),
        pairs: items.len(),
        ratings: items
            .iter()
            .map(|row| row.iter().sum::<u64>() as usize)
            .sum(),
        kappa: fleiss_kappa(&items),
    }
}
