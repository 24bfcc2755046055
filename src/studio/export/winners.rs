//! A product's winners: its renders ranked by the stored reward scores.

use std::cmp::Ordering;

use serde::Serialize;

use crate::store::{ProductId, RenderRow, ScoreRow, Store, StoreError};

/// A scored render and its place in the product's ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Winner {
    /// 1 = best.
    pub rank: usize,
    /// The render.
    pub render: RenderRow,
    /// The reward model's score (the Bradley-Terry strength of its scoring).
    pub score: f64,
    /// The predicted CTR, if the model gave one.
    pub ctr: Option<f64>,
    /// The scoring model.
    pub model_id: String,
}

/// The product's scored renders, best first, and how many renders it has.
///
/// The model of the product's newest score decides: each render's latest
/// score by that model counts (renders it never scored are left out), and
/// renders are ordered by score, then predicted CTR, then age (older
/// first). Scores are Bradley-Terry strengths, strictly comparable within
/// one scoring run, as the studio and `adstudio batch` score all of a
/// product's variants together.
pub fn ranked_renders(
    store: &Store,
    product: ProductId,
) -> Result<(Vec<Winner>, usize), StoreError> {
    let renders = store.renders_for_product(product)?;
    let mut latest: Vec<(RenderRow, Vec<ScoreRow>)> = Vec::with_capacity(renders.len());
    for render in &renders {
        latest.push((render.clone(), store.scores_for_render(render.id)?));
    }
    let newest_model = latest
        .iter()
        .flat_map(|(_, scores)| scores.iter())
        .max_by_key(|s| s.id.0)
        .map(|s| s.model_id.clone());
    let Some(model) = newest_model else {
        return Ok((Vec::new(), renders.len()));
    };
    let mut ranked: Vec<Winner> = latest
        .into_iter()
        .filter_map(|(render, scores)| {
            let score = scores.into_iter().rev().find(|s| s.model_id == model)?;
            Some(Winner {
                rank: 0,
                render,
                score: score.score,
                ctr: score.ctr,
                model_id: model.clone(),
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| {
                b.ctr
                    .unwrap_or(-1.0)
                    .partial_cmp(&a.ctr.unwrap_or(-1.0))
                    .unwrap_or(Ordering::Equal)
            })
            .then_with(|| a.render.id.0.cmp(&b.render.id.0))
    });
    for (i, winner) in ranked.iter_mut().enumerate() {
        winner.rank = i + 1;
    }
    Ok((ranked, renders.len()))
}
