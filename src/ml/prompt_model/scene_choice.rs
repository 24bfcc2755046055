//! The phrases a constrained scene plan may use for one product: a
//! shortlist of the [scene library](super::scene_library)'s settings, the
//! closest to the product by the relevance model (all of them without
//! one), with their own surfaces and props, and the global light and mood
//! lists.

use super::error::{PromptModelError, Result};
use super::matching::{guess_text, CATEGORIES};
use super::scene_grammar::{SceneChoices, SceneOption};
use super::scene_library::{settings, Area, SettingEntry, LIGHTS, MOODS};
use super::select::{cosine, rank_by_cosine};
use super::suggest::TextEmbedder;

/// How many settings the model chooses among.
pub const SHORTLIST: usize = 8;

/// The best-guessed product category opens its library areas to the
/// shortlist (the neutral studios are always open); the second best opens
/// its areas too when its cosine to the title is within this margin of the
/// best (a near tie, e.g. a chocolate bar between food and drinks). Always
/// opening the second let in wrong neighbours (a hand cream's second guess
/// is food, for "shea butter"): 25 of the 26 tune titles' best guesses are
/// right, far fewer of their second ones.
pub const SECOND_CATEGORY_MARGIN: f32 = 0.02;

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

/// The library's settings in order of relevance to `target` (the product
/// text), best first, among the settings whose [`Area`] suits the category
/// closest to `title` (or a near second, see [`SECOND_CATEGORY_MARGIN`]):
/// a hand cream never gets a pet salon or a kitchen because its title says
/// "butter". A setting's score is
/// its cosine to the product plus its cosine to the best-guessed category
/// (its description words).
pub fn ranked_settings(
    title: &str,
    target: &str,
    embedder: &dyn TextEmbedder,
) -> Result<Vec<&'static SettingEntry>> {
    let all: Vec<(&Area, &SettingEntry)> = settings().collect();
    let mut texts: Vec<String> = all.iter().map(|(_, e)| setting_text(e)).collect();
    texts.extend(CATEGORIES.iter().map(|c| c.text()));
    texts.push(guess_text(title));
    texts.push(target.to_string());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embeddings = embedder.embed_texts(&refs)?;
    if embeddings.len() != texts.len() {
        return Err(PromptModelError::Input(format!(
            "the relevance model returned {} embeddings for {} texts",
            embeddings.len(),
            texts.len()
        )));
    }
    let (setting_vecs, rest) = embeddings.split_at(all.len());
    let (category_vecs, queries) = rest.split_at(CATEGORIES.len());
    let (guess, query) = (&queries[0], &queries[1]);
    let ranked = rank_by_cosine(guess, category_vecs);
    let top = ranked.first().map_or(f32::NEG_INFINITY, |&(_, c)| c);
    let open: Vec<usize> = ranked
        .iter()
        .take(2)
        .filter(|&&(_, c)| c >= top - SECOND_CATEGORY_MARGIN)
        .map(|&(i, _)| i)
        .collect();
    let best = open.first().map(|&i| &category_vecs[i]);
    let mut order: Vec<(usize, f32)> = all
        .iter()
        .enumerate()
        .filter(|(_, (area, _))| open.iter().any(|&c| area.suits(CATEGORIES[c].name)))
        .map(|(i, _)| {
            let to_category = best.map_or(0.0, |b| cosine(&setting_vecs[i], b));
            (i, cosine(&setting_vecs[i], query) + to_category)
        })
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(order.into_iter().map(|(i, _)| all[i].1).collect())
}

/// The choices for a product: the [`SHORTLIST`] settings closest to the
/// product when there is a relevance model (`title` is the designer's,
/// `target` the text suggestions are ranked against), else every setting.
pub fn scene_choices(
    title: &str,
    target: Option<&str>,
    embedder: Option<&dyn TextEmbedder>,
) -> Result<SceneChoices> {
    let picked: Vec<&SettingEntry> = match (target, embedder) {
        (Some(target), Some(embedder)) => ranked_settings(title, target, embedder)?
            .into_iter()
            .take(SHORTLIST)
            .collect(),
        _ => settings().map(|(_, e)| e).collect(),
    };
    Ok(SceneChoices {
        options: picked.into_iter().map(option).collect(),
        lights: LIGHTS.iter().map(|s| s.to_string()).collect(),
        moods: MOODS.iter().map(|s| s.to_string()).collect(),
    })
}
