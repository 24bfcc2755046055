//! How well a [scene library](super::scene_library) setting suits a
//! product, beyond its area: its fit to the product's kind (the title
//! against the setting's [`kinds`](SettingEntry::kinds)), the floor under
//! which a place is not shortlisted at all (the neutral studios fill in),
//! the occasion a seasonal place needs the title to name, and the fit a
//! place needs before the title's cue props (its ingredients) go into it.

use super::scene_library::{Area, SettingEntry};
use super::select::cosine;

/// How much a setting's fit to the product's kind (see [`kind_fits`])
/// weighs against its cosines to the product text and to the category.
pub const KIND_FIT_WEIGHT: f32 = 2.0;

/// The kind fit of a setting without product kinds (the neutral studios,
/// which suit anything): below what a place made for the product scores
/// (0.5 to 0.8 for a pastel dressing room and an eyeshadow palette, a
/// dirt track and a remote control car) and above a place of the right
/// area that does not suit it (0.1 to 0.35 for a nursery and that car),
/// so studios fill the shortlist where few places fit. Set, with
/// [`KIND_FIT_WEIGHT`], by reading the shortlists of the `titles.tsv`
/// and `fresh2.tsv` titles (0.5 let studios crowd out fitting places).
pub const STUDIO_FIT: f32 = 0.4;

/// The least kind fit a place (not a studio) needs to be shortlisted at
/// all. Below it the place does not suit the product, however well its
/// words match the title (a home gym for smart plugs, a tennis court for
/// a fishing rod): the studios fill the shortlist instead.
pub const MIN_KIND_FIT: f32 = 0.35;

/// The kind fit that lets a seasonal place in for a title that does not
/// name its occasion: the product is itself a thing of that season
/// (mulled wine spices at a Christmas market, champagne in a New Year
/// ballroom), not one that merely shares a word with it.
pub const SEASONAL_KIND_FIT: f32 = 0.6;

/// The least kind fit of a place (not a studio) whose props may include
/// the title's cue props: a bowl of rice goes beside rice noodles in a
/// street kitchen or a studio, not into a juice bar that made the
/// shortlist on other words.
pub const CUE_KIND_FIT: f32 = 0.45;

/// The product kinds of each of `all`'s settings, flattened as (setting
/// index, kind); the neutral studios have none.
pub fn setting_kind_phrases(all: &[(&Area, &SettingEntry)]) -> Vec<(usize, &'static str)> {
    all.iter()
        .enumerate()
        .flat_map(|(i, (_, entry))| entry.kinds.iter().map(move |k| (i, *k)))
        .collect()
}

/// How well each of `n` settings suits the product: the highest cosine
/// between the title (`guess`, its
/// [`guess_text`](super::matching::guess_text) embedding) and the
/// setting's product kinds; [`STUDIO_FIT`] for a setting without kinds.
/// `phrases` are [`setting_kind_phrases`] and `embeddings` theirs, in
/// order.
pub fn kind_fits(
    n: usize,
    phrases: &[(usize, &str)],
    embeddings: &[Vec<f32>],
    guess: &[f32],
) -> Vec<f32> {
    let mut fits = vec![f32::NEG_INFINITY; n];
    for ((i, _), e) in phrases.iter().zip(embeddings) {
        fits[*i] = fits[*i].max(cosine(guess, e));
    }
    fits.into_iter()
        .map(|f| if f.is_finite() { f } else { STUDIO_FIT })
        .collect()
}

/// Whether `title` names one of `occasions`: an ASCII occasion as whole
/// words (any case, punctuation between words ignored: "Valentine's"
/// names "valentine", "Jack-O-Lantern" names "jack o lantern"), any
/// other (e.g. Chinese "春节") as a substring.
pub fn names_occasion(title: &str, occasions: &[&str]) -> bool {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let spaced = format!(" {} ", words.join(" "));
    occasions.iter().any(|o| {
        if o.is_ascii() {
            spaced.contains(&format!(" {o} "))
        } else {
            lower.contains(o)
        }
    })
}

/// Whether a setting with kind fit `fit` may be shortlisted for `title`:
/// a studio always; another place when its fit reaches [`MIN_KIND_FIT`]
/// and, for a seasonal place, when the title names its occasion or the
/// fit reaches [`SEASONAL_KIND_FIT`].
pub fn may_shortlist(entry: &SettingEntry, fit: f32, title: &str) -> bool {
    if entry.kinds.is_empty() {
        return true;
    }
    fit >= MIN_KIND_FIT
        && (entry.occasions.is_empty()
            || fit >= SEASONAL_KIND_FIT
            || names_occasion(title, entry.occasions))
}

/// Whether the title's cue props may go into a setting with kind fit
/// `fit`: a studio's always, another place's from [`CUE_KIND_FIT`].
pub fn takes_cues(entry: &SettingEntry, fit: f32) -> bool {
    entry.kinds.is_empty() || fit >= CUE_KIND_FIT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::prompt_model::scene_library::{entry, seasonal, settings};

    #[test]
    fn a_setting_fits_by_its_nearest_kind_and_studios_by_the_constant() {
        // Three settings: 0 with kinds along x and y, 1 along -x, 2 none.
        let phrases = [(0, "a"), (0, "b"), (1, "c")];
        let embeddings = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![-1.0, 0.0]];
        let fits = kind_fits(3, &phrases, &embeddings, &[0.6, 0.8]);
        assert!((fits[0] - 0.8).abs() < 1e-6, "the nearest kind: {fits:?}");
        assert!((fits[1] + 0.6).abs() < 1e-6, "{fits:?}");
        assert_eq!(fits[2], STUDIO_FIT);
    }

    #[test]
    fn the_phrases_are_each_settings_own_kinds_and_none_for_studios() {
        let all: Vec<(&Area, &SettingEntry)> = settings().collect();
        let phrases = setting_kind_phrases(&all);
        assert_eq!(
            phrases.len(),
            all.iter().map(|(_, e)| e.kinds.len()).sum::<usize>()
        );
        for (i, (area, entry)) in all.iter().enumerate() {
            let own: Vec<&str> = phrases
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, k)| *k)
                .collect();
            assert_eq!(own, entry.kinds, "{}", entry.setting);
            assert_eq!(own.is_empty(), area.suits.is_empty(), "{}", entry.setting);
        }
    }

    #[test]
    fn occasions_are_named_by_whole_words_or_by_their_characters() {
        let xmas = ["christmas", "xmas"];
        assert!(names_occasion("Glass Baubles XMAS Tree Decor", &xmas));
        assert!(!names_occasion("Xmasium Lamp", &xmas));
        assert!(names_occasion("Gift for Valentine's Day", &["valentine"]));
        assert!(names_occasion("Jack-O-Lantern Lights", &["jack o lantern"]));
        assert!(!names_occasion("New Yorker Year Planner", &["new year"]));
        assert!(names_occasion("年货礼盒 春节 Gift Box", &["春节"]));
        assert!(!names_occasion("Plain Gift Box", &["春节"]));
    }

    #[test]
    fn places_need_the_minimum_fit_and_seasonal_ones_their_occasion() {
        const ANY: SettingEntry = entry("a pantry", &["a shelf"], &["jars"], &["rice"]);
        const XMAS: SettingEntry = seasonal(&["christmas"], ANY);
        const STUDIO: SettingEntry = entry("a studio", &["a plinth"], &["shapes"], &[]);
        assert!(may_shortlist(&STUDIO, -1.0, "anything"));
        assert!(may_shortlist(&ANY, MIN_KIND_FIT, "rice"));
        assert!(!may_shortlist(&ANY, MIN_KIND_FIT - 0.01, "rice"));
        let between = (MIN_KIND_FIT + SEASONAL_KIND_FIT) / 2.0;
        assert!(!may_shortlist(&XMAS, between, "Wooden Dollhouse"));
        assert!(may_shortlist(&XMAS, between, "Christmas Dollhouse"));
        assert!(may_shortlist(
            &XMAS,
            SEASONAL_KIND_FIT,
            "Mulled Wine Spices"
        ));
        assert!(!may_shortlist(&XMAS, MIN_KIND_FIT - 0.01, "Christmas Plug"));
    }

    #[test]
    fn cues_go_to_studios_and_to_places_that_fit() {
        const ANY: SettingEntry = entry("a pantry", &["a shelf"], &["jars"], &["rice"]);
        const STUDIO: SettingEntry = entry("a studio", &["a plinth"], &["shapes"], &[]);
        assert!(takes_cues(&STUDIO, STUDIO_FIT));
        assert!(takes_cues(&ANY, CUE_KIND_FIT));
        assert!(!takes_cues(&ANY, CUE_KIND_FIT - 0.01));
    }
}
