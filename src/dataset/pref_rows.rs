//! The preference table: one row per decisive label (outcome A or B, not
//! retracted) on two renders of the same product, oriented as chosen /
//! rejected, with the columns TRL's DPO trainer reads (`prompt`, `chosen`,
//! `rejected`) and enough ids and hashes to join it back to the renders.
//!
//! Left out (and counted): ties, can't tell and skips (no chosen /
//! rejected), labels on imported creatives (no prompt to learn), and
//! labels whose renders are of different products or lack a prompt.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::columns::Column;
use super::error::DatasetError;
use crate::prefs::{instruction_for, prompt_of};
use crate::store::{
    ImageStore, Outcome, PairItem, PreferenceId, PreferenceRow, RenderId, RenderRow, Store,
};

/// One exported preference pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRow {
    /// The label's row id in the store.
    pub label_id: i64,
    /// The product's row id.
    pub product_id: i64,
    /// The product title.
    pub product_title: String,
    /// SHA-256 of the product's original image.
    pub product_image_hash: String,
    /// The product image's absolute path in the image store.
    pub product_image: String,
    /// The instruction (TRL `prompt`): the prompt model's suggestion
    /// instruction for the product title.
    pub prompt: String,
    /// The preferred background description (the chosen render's prompt).
    pub chosen: String,
    /// The other background description.
    pub rejected: String,
    /// The chosen render's row id.
    pub chosen_render_id: i64,
    /// The rejected render's row id.
    pub rejected_render_id: i64,
    /// SHA-256 of the chosen render's image.
    pub chosen_image_hash: String,
    /// SHA-256 of the rejected render's image.
    pub rejected_image_hash: String,
    /// The chosen render's absolute image path.
    pub chosen_image: String,
    /// The rejected render's absolute image path.
    pub rejected_image: String,
    /// The chosen render's sampler seed.
    pub chosen_seed: u64,
    /// The rejected render's sampler seed.
    pub rejected_seed: u64,
    /// Who labelled: a user name or a model id.
    pub labeler: String,
    /// The kind of label: "human" or "model".
    pub source: String,
    /// The stored outcome: "a" (chosen = item A) or "b".
    pub outcome: String,
    /// Whether item A was shown on the left, if it was shown.
    pub left_is_a: Option<bool>,
    /// The model's probability that A is better, if recorded.
    pub model_p_a: Option<f64>,
    /// When the label was given (ISO 8601 UTC, milliseconds).
    pub created_at: String,
}

/// The preference rows and what was left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairRows {
    /// The rows, in label order.
    pub rows: Vec<PairRow>,
    /// Active labels that are a tie, can't tell or skip.
    pub undecided: usize,
    /// Active labels on creatives.
    pub on_creatives: usize,
    /// Labels that could not be exported, with the reason.
    pub problems: Vec<(PreferenceId, String)>,
}

/// Collects the preference rows of `store`.
pub fn pair_rows(store: &Store, images: &ImageStore) -> Result<PairRows, DatasetError> {
    let mut out = PairRows::default();
    for label in store.active_preferences()? {
        match (label.a, label.b, label.outcome) {
            (_, _, Outcome::Tie | Outcome::CantTell | Outcome::Skip) => out.undecided += 1,
            (PairItem::Render(a), PairItem::Render(b), _) => {
                match pair_row(store, images, &label, a, b)? {
                    Ok(row) => out.rows.push(row),
                    Err(problem) => out.problems.push((label.id, problem)),
                }
            }
            _ => out.on_creatives += 1,
        }
    }
    Ok(out)
}

/// The row of a decisive label on renders `a` and `b`, or why there is
/// none.
fn pair_row(
    store: &Store,
    images: &ImageStore,
    label: &PreferenceRow,
    a: RenderId,
    b: RenderId,
) -> Result<Result<PairRow, String>, DatasetError> {
    let (Some(a), Some(b)) = (store.render(a)?, store.render(b)?) else {
        return Ok(Err(format!("render {a} or {b} is not in the store")));
    };
    if a.product_id != b.product_id {
        return Ok(Err(format!(
            "render {} is of product {} but render {} of product {}",
            a.id, a.product_id, b.id, b.product_id
        )));
    }
    let Some(product) = store.product(a.product_id)? else {
        return Ok(Err(format!("product {} is not in the store", a.product_id)));
    };
    let (chosen, rejected) = if label.outcome == Outcome::A {
        (a, b)
    } else {
        (b, a)
    };
    let (Some(chosen_prompt), Some(rejected_prompt)) = (
        prompt_of(&chosen.params_json),
        prompt_of(&rejected.params_json),
    ) else {
        return Ok(Err(format!(
            "render {} or {} has no prompt in its parameters",
            chosen.id, rejected.id
        )));
    };
    Ok(Ok(PairRow {
        label_id: label.id.0,
        product_id: product.id.0,
        product_title: product.title.clone(),
        product_image_hash: product.image_hash.clone(),
        product_image: absolute(images.path_for(&product.image_hash, &product.image_ext)?),
        prompt: instruction_for(&product.title),
        chosen: chosen_prompt.to_string(),
        rejected: rejected_prompt.to_string(),
        chosen_render_id: chosen.id.0,
        rejected_render_id: rejected.id.0,
        chosen_image_hash: chosen.image_hash.clone(),
        rejected_image_hash: rejected.image_hash.clone(),
        chosen_image: render_image(images, &chosen)?,
        rejected_image: render_image(images, &rejected)?,
        chosen_seed: chosen.seed,
        rejected_seed: rejected.seed,
        labeler: label.labeler.clone(),
        source: label.source.as_str().to_string(),
        outcome: label.outcome.as_str().to_string(),
        left_is_a: label.left_is_a,
        model_p_a: label.model_p_a,
        created_at: label.created_at.clone(),
    }))
}

/// The render's file in the image store (its extension from the recorded
/// path, PNG by default).
fn render_image(images: &ImageStore, render: &RenderRow) -> Result<String, DatasetError> {
    let ext = Path::new(&render.image_path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("png");
    Ok(absolute(images.path_for(&render.image_hash, ext)?))
}

/// `path` made absolute (as given when that fails).
pub(super) fn absolute(path: PathBuf) -> String {
    std::path::absolute(&path)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The Parquet columns of `rows`, in [`PairRow`]'s field order.
pub fn pair_columns(rows: &[PairRow]) -> Vec<Column> {
    let text = |name, get: fn(&PairRow) -> &str| Column::text(name, rows.iter().map(get));
    let int = |name, get: fn(&PairRow) -> i64| Column::int(name, rows.iter().map(get));
    let uint = |name, get: fn(&PairRow) -> u64| Column::uint(name, rows.iter().map(get));
    vec![
        int("label_id", |r| r.label_id),
        int("product_id", |r| r.product_id),
        text("product_title", |r| &r.product_title),
        text("product_image_hash", |r| &r.product_image_hash),
        text("product_image", |r| &r.product_image),
        text("prompt", |r| &r.prompt),
        text("chosen", |r| &r.chosen),
        text("rejected", |r| &r.rejected),
        int("chosen_render_id", |r| r.chosen_render_id),
        int("rejected_render_id", |r| r.rejected_render_id),
        text("chosen_image_hash", |r| &r.chosen_image_hash),
        text("rejected_image_hash", |r| &r.rejected_image_hash),
        text("chosen_image", |r| &r.chosen_image),
        text("rejected_image", |r| &r.rejected_image),
        uint("chosen_seed", |r| r.chosen_seed),
        uint("rejected_seed", |r| r.rejected_seed),
        text("labeler", |r| &r.labeler),
        text("source", |r| &r.source),
        text("outcome", |r| &r.outcome),
        Column::opt_bool("left_is_a", rows.iter().map(|r| r.left_is_a)),
        Column::opt_float("model_p_a", rows.iter().map(|r| r.model_p_a)),
        text("created_at", |r| &r.created_at),
    ]
}
