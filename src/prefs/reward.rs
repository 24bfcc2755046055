//! People versus the reward model: how often the model picks the item the
//! labelers preferred.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::agreement::Accuracy;
use super::orient::{PairKey, Rating};
use super::raters::RatingsByPair;
use crate::store::{PairItem, RenderId};

/// The pairs people decided: the rating given by a strict majority of the
/// decisive (first / second better) human ratings. Tie ratings count for
/// neither side; a pair with as many votes for each side (or only ties) is
/// not decided.
pub fn human_verdicts(human: &RatingsByPair) -> BTreeMap<PairKey, Rating> {
    human
        .iter()
        .filter_map(|(pair, raters)| {
            let first = raters.values().filter(|&&r| r == Rating::First).count();
            let second = raters.values().filter(|&&r| r == Rating::Second).count();
            match first.cmp(&second) {
                std::cmp::Ordering::Greater => Some((*pair, Rating::First)),
                std::cmp::Ordering::Less => Some((*pair, Rating::Second)),
                std::cmp::Ordering::Equal => None,
            }
        })
        .collect()
}

/// One reward model against the human verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RewardAgreement {
    /// The model id (labeler of its labels, `model_id` of its scores).
    pub model_id: String,
    /// Human-decided pairs the model picked a side on.
    pub compared: usize,
    /// Of those, picks taken from the model's labels on the pair.
    pub from_labels: usize,
    /// Of those, picks taken from the model's scores of both renders.
    pub from_scores: usize,
    /// Human-decided pairs where the model gave no side (a tie label or
    /// equal scores); not counted in the accuracy.
    pub undecided: usize,
    /// Fraction of `compared` where the model picked the people's item,
    /// with its 95% Wilson interval; `None` when nothing was compared.
    pub accuracy: Option<Accuracy>,
}

/// People against every reward model that labelled or scored a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeopleVsModels {
    /// Pairs with a human verdict (see [`human_verdicts`]).
    pub human_decided_pairs: usize,
    /// One entry per model id, by name.
    pub models: Vec<RewardAgreement>,
}

/// How a model's pick on a pair was found.
enum Pick {
    Label(Rating),
    Scores(Option<Rating>),
    None,
}

/// Compares each model's pick with the human verdict on every decided
/// pair. The model's pick comes from its own (model-source) label on the
/// pair when there is one, else from its latest scores of both items
/// (renders only: creatives have no stored scores), the higher score
/// winning.
pub fn reward_vs_people(
    human: &RatingsByPair,
    model: &RatingsByPair,
    scores: &BTreeMap<(RenderId, String), f64>,
) -> PeopleVsModels {
    let verdicts = human_verdicts(human);
    let ids: BTreeSet<&String> = model
        .values()
        .flat_map(|raters| raters.keys())
        .chain(scores.keys().map(|(_, id)| id))
        .collect();
    let models = ids
        .into_iter()
        .map(|id| {
            let mut row = RewardAgreement {
                model_id: id.clone(),
                compared: 0,
                from_labels: 0,
                from_scores: 0,
                undecided: 0,
                accuracy: None,
            };
            let mut correct = 0u64;
            for (pair, verdict) in &verdicts {
                let pick = match model.get(pair).and_then(|raters| raters.get(id)) {
                    Some(&rating) => Pick::Label(rating),
                    None => score_pick(pair, id, scores),
                };
                let side = match pick {
                    Pick::Label(r) if r.is_decisive() => {
                        row.from_labels += 1;
                        r
                    }
                    Pick::Scores(Some(r)) => {
                        row.from_scores += 1;
                        r
                    }
                    Pick::Label(_) | Pick::Scores(None) => {
                        row.undecided += 1;
                        continue;
                    }
                    Pick::None => continue,
                };
                row.compared += 1;
                correct += u64::from(side == *verdict);
            }
            row.accuracy = Accuracy::new(correct, row.compared as u64);
            row
        })
        .collect();
    PeopleVsModels {
        human_decided_pairs: verdicts.len(),
        models,
    }
}

fn score_pick(pair: &PairKey, model: &str, scores: &BTreeMap<(RenderId, String), f64>) -> Pick {
    let (PairItem::Render(first), PairItem::Render(second)) = *pair else {
        return Pick::None;
    };
    let get = |r: RenderId| scores.get(&(r, model.to_string())).copied();
    match (get(first), get(second)) {
        (Some(x), Some(y)) if x > y => Pick::Scores(Some(Rating::First)),
        (Some(x), Some(y)) if x < y => Pick::Scores(Some(Rating::Second)),
        (Some(_), Some(_)) => Pick::Scores(None),
        _ => Pick::None,
    }
}
