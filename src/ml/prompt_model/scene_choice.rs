//! The phrases a constrained scene plan may use for one product: a
//! shortlist of the [scene library](super::scene_library)'s settings, the
//! closest to the product by the relevance model (all of them without
//! one), with their own surfaces and props, and the global light and mood
//! lists.

use super::error::{PromptModelError, Result};
use super::matching::{guess_category, CATEGORIES};
use super::scene_grammar::{SceneChoices, SceneOption};
use super::scene_library::{SettingEntry, LIGHTS, MOODS, SETTINGS};
use super::select::cosine;
use super::suggest::TextEmbedder;

/// How many settings the model chooses among.
pub const SHORTLIST: usize = 8;

/// The text a setting is matched to the product by: the setting with its
/// props (they say what the place is for).
fn setting_text(entry: &SettingEntry) -> String {
    format!("{} with {}", entry.setting, entry.props.join(", "))
}

fn option(entry: &SettingEntry) -> SceneOption {
    SceneOption {
        setting: entry.setting.to_string(),
        surfaces: entry.surfaces.iter().map(|s| s.to_string()).collect(),
        props: entry.props.iter().map(|s| s.to_string()).collect(),
    }
}

/// The settings of the library in order of relevance to `target` (the
/// product text), best first: the sum of a setting's cosine to the product
/// and to the product's guessed category (its description words), so
/// that a title word such as "butter" in a hand cream does not pull in
/// kitchens on its own.
pub fn ranked_settings(target: &str, embedder: &dyn TextEmbedder) -> Result<Vec<usize>> {
    let mut texts: Vec<String> = SETTINGS.iter().map(setting_text).collect();
    texts.extend(CATEGORIES.iter().map(|c| c.text()));
    texts.push(target.to_string());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embeddings = embedder.embed_texts(&refs)?;
    let (query, bank) = embeddings
        .split_last()
        .ok_or_else(|| PromptModelError::Input("the relevance model returned nothing".into()))?;
    let (settings, categories) = bank.split_at(SETTINGS.len().min(bank.len()));
    let category = categories.get(guess_category(query, categories));
    let mut order: Vec<(usize, f32)> = settings
        .iter()
        .map(|e| cosine(e, query) + category.map_or(0.0, |c| cosine(e, c)))
        .enumerate()
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(order.into_iter().map(|(i, _)| i).collect())
}

/// The choices for a product: the [`SHORTLIST`] settings closest to
/// `target` when there is a relevance model, else every setting.
pub fn scene_choices(
    target: Option<&str>,
    embedder: Option<&dyn TextEmbedder>,
) -> Result<SceneChoices> {
    let picked: Vec<usize> = match (target, embedder) {
        (Some(target), Some(embedder)) => ranked_settings(target, embedder)?
            .into_iter()
            .take(SHORTLIST)
            .collect(),
        _ => (0..SETTINGS.len()).collect(),
    };
    Ok(SceneChoices {
        options: picked.iter().map(|&i| option(&SETTINGS[i])).collect(),
        lights: LIGHTS.iter().map(|s| s.to_string()).collect(),
        moods: MOODS.iter().map(|s| s.to_string()).collect(),
    })
}
