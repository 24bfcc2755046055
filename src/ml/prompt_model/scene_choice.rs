//! The phrases a constrained scene plan may use for one product: a
//! shortlist of the [scene library](super::scene_library)'s settings, the
//! closest to the product by the relevance model (all of them without
//! one), with their own surfaces and props, and the global light and mood
//! lists.

use super::category_kinds::{category_scores, kind_phrases};
use super::error::{PromptModelError, Result};
use super::matching::{guess_text, CATEGORIES};
use super::scene_fit::{
    kind_fits, may_shortlist, setting_kind_phrases, takes_cues, KIND_FIT_WEIGHT,
};
use super::scene_grammar::{SceneChoices, SceneOption};
use super::scene_library::{cue_props, settings, Area, SettingEntry, LIGHTS, MOODS};
use super::select::cosine;
use super::suggest::TextEmbedder;

/// How many settings the model chooses among.
pub const SHORTLIST: usize = 8;

/// The best-guessed product category opens its library areas to the
/// shortlist (the neutral studios are always open); the second best opens
/// its areas too when its cosine to the title is within this margin of the
/// best (a near tie, e.g. a chocolate bar between food and drinks). Always
/// opening the second let in wrong neighbours (a hand cream's second guess
/// is food, for "shea butter"): 25 of the 26 tune titles' best guesses are
/// right, far fewer of their second ones. (Set with the earlier guess by
/// category texts; kept for the guess by product kinds, whose scores are
/// also cosines.)
pub const SECOND_CATEGORY_MARGIN: f32 = 0.02;

/// The categories whose areas open to the shortlist: the best scored,
/// and the second when within [`SECOND_CATEGORY_MARGIN`] of it.
fn open_categories(scores: &[f32]) -> Vec<usize> {
    let mut ranked: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = ranked.first().map_or(f32::NEG_INFINITY, |&(_, s)| s);
    ranked
        .iter()
        .take(2)
        .filter(|&&(_, s)| s >= top - SECOND_CATEGORY_MARGIN)
        .map(|&(i, _)| i)
        .collect()
}

/// Animals a pet product is for, each with the words that name it.
const ANIMALS: &[&[&str]] = &[
    &["dog", "dogs", "puppy", "puppies", "canine"],
    &["cat", "cats", "kitten", "kittens", "feline", "catnip"],
    &["bird", "birds", "parrot", "budgie"],
    &["fish", "aquarium", "coral", "reef"],
];

/// The [`ANIMALS`] a text names (by whole words, any case).
fn animals_named(text: &str) -> Vec<usize> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    (0..ANIMALS.len())
        .filter(|&a| words.iter().any(|w| ANIMALS[a].contains(w)))
        .collect()
}

/// Whether a setting is for another animal than the product: the title
/// names an animal and the setting (or its props) names one the title
/// does not (no cat nook for a dog bed, no dog park for a cat toy).
fn for_another_animal(title_animals: &[usize], entry: &SettingEntry) -> bool {
    !title_animals.is_empty()
        && animals_named(&setting_text(entry))
            .iter()
            .any(|a| !title_animals.contains(a))
}

/// The text a setting is matched to the product by: the setting with its
/// props (they say what the place is for).
fn setting_text(entry: &SettingEntry) -> String {
    format!("{} with {}", entry.setting, entry.props.join(", "))
}

/// Categories whose products stand on the floor (a cabinet on a coffee
/// table or a pantry shelf is not an ad anyone would use).
pub const FLOOR_CATEGORIES: &[&str] = &["furniture"];

/// Words that make a surface phrase a floor or ground.
const FLOOR_WORDS: &[&str] = &[
    "floor",
    "rug",
    "deck",
    "patio",
    "terrace",
    "lawn",
    "parquet",
    "carpet",
    "tatami",
    "paving",
    "flagstone",
    "grass",
];

/// Whether a surface phrase is a floor or ground (by its words).
pub fn is_floor(surface: &str) -> bool {
    surface
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| FLOOR_WORDS.contains(&w))
}

/// The option for a setting; `floor_only` keeps its floor surfaces only
/// (none: no option). `cues` (the title's [`cue_props`]) come before the
/// setting's own props.
fn option(entry: &SettingEntry, floor_only: bool, cues: &[&str]) -> Option<SceneOption> {
    let surfaces: Vec<String> = entry
        .surfaces
        .iter()
        .filter(|s| !floor_only || is_floor(s))
        .map(|s| s.to_string())
        .collect();
    (!surfaces.is_empty()).then(|| SceneOption {
        setting: entry.setting.to_string(),
        surfaces,
        props: cues
            .iter()
            .chain(entry.props.iter().filter(|p| !cues.contains(p)))
            .map(|s| s.to_string())
            .collect(),
    })
}

/// The texts [`ranked_settings`] embeds, in one batch: the settings, the
/// categories, the category kinds, the settings' kinds, the title's guess
/// text and the target.
fn ranking_texts(
    all: &[(&Area, &SettingEntry)],
    kinds: &[(usize, &str)],
    setting_kinds: &[(usize, &str)],
    title: &str,
    target: &str,
) -> Vec<String> {
    let mut texts: Vec<String> = all.iter().map(|(_, e)| setting_text(e)).collect();
    texts.extend(CATEGORIES.iter().map(|c| c.text()));
    texts.extend(kinds.iter().map(|(_, k)| k.to_string()));
    texts.extend(setting_kinds.iter().map(|(_, k)| k.to_string()));
    texts.push(guess_text(title));
    texts.push(target.to_string());
    texts
}

/// A setting ranked for a product by [`ranked_settings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedSetting {
    /// The setting.
    pub entry: &'static SettingEntry,
    /// Its score: cosine to the product, plus cosine to the category,
    /// plus [`KIND_FIT_WEIGHT`] times its kind fit.
    pub score: f32,
    /// Its fit to the product's kind (see
    /// [`kind_fits`](super::scene_fit::kind_fits)).
    pub kind_fit: f32,
}

/// The library's settings in order of relevance to `target` (the product
/// text), best first, among the settings whose [`Area`] suits the category
/// closest to `title` (or a near second, see [`SECOND_CATEGORY_MARGIN`]):
/// a hand cream never gets a pet salon or a kitchen because its title says
/// "butter". Only the places [`may_shortlist`] lets in are kept (a place
/// must fit the product's kind; a seasonal one needs its occasion named).
/// A setting's score is its cosine to the product plus its cosine to the
/// best-guessed category (its description words) plus [`KIND_FIT_WEIGHT`]
/// times its kind fit (a barbershop suits razors, not hair scrunchies).
/// Returns the settings and the name of that category.
pub fn ranked_settings(
    title: &str,
    target: &str,
    embedder: &dyn TextEmbedder,
) -> Result<(Vec<RankedSetting>, &'static str)> {
    let all: Vec<(&Area, &SettingEntry)> = settings().collect();
    let kinds = kind_phrases();
    let setting_kinds = setting_kind_phrases(&all);
    let texts = ranking_texts(&all, &kinds, &setting_kinds, title, target);
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
    let (category_vecs, rest) = rest.split_at(CATEGORIES.len());
    let (kind_vecs, rest) = rest.split_at(kinds.len());
    let (setting_kind_vecs, queries) = rest.split_at(setting_kinds.len());
    let (guess, query) = (&queries[0], &queries[1]);
    let open = open_categories(&category_scores(guess, kind_vecs));
    let best = open.first().map(|&i| &category_vecs[i]);
    let fits = kind_fits(all.len(), &setting_kinds, setting_kind_vecs, guess);
    let animals = animals_named(title);
    let mut order: Vec<RankedSetting> = all
        .iter()
        .enumerate()
        .filter(|(_, (area, _))| open.iter().any(|&c| area.suits(CATEGORIES[c].name)))
        .filter(|(_, (_, entry))| !for_another_animal(&animals, entry))
        .filter(|(i, (_, entry))| may_shortlist(entry, fits[*i], title))
        .map(|(i, &(_, entry))| {
            let to_category = best.map_or(0.0, |b| cosine(&setting_vecs[i], b));
            let to_product = cosine(&setting_vecs[i], query);
            RankedSetting {
                entry,
                score: to_product + to_category + KIND_FIT_WEIGHT * fits[i],
                kind_fit: fits[i],
            }
        })
        .collect();
    order.sort_by(|a, b| b.score.total_cmp(&a.score));
    let category = open.first().map_or("", |&i| CATEGORIES[i].name);
    Ok((order, category))
}

/// The choices for a product: the [`SHORTLIST`] settings closest to the
/// product when there is a relevance model (`title` is the designer's,
/// `target` the text suggestions are ranked against), else every setting.
/// A product of a [`FLOOR_CATEGORIES`] category gets floor surfaces only;
/// any other gets its title's [`cue_props`] (ingredients, flavours,
/// scents) offered first among the props of the settings that
/// [`takes_cues`] (the studios and the places that fit the product well;
/// every setting without a relevance model).
pub fn scene_choices(
    title: &str,
    target: Option<&str>,
    embedder: Option<&dyn TextEmbedder>,
) -> Result<SceneChoices> {
    let cues = cue_props(title);
    let options: Vec<SceneOption> = match (target, embedder) {
        (Some(target), Some(embedder)) => {
            let (ranked, category) = ranked_settings(title, target, embedder)?;
            let floor_only = FLOOR_CATEGORIES.contains(&category);
            let cues = if floor_only { Vec::new() } else { cues };
            ranked
                .into_iter()
                .filter_map(|r| {
                    let own: &[&str] = if takes_cues(r.entry, r.kind_fit) {
                        cues.as_slice()
                    } else {
                        &[]
                    };
                    option(r.entry, floor_only, own)
                })
                .take(SHORTLIST)
                .collect()
        }
        _ => settings()
            .filter_map(|(_, e)| option(e, false, &cues))
            .collect(),
    };
    Ok(SceneChoices {
        options,
        lights: LIGHTS.iter().map(|s| s.to_string()).collect(),
        moods: MOODS.iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_for_another_animal_are_told_by_their_words() {
        let nook = settings()
            .map(|(_, e)| e)
            .find(|e| e.setting == "a cosy cat nook")
            .expect("the cat nook");
        let dog = animals_named("Orthopedic Dog Bed for Large Dogs");
        assert_eq!(dog, vec![0]);
        assert!(for_another_animal(&dog, nook));
        assert!(!for_another_animal(
            &animals_named("Cat Scratching Post"),
            nook
        ));
        // A title naming no animal keeps every setting.
        assert!(!for_another_animal(&animals_named("Wool Rug"), nook));
        // Whole words only: "category" is not a cat, "Catalina" neither.
        assert!(animals_named("category Catalina dogma").is_empty());
    }

    #[test]
    fn floors_are_told_by_their_words() {
        for floor in [
            "a light oak floor",
            "a jute area rug",
            "a teak deck",
            "a woven tatami mat",
        ] {
            assert!(is_floor(floor), "{floor}");
        }
        for other in [
            "a low oak coffee table",
            "a wooden pantry shelf",
            "a floury counter",
        ] {
            assert!(!is_floor(other), "{other}");
        }
    }

    #[test]
    fn floor_only_options_keep_floor_surfaces_or_drop_the_setting() {
        let furniture: Vec<SceneOption> = settings()
            .filter(|(area, _)| area.name == "furniture")
            .filter_map(|(_, e)| option(e, true, &[]))
            .collect();
        assert!(furniture.len() >= 5);
        assert!(furniture
            .iter()
            .all(|o| !o.surfaces.is_empty() && o.surfaces.iter().all(|s| is_floor(s))));
        let pantry = settings()
            .map(|(_, e)| e)
            .find(|e| e.surfaces.iter().all(|s| !is_floor(s)))
            .expect("a setting without floors");
        assert!(option(pantry, true, &[]).is_none());
        assert!(option(pantry, false, &[]).is_some());
    }
}
