//! Decisive labels on renders as text preference pairs for training the
//! prompt model: the product's title (its instruction is built from it), the
//! chosen and the rejected render's prompt.
//!
//! Kept: active labels with outcome A or B on two renders of the same
//! product, from people (and from models when asked). Counted but not kept:
//! ties / can't tell / skips, model labels when not asked, labels on
//! creatives; reported as problems: renders of different products, renders
//! gone from the store, renders without a prompt.

use super::error::PrefsError;
use super::export::prompt_of;
use crate::store::{
    Outcome, PairItem, PreferenceId, PreferenceRow, PreferenceSource, ProductId, RenderId, Store,
};

/// One training pair.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPair {
    /// The label it comes from.
    pub label: PreferenceId,
    /// The product both renders show.
    pub product: ProductId,
    /// The product's title.
    pub title: String,
    /// Prompt of the preferred render.
    pub chosen: String,
    /// Prompt of the other render.
    pub rejected: String,
}

/// The pairs of a store and what was left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextPairs {
    /// Usable pairs, in label order.
    pub pairs: Vec<TextPair>,
    /// Active labels left out on purpose (undecided, model labels when not
    /// asked, creatives).
    pub skipped: usize,
    /// Labels that could not be used, with the reason.
    pub problems: Vec<(PreferenceId, String)>,
}

/// The training pairs of `store` (see the module documentation).
pub fn text_pairs(store: &Store, with_model_labels: bool) -> Result<TextPairs, PrefsError> {
    let mut out = TextPairs::default();
    for label in store.active_preferences()? {
        let wanted = with_model_labels || label.source == PreferenceSource::Human;
        match (label.a, label.b, label.outcome) {
            (PairItem::Render(a), PairItem::Render(b), Outcome::A | Outcome::B) if wanted => {
                match pair_of(store, &label, a, b)? {
                    Ok(pair) => out.pairs.push(pair),
                    Err(problem) => out.problems.push((label.id, problem)),
                }
            }
            _ => out.skipped += 1,
        }
    }
    Ok(out)
}

fn pair_of(
    store: &Store,
    label: &PreferenceRow,
    a: RenderId,
    b: RenderId,
) -> Result<Result<TextPair, String>, PrefsError> {
    let (Some(ra), Some(rb)) = (store.render(a)?, store.render(b)?) else {
        return Ok(Err(format!("render {a} or {b} is no longer in the store")));
    };
    if ra.product_id != rb.product_id {
        return Ok(Err(format!(
            "render {} is of product {} but render {} of product {}",
            ra.id, ra.product_id, rb.id, rb.product_id
        )));
    }
    let Some(product) = store.product(ra.product_id)? else {
        return Ok(Err(format!(
            "product {} is no longer in the store",
            ra.product_id
        )));
    };
    let (chosen, rejected) = if label.outcome == Outcome::A {
        (ra, rb)
    } else {
        (rb, ra)
    };
    match (
        prompt_of(&chosen.params_json),
        prompt_of(&rejected.params_json),
    ) {
        (Some(c), Some(r)) => Ok(Ok(TextPair {
            label: label.id,
            product: product.id,
            title: product.title,
            chosen: c.to_string(),
            rejected: r.to_string(),
        })),
        _ => Ok(Err(format!(
            "render {} or {} has no prompt in its parameters",
            chosen.id, rejected.id
        ))),
    }
}
