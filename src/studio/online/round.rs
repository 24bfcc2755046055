//! One product's turn in a round: the policy writes two suggestions, both
//! are rendered with the same seed and saved, the reward model scores the
//! pair (scores and its pick stored as scoring stores them), and the pick
//! becomes a preference pair.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use image::GrayImage;

use crate::jobs::Reporter;
use crate::ml::prompt_model::{SuggestMode, MATCH_THRESHOLD};
use crate::product::{CanvasSettings, PreparedCanvas, ProductImage};
use crate::render::{RenderParams, RenderRequest};
use crate::store::{ProductId, RenderId};

use super::super::product::{build_mask, open_stored};
use super::super::progress::Progress;
use super::super::render::{render_and_save, VariantJob};
use super::super::score::{rank_images, save_scores, VariantScores};
use super::super::suggest::{suggest, SuggestJob};
use super::super::Studio;
use super::policy::Policy;
use super::{OnlineProgress, OnlineSettings, Phase, RoundTimings};

/// A product ready for the rounds: its image, mask and placed canvas.
#[derive(Clone)]
pub struct PreparedItem {
    /// Its row.
    pub id: ProductId,
    /// Its title.
    pub title: String,
    /// The product image.
    pub image: Arc<ProductImage>,
    /// Its mask (255 = product).
    pub mask: Arc<GrayImage>,
    /// The placed product, inpaint mask and edges.
    pub canvas: Arc<PreparedCanvas>,
    /// The canvas settings it was placed with.
    pub canvas_settings: CanvasSettings,
}

/// Opens and masks every product (with its saved settings; `short_side`
/// overrides the canvas size). A product whose mask cannot be built fails
/// the run, naming it.
pub fn prepare_items(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    products: &[ProductId],
    short_side: Option<u32>,
) -> anyhow::Result<Vec<PreparedItem>> {
    let mut items = Vec::with_capacity(products.len());
    for &id in products {
        let opened = open_stored(studio, rep, id)?;
        let mut request = opened.mask_request(0);
        if let Some(side) = short_side {
            request.canvas_settings.short_side = side;
        }
        let built = build_mask(studio, rep, &request)?;
        let masked = built
            .result
            .map_err(|e| anyhow::anyhow!("product {} ({:?}): {e}", id.0, opened.title))?;
        items.push(PreparedItem {
            id,
            title: opened.title,
            image: opened.image,
            mask: masked.mask,
            canvas: masked.prepared,
            canvas_settings: request.canvas_settings,
        });
    }
    Ok(items)
}

/// A preference pair of a round: the reward model preferred `chosen`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundPair {
    /// The product.
    pub product: ProductId,
    /// Its title.
    pub title: String,
    /// The preferred suggestion.
    pub chosen: String,
    /// The other one.
    pub rejected: String,
    /// The renders of `chosen` and `rejected`.
    pub renders: [RenderId; 2],
    /// P(chosen beats rejected) by the reward model.
    pub p_chosen: f32,
}

/// Where a product's turn is.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// 1-based round.
    pub round: usize,
    /// 0-based product index.
    pub index: usize,
    /// Products per round.
    pub products: usize,
}

impl Turn {
    /// The seed of this product in this round.
    pub fn seed(&self, base: u64) -> u64 {
        base.wrapping_add((self.round as u64) * 100_003 + self.index as u64)
    }

    fn report(&self, rep: &dyn Reporter<Progress>, phase: Phase) {
        rep.report(Progress::Online(OnlineProgress::Phase {
            round: self.round,
            phase,
            product: self.index,
            products: self.products,
        }));
    }
}

/// What a product's turn gave.
pub struct TurnResult {
    /// The pair, or why there is none (too few distinct suggestions, a
    /// tie).
    pub pair: Result<RoundPair, String>,
    /// Relevance of each suggestion written (`None`: not measured).
    pub relevances: Vec<Option<f32>>,
    /// Renders stored.
    pub renders: usize,
}

/// Two suggestions with the policy's current adapter.
pub(super) fn two_suggestions(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedItem,
    policy: &Policy,
    settings: &OnlineSettings,
    seed: u64,
) -> anyhow::Result<Vec<(String, Option<f32>)>> {
    let job = SuggestJob {
        title: item.title.clone(),
        image: Arc::clone(&item.image),
        mask: Some(Arc::clone(&item.mask)),
        count: 2,
        temperature: settings.temperature,
        top_p: 1.0,
        seed,
        max_new_tokens: settings.max_new_tokens,
        mode: SuggestMode::Pipeline,
        adapter: policy.current_adapter().cloned(),
    };
    let outcome = suggest(&studio.models, rep, &job)?;
    let mut texts: Vec<(String, Option<f32>)> = Vec::new();
    for s in outcome.suggestions {
        if !texts.iter().any(|(t, _)| *t == s.text) && !s.text.trim().is_empty() {
            texts.push((s.text, s.relevance));
        }
    }
    texts.truncate(2);
    Ok(texts)
}

/// Renders `prompt` for `item` with `seed` and saves it.
fn render_one(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedItem,
    prompt: &str,
    policy: &Policy,
    steps: usize,
    seed: u64,
) -> anyhow::Result<(RenderId, std::path::PathBuf)> {
    let job = VariantJob {
        product: item.id,
        canvas: Arc::clone(&item.canvas),
        request: RenderRequest {
            params: RenderParams {
                prompt: prompt.to_string(),
                seed,
                steps,
                n_variants: 1,
                prompt_adapter: policy.current_adapter().map(|a| a.name.clone()),
                ..RenderParams::default()
            },
            canvas: item.canvas_settings,
            ..RenderRequest::default()
        },
        index: 0,
    };
    let rendered = render_and_save(studio, rep, &job)?;
    let id = rendered
        .render_id
        .context("the saved render has no row id")?;
    Ok((id, rendered.path))
}

/// A product's turn (see the module docs); `timings` gains its seconds.
pub fn product_turn(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedItem,
    policy: &Policy,
    settings: &OnlineSettings,
    turn: Turn,
    timings: &mut RoundTimings,
) -> anyhow::Result<TurnResult> {
    let seed = turn.seed(settings.seed);
    turn.report(rep, Phase::Suggesting);
    let t = Instant::now();
    let texts = two_suggestions(studio, rep, item, policy, settings, seed)?;
    timings.suggest += t.elapsed().as_secs_f64();
    let relevances = texts.iter().map(|(_, r)| *r).collect();
    if texts.len() < 2 {
        return Ok(TurnResult {
            pair: Err(format!("{} distinct suggestion(s), 2 needed", texts.len())),
            relevances,
            renders: 0,
        });
    }
    turn.report(rep, Phase::Rendering);
    let t = Instant::now();
    let mut renders = Vec::with_capacity(2);
    for (text, _) in &texts {
        renders.push(render_one(
            studio,
            rep,
            item,
            text,
            policy,
            settings.steps,
            seed,
        )?);
    }
    timings.render += t.elapsed().as_secs_f64();
    turn.report(rep, Phase::Scoring);
    let t = Instant::now();
    let paths: Vec<_> = renders.iter().map(|(_, p)| p.clone()).collect();
    let ranked = rank_images(&studio.models, rep, &paths)?;
    let ids = vec![renders[0].0, renders[1].0];
    let scores = VariantScores::new(item.id, ids, ranked.matrix, ranked.model_id);
    save_scores(&studio.store, &scores)?;
    timings.score += t.elapsed().as_secs_f64();
    Ok(TurnResult {
        pair: pick(item, &texts, &scores),
        relevances,
        renders: 2,
    })
}

/// The reward model's pick as a pair (a tie gives none).
fn pick(
    item: &PreparedItem,
    texts: &[(String, Option<f32>)],
    scores: &VariantScores,
) -> Result<RoundPair, String> {
    let p01 = scores.matrix.p[0][1];
    let (c, r, p) = match p01.partial_cmp(&0.5) {
        Some(std::cmp::Ordering::Greater) => (0, 1, p01),
        Some(std::cmp::Ordering::Less) => (1, 0, 1.0 - p01),
        _ => return Err("the reward model saw a tie".to_string()),
    };
    Ok(RoundPair {
        product: item.id,
        title: item.title.clone(),
        chosen: texts[c].0.clone(),
        rejected: texts[r].0.clone(),
        renders: [scores.renders[c], scores.renders[r]],
        p_chosen: p,
    })
}

/// Share of `relevances` at or above [`MATCH_THRESHOLD`], over those
/// measured (`None` when none was).
pub fn matching_rate(relevances: &[Option<f32>]) -> Option<f64> {
    let measured: Vec<f32> = relevances.iter().flatten().copied().collect();
    if measured.is_empty() {
        return None;
    }
    let hits = measured.iter().filter(|&&r| r >= MATCH_THRESHOLD).count();
    Some(hits as f64 / measured.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_rate_counts_measured_suggestions_at_the_threshold() {
        assert_eq!(matching_rate(&[None, None]), None);
        let at = Some(MATCH_THRESHOLD);
        let below = Some(MATCH_THRESHOLD - 0.01);
        assert_eq!(
            matching_rate(&[at, below, None, Some(0.9)]),
            Some(2.0 / 3.0)
        );
    }

    #[test]
    fn seeds_differ_per_round_and_product() {
        let t = |round, index| Turn {
            round,
            index,
            products: 3,
        };
        let seeds = [t(1, 0).seed(7), t(1, 1).seed(7), t(2, 0).seed(7)];
        assert!(seeds[0] != seeds[1] && seeds[0] != seeds[2] && seeds[1] != seeds[2]);
    }
}
