//! Checks of the scene library's phrases and areas.

use super::*;
use std::collections::HashSet;

/// Words that would make a prop an advertised product, a person or text.
const FORBIDDEN_PROP_WORDS: &[&str] = &[
    "phone",
    "smartphone",
    "laptop",
    "headphones",
    "earbuds",
    "speaker",
    "camera",
    "backpack",
    "handbag",
    "bag",
    "shoes",
    "sneakers",
    "boots",
    "watch",
    "necklace",
    "ring",
    "shampoo",
    "lotion",
    "perfume",
    "teddy",
    "doll",
    "toy",
    "person",
    "people",
    "man",
    "woman",
    "child",
    "girl",
    "boy",
    "hand",
    "hands",
    "logo",
    "text",
    "sign",
    "label",
    "brand",
    "lettering",
    "bottle",
];

fn words(phrase: &str) -> Vec<&str> {
    phrase.split_whitespace().collect()
}

/// Checks the shared phrase rules and the word-count range; returns the
/// problem, if any.
fn phrase_problem(phrase: &str, min_words: usize, max_words: usize) -> Option<String> {
    let allowed = |c: char| c.is_ascii_lowercase() || matches!(c, ' ' | '-' | '\'');
    if !phrase.chars().all(allowed) {
        return Some("only lower-case ASCII letters, spaces, hyphens, apostrophes".into());
    }
    if phrase.trim() != phrase || phrase.contains("  ") {
        return Some("stray spaces".into());
    }
    let ws = words(phrase);
    if ws.len() < min_words || ws.len() > max_words {
        return Some(format!("{} words, want {min_words}-{max_words}", ws.len()));
    }
    article_problem(&ws)
}

/// "a" before a consonant sound, "an" before a vowel sound (by spelling).
fn article_problem(ws: &[&str]) -> Option<String> {
    for pair in ws.windows(2) {
        let consonant_sound = ["eu", "uni", "use", "one"];
        let vowel = pair[1].starts_with(['a', 'e', 'i', 'o', 'u'])
            && !consonant_sound.iter().any(|c| pair[1].starts_with(c));
        if (pair[0] == "a" && vowel) || (pair[0] == "an" && !vowel) {
            return Some(format!("wrong article in \"{} {}\"", pair[0], pair[1]));
        }
    }
    None
}

fn starts_with_article(phrase: &str) -> bool {
    matches!(words(phrase).first(), Some(&("a" | "an" | "the")))
}

fn assert_phrases(kind: &str, phrases: &[&str], min: usize, max: usize, article: bool) {
    for p in phrases {
        if let Some(problem) = phrase_problem(p, min, max) {
            panic!("{kind} \"{p}\": {problem}");
        }
        assert!(
            !article || starts_with_article(p),
            "{kind} \"{p}\" needs a/an/the"
        );
    }
}

fn assert_unique(kind: &str, phrases: impl IntoIterator<Item = &'static str>) {
    let mut seen = HashSet::new();
    for p in phrases {
        assert!(seen.insert(p), "duplicate {kind} \"{p}\"");
    }
}

fn longest(phrases: &'static [&'static str]) -> &'static str {
    phrases
        .iter()
        .copied()
        .max_by_key(|p| words(p).len())
        .unwrap_or_default()
}

#[test]
fn counts_are_in_range() {
    assert!(
        all_settings().len() >= 110,
        "{} settings",
        all_settings().len()
    );
    for e in all_settings() {
        assert!(
            (3..=5).contains(&e.surfaces.len()),
            "surfaces of {}",
            e.setting
        );
        assert!((4..=6).contains(&e.props.len()), "props of {}", e.setting);
    }
    assert!((20..=30).contains(&LIGHTS.len()), "{} lights", LIGHTS.len());
    assert!((20..=30).contains(&MOODS.len()), "{} moods", MOODS.len());
}

#[test]
fn settings_surfaces_and_props_follow_the_phrase_rules() {
    for e in all_settings() {
        assert_phrases("setting", &[e.setting], 2, 6, true);
        assert_phrases("surface", e.surfaces, 2, 6, true);
        assert_phrases("prop", e.props, 2, 7, false);
    }
}

#[test]
fn lights_and_moods_follow_the_phrase_rules() {
    assert_phrases("light", LIGHTS, 2, 5, false);
    assert_phrases("mood", MOODS, 1, 2, false);
    for m in MOODS {
        assert!(
            !m.ends_with("mood"),
            "mood \"{m}\" must not end in \"mood\""
        );
    }
}

#[test]
fn no_duplicates() {
    assert_unique("setting", all_settings().into_iter().map(|e| e.setting));
    for e in all_settings() {
        assert_unique("surface", e.surfaces.iter().copied());
        assert_unique("prop", e.props.iter().copied());
    }
    assert_unique("light", LIGHTS.iter().copied());
    assert_unique("mood", MOODS.iter().copied());
}

#[test]
fn props_name_no_product_person_or_text() {
    for e in all_settings() {
        for p in e.props {
            let bad = words(p)
                .into_iter()
                .find(|w| FORBIDDEN_PROP_WORDS.contains(w));
            assert!(bad.is_none(), "prop \"{p}\" of {} names {bad:?}", e.setting);
        }
    }
    for c in CUES {
        assert_phrases("cue prop", &[c.prop], 2, 8, false);
        let bad = words(c.prop)
            .into_iter()
            .find(|w| FORBIDDEN_PROP_WORDS.contains(w));
        assert!(bad.is_none(), "cue prop \"{}\" names {bad:?}", c.prop);
    }
}

#[test]
fn the_rule_checks_reject_bad_phrases() {
    assert!(phrase_problem("a sunlit, bright bathroom", 2, 6).is_some());
    assert!(phrase_problem("a Sunlit bathroom", 2, 6).is_some());
    assert!(phrase_problem("a old oak table", 2, 6).is_some());
    assert!(phrase_problem("an wooden bench", 2, 6).is_some());
    assert!(phrase_problem("bathroom", 2, 6).is_some());
    assert!(phrase_problem("an old oak table", 2, 6).is_none());
    assert!(phrase_problem("a european square", 2, 6).is_none());
    assert!(!starts_with_article("sunlit bathroom"));
}

#[test]
fn every_assembled_prompt_stays_under_forty_words() {
    let (light, mood) = (longest(LIGHTS), longest(MOODS));
    for e in all_settings() {
        let (surface, props) = (longest(e.surfaces), longest(e.props));
        let prompt = format!(
            "{surface} in {}, with {props}, {light}, {mood} mood",
            e.setting
        );
        let count = words(&prompt).len();
        assert!(count < 40, "{count} words: {prompt}");
    }
    let cue = CUES.iter().map(|c| c.prop).max_by_key(|p| words(p).len());
    let longest_setting = all_settings()
        .into_iter()
        .map(|e| words(e.setting).len() + words(longest(e.surfaces)).len())
        .max();
    let count = words(cue.unwrap_or_default()).len() + longest_setting.unwrap_or(0);
    let rest = words(light).len() + words(mood).len() + 3;
    assert!(count + rest < 40, "a cue prop makes {} words", count + rest);
}

fn all_settings() -> Vec<&'static SettingEntry> {
    settings().map(|(_, entry)| entry).collect()
}

#[test]
fn every_area_suits_known_categories_and_only_the_studios_suit_all() {
    use crate::ml::prompt_model::matching::CATEGORIES;
    for area in AREAS {
        assert!(!area.settings.is_empty(), "{} is empty", area.name);
        for name in area.suits {
            assert!(
                CATEGORIES.iter().any(|c| c.name == *name),
                "{}: unknown category {name}",
                area.name
            );
        }
    }
    let universal: Vec<&str> = AREAS
        .iter()
        .filter(|a| a.suits.is_empty())
        .map(|a| a.name)
        .collect();
    assert_eq!(universal, ["neutral studio"]);
    for category in &CATEGORIES {
        let own = AREAS
            .iter()
            .filter(|a| !a.suits.is_empty() && a.suits(category.name))
            .count();
        assert!(own >= 1, "no area of its own for {}", category.name);
    }
}

/// Checks a product kind of a [`SettingEntry::kinds`] list: lower-case
/// ASCII letters, hyphens and apostrophes in one to four words.
fn kind_problem(kind: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_lowercase() || matches!(c, ' ' | '-' | '\'');
    if !kind.chars().all(allowed) {
        return Some("only lower-case ASCII letters, spaces, hyphens, apostrophes".into());
    }
    if kind.trim() != kind || kind.contains("  ") {
        return Some("stray spaces".into());
    }
    let count = words(kind).len();
    (!(1..=4).contains(&count)).then(|| format!("{count} words, want 1-4"))
}

#[test]
fn every_place_but_the_studios_names_its_product_kinds() {
    for (area, e) in settings() {
        if area.suits.is_empty() {
            assert!(e.kinds.is_empty(), "studio {} has kinds", e.setting);
            continue;
        }
        assert!(
            (6..=15).contains(&e.kinds.len()),
            "{} kinds for {}",
            e.kinds.len(),
            e.setting
        );
        assert_unique("kind", e.kinds.iter().copied());
        for k in e.kinds {
            if let Some(problem) = kind_problem(k) {
                panic!("kind \"{k}\" of {}: {problem}", e.setting);
            }
        }
    }
}

#[test]
fn only_the_seasonal_places_wait_for_their_occasion() {
    for (area, e) in settings() {
        let seasonal = area.name == "seasonal and festive";
        assert_eq!(!e.occasions.is_empty(), seasonal, "{}", e.setting);
        for o in e.occasions {
            let ascii_ok = o.chars().all(|c| c.is_ascii_lowercase() || c == ' ');
            assert!(
                (ascii_ok && o.trim() == *o && !o.contains("  ")) || !o.is_ascii(),
                "occasion \"{o}\" of {}: lower-case words, single spaces",
                e.setting
            );
        }
    }
}

#[test]
fn the_kind_check_rejects_bad_kinds() {
    assert!(kind_problem("beard oil").is_none());
    assert!(kind_problem("men's grooming kit").is_none());
    assert!(kind_problem("Beard Oil").is_some());
    assert!(kind_problem("beard oil, comb").is_some());
    assert!(kind_problem(" comb").is_some());
    assert!(kind_problem("cr\u{e8}me brulee").is_some());
    assert!(kind_problem("a very long product kind name").is_some());
}
