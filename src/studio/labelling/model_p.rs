//! P(A better than B) from stored reward-model scores.
//!
//! Two renders get a probability only when both have a latest score from
//! the same model id. The studio's scoring stores, for every render, the
//! position-debiased win probability against every other render of the
//! same run (`p_win`, see [`crate::studio::score::save_scores`]); those are
//! used first: `p = p_win(A over B)`, averaged with `1 - p_win(B over A)`
//! when both rows have it. Without them (the two renders were scored in
//! different runs of the same model) the Bradley-Terry model of the
//! scores gives it: `p = 1 / (1 + exp(score_B - score_A))`.

use crate::store::PairItem;

use super::pool::LabelItem;

/// A model's probability that item A is better than item B.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelP {
    /// P(A better), in [0, 1].
    pub p_a: f64,
    /// The model that gave it.
    pub model_id: String,
}

impl ModelP {
    /// How unsure the model is: |p - 0.5|, 0 = a coin flip.
    pub fn margin(&self) -> f64 {
        (self.p_a - 0.5).abs()
    }
}

/// P(`a` better than `b`) from their stored scores, or `None` when either
/// is not a scored render or the two were scored by different models.
pub fn model_p(a: &LabelItem, b: &LabelItem) -> Option<ModelP> {
    let (PairItem::Render(id_a), PairItem::Render(id_b)) = (a.item, b.item) else {
        return None;
    };
    let (rm_a, rm_b) = (a.hidden.rm.as_ref()?, b.hidden.rm.as_ref()?);
    if rm_a.model_id != rm_b.model_id {
        return None;
    }
    let direct = rm_a.p_win.get(&id_b).copied();
    let reverse = rm_b.p_win.get(&id_a).map(|p| 1.0 - p);
    let p = match (direct, reverse) {
        (Some(x), Some(y)) => (x + y) / 2.0,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => 1.0 / (1.0 + (rm_b.score - rm_a.score).exp()),
    };
    p.is_finite().then(|| ModelP {
        p_a: p.clamp(0.0, 1.0),
        model_id: rm_a.model_id.clone(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::store::{CreativeRowId, RenderId};
    use crate::studio::labelling::pool::{HiddenInfo, RmScore};

    fn scored(id: i64, model: &str, score: f64, p_win: &[(i64, f64)]) -> LabelItem {
        LabelItem {
            item: PairItem::Render(RenderId(id)),
            image_path: PathBuf::from("x.png"),
            hidden: HiddenInfo {
                rm: Some(RmScore {
                    model_id: model.to_string(),
                    score,
                    ctr: None,
                    p_win: p_win
                        .iter()
                        .map(|&(r, p)| (RenderId(r), p))
                        .collect::<BTreeMap<_, _>>(),
                }),
                ..HiddenInfo::default()
            },
        }
    }

    #[test]
    fn pairwise_probabilities_are_averaged_across_both_rows() {
        let a = scored(1, "m", 0.0, &[(2, 0.7)]);
        let b = scored(2, "m", 0.0, &[(1, 0.2)]);
        let p = model_p(&a, &b).unwrap();
        assert!((p.p_a - 0.75).abs() < 1e-12, "{p:?}");
        let q = model_p(&b, &a).unwrap();
        assert!((q.p_a - 0.25).abs() < 1e-12, "{q:?}");
        assert!((p.margin() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn bradley_terry_of_the_scores_without_pairwise_rows() {
        let a = scored(1, "m", 1.0, &[]);
        let b = scored(2, "m", 0.0, &[]);
        let p = model_p(&a, &b).unwrap().p_a;
        assert!((p - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
    }

    #[test]
    fn no_probability_across_models_or_for_creatives() {
        let a = scored(1, "m", 1.0, &[(2, 0.9)]);
        let b = scored(2, "other", 0.0, &[(1, 0.1)]);
        assert!(model_p(&a, &b).is_none());
        let creative = LabelItem {
            item: PairItem::Creative(CreativeRowId(1)),
            image_path: PathBuf::from("c.png"),
            hidden: HiddenInfo::default(),
        };
        assert!(model_p(&a, &creative).is_none());
        let unscored = LabelItem {
            hidden: HiddenInfo::default(),
            ..scored(3, "m", 0.0, &[])
        };
        assert!(model_p(&a, &unscored).is_none());
    }
}
