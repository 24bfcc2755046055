//! Scene plans: the prompt model fills five short slots (setting, surface,
//! props, lighting, mood) for a product, one `Slot: phrase` line each, and
//! the plan is assembled into one Stable Diffusion background prompt.
//! Small models write much better when the structure is fixed this way than
//! when asked for free text.

use super::chat::{ChatMessage, Role};
use super::scene_examples::SceneExample;
use super::scene_library::cue_props;
use super::screen::{words, RejectReason};

/// The slot names, in the order the model writes them.
/// (Plain words a small model reads right: "Stands on" rather than
/// "Surface", "Around it" rather than "Props".)
pub const SLOT_NAMES: [&str; 5] = ["Scene", "Stands on", "Around it", "Light", "Mood"];

/// System message of a scene-plan request.
pub const PLAN_SYSTEM_PROMPT: &str = "You plan the background of an advertising photo for a \
product. Fill in each line with a short phrase: where the photo is taken, what the product \
stands on, a few objects around it, the light, the mood. Never describe the product itself.";

/// Most words kept of one slot phrase.
const MAX_SLOT_WORDS: usize = 8;

/// Words a phrase cut short must not end on.
const DANGLING: [&str; 14] = [
    "a", "an", "the", "and", "or", "of", "with", "to", "in", "on", "at", "for", "by", "from",
];

/// A parsed plan: one phrase per slot (`None` when the model left it out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenePlan {
    /// Where the photo is taken.
    pub setting: Option<String>,
    /// What the product stands on.
    pub surface: Option<String>,
    /// Objects around the product.
    pub props: Option<String>,
    /// The light.
    pub lighting: Option<String>,
    /// The mood.
    pub mood: Option<String>,
}

/// The user message asking for the plan of `title`.
pub fn plan_request(title: &str) -> String {
    format!("Product: {}", title.trim().trim_end_matches('.'))
}

/// The assistant's answer of a worked example.
pub fn example_answer(example: &SceneExample) -> String {
    SLOT_NAMES
        .iter()
        .zip(example.plan)
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The chat asking for a plan: system message, the examples as earlier
/// turns, then the product.
pub fn plan_messages(title: &str, examples: &[&SceneExample]) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage::new(Role::System, PLAN_SYSTEM_PROMPT)];
    for example in examples {
        messages.push(ChatMessage::new(Role::User, plan_request(example.product)));
        messages.push(ChatMessage::new(Role::Assistant, example_answer(example)));
    }
    messages.push(ChatMessage::new(Role::User, plan_request(title)));
    messages
}

/// Whether a streamed answer is complete: all five lines written, or a
/// blank line (the model moved on to something else).
pub fn plan_complete(text: &str) -> bool {
    let body = text.trim_start();
    body.contains("\n\n") || body.matches('\n').count() >= SLOT_NAMES.len()
}

/// Index of the slot a line's key names (synonyms the model uses included).
fn slot_of(key: &str) -> Option<usize> {
    let key = key
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let slot = match key.as_str() {
        "setting" | "location" | "place" | "scene" | "background" => 0,
        "surface" | "base" | "stand" | "stands on" | "on" => 1,
        "props" | "prop" | "objects" | "items" | "details" | "around it" | "around" => 2,
        "lighting" | "light" | "lights" => 3,
        "mood" | "atmosphere" | "vibe" => 4,
        _ => return None,
    };
    Some(slot)
}

/// Parses `Slot: phrase` lines. `None` when no line names a slot (the
/// model answered in free text).
pub fn parse_plan(raw: &str) -> Option<ScenePlan> {
    let mut slots: [Option<String>; 5] = Default::default();
    let mut found = false;
    for line in raw.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let Some(slot) = slot_of(key) else {
            continue;
        };
        found = true;
        if slots[slot].is_none() {
            slots[slot] = clean_phrase(value);
        }
    }
    let [setting, surface, props, lighting, mood] = slots;
    found.then_some(ScenePlan {
        setting,
        surface,
        props,
        lighting,
        mood,
    })
}

/// One slot phrase cleaned: quotes, brackets and alternatives ("a glass or
/// a bowl" keeps "a glass") removed, at most [`MAX_SLOT_WORDS`] words.
fn clean_phrase(value: &str) -> Option<String> {
    let mut text = value.trim().to_string();
    if let Some(open) = text.find('(') {
        text.truncate(open);
    }
    if let Some(alt) = text.find(" or ") {
        text.truncate(alt);
    }
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | '“' | '”' | '*' | '#'))
        .collect();
    let mut words: Vec<&str> = text.split_whitespace().take(MAX_SLOT_WORDS).collect();
    let trim = |w: &str| {
        w.trim_end_matches(['.', ',', ';', ':', '-', '!'])
            .to_lowercase()
    };
    while words
        .last()
        .is_some_and(|w| trim(w).is_empty() || DANGLING.contains(&trim(w).as_str()))
    {
        words.pop();
    }
    let phrase = words
        .join(" ")
        .trim_end_matches(['.', ',', ';', ':', '-', '!'])
        .trim()
        .to_string();
    (!phrase.is_empty()).then_some(phrase)
}

/// The title's content words (no units, numbers or function words).
fn title_words(title: &str) -> Vec<String> {
    words(title)
        .into_iter()
        .filter(|w| !COMMON.contains(&w.as_str()) && !w.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The brand: the title's first word when it is capitalised and at least
/// three letters long (marketplace titles start with it).
fn brand(title: &str) -> Option<&str> {
    let first = title
        .split_whitespace()
        .next()?
        .trim_matches(|c: char| !c.is_alphanumeric());
    let capital = first.chars().next().is_some_and(char::is_uppercase);
    (capital && first.chars().count() >= 3).then_some(first)
}

/// Whether a phrase names the product: the brand (as written in the title)
/// or two of the title's content words.
fn names_product(phrase: &str, title: &str) -> bool {
    if brand(title).is_some_and(|b| phrase.split(|c: char| !c.is_alphanumeric()).any(|w| w == b)) {
        return true;
    }
    let title_words = title_words(title);
    let shared = words(phrase)
        .iter()
        .filter(|w| title_words.contains(w))
        .count();
    shared >= 2
}

/// The rule a plan breaks, if any: it lacks a setting, a surface or the
/// light ([`RejectReason::Incomplete`]), or a slot other than the props
/// names the product ([`RejectReason::DescribesProduct`]; props naming it
/// are dropped by [`assemble`] instead).
pub fn check_plan(plan: &ScenePlan, title: &str) -> Option<RejectReason> {
    if plan.setting.is_none() || plan.surface.is_none() || plan.lighting.is_none() {
        return Some(RejectReason::Incomplete);
    }
    let slots = [&plan.setting, &plan.surface, &plan.lighting, &plan.mood];
    if slots
        .iter()
        .filter_map(|s| s.as_deref())
        .any(|s| names_product(s, title))
    {
        return Some(RejectReason::DescribesProduct);
    }
    None
}

/// Words too common to say that a prop is the product itself.
const COMMON: [&str; 16] = [
    "a", "an", "the", "of", "and", "with", "for", "in", "on", "to", "ml", "g", "kg", "pack", "set",
    "x",
];

/// The props without the items that name the product (two or more title
/// words): a prop is something *around* the product. The title's own
/// [`cue_props`] (its ingredients: "fresh aloe vera leaves" for an aloe
/// vera gel) stay.
fn props_without_product(props: &str, title: &str) -> Option<String> {
    let cues = cue_props(title);
    let items: Vec<&str> = props
        .split([',', ';'])
        .flat_map(|part| part.split(" and "))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .filter(|item| cues.contains(item) || !names_product(item, title))
        .collect();
    match items.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

const PREPOSITIONS: [&str; 8] = ["in", "at", "on", "by", "under", "inside", "near", "beside"];

/// The plan as one background prompt, e.g. "a rustic wooden table in a
/// sunlit kitchen, with coffee beans, soft morning sunlight, warm mood".
/// Props that name the product are left out. Empty when nothing usable.
pub fn assemble(plan: &ScenePlan, title: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    match (&plan.surface, &plan.setting) {
        (Some(surface), Some(setting)) => {
            let first = words(setting).into_iter().next().unwrap_or_default();
            if PREPOSITIONS.contains(&first.as_str()) {
                parts.push(format!("{surface} {setting}"));
            } else {
                parts.push(format!("{surface} in {setting}"));
            }
        }
        (Some(one), None) | (None, Some(one)) => parts.push(one.clone()),
        (None, None) => {}
    }
    if let Some(props) = plan
        .props
        .as_deref()
        .and_then(|p| props_without_product(p, title))
    {
        parts.push(format!("with {props}"));
    }
    if let Some(lighting) = &plan.lighting {
        parts.push(lighting.clone());
    }
    if let Some(mood) = &plan.mood {
        let lower = mood.to_lowercase();
        if lower.ends_with("mood") || lower.ends_with("atmosphere") {
            parts.push(mood.clone());
        } else {
            parts.push(format!("{mood} mood"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::prompt_model::scene_examples::SCENE_EXAMPLES;

    #[test]
    fn parses_slots_with_synonyms_and_cleans_phrases() {
        let raw = "Setting: a luxury spa (optional)\nSurface: a glass shelf or a bathtub\n\
                   Props: \"eucalyptus leaves\" and towels\nLight: soft window light.\nMood: calm";
        let plan = parse_plan(raw).expect("a plan");
        assert_eq!(plan.setting.as_deref(), Some("a luxury spa"));
        assert_eq!(plan.surface.as_deref(), Some("a glass shelf"));
        assert_eq!(plan.props.as_deref(), Some("eucalyptus leaves and towels"));
        assert_eq!(plan.lighting.as_deref(), Some("soft window light"));
        assert_eq!(plan.mood.as_deref(), Some("calm"));
        assert_eq!(parse_plan("a wooden table in a kitchen"), None);
    }

    #[test]
    fn assembles_a_prompt_and_drops_props_naming_the_product() {
        let plan = ScenePlan {
            setting: Some("a grocery store".into()),
            surface: Some("a steel counter".into()),
            props: Some("a blender, a bag of soy milk powder and a spoon".into()),
            lighting: Some("bright daylight".into()),
            mood: Some("healthy".into()),
        };
        let text = assemble(&plan, "Instant Soy Milk Powder 800g");
        assert_eq!(
            text,
            "a steel counter in a grocery store, with a blender and a spoon, bright daylight, healthy mood"
        );
        let at = ScenePlan {
            setting: Some("at a beach bar".into()),
            surface: Some("a driftwood plank".into()),
            ..ScenePlan::default()
        };
        assert_eq!(
            assemble(&at, "Sunscreen"),
            "a driftwood plank at a beach bar"
        );
        assert_eq!(assemble(&ScenePlan::default(), "x"), "");
    }

    #[test]
    fn the_titles_own_ingredient_props_are_kept() {
        let plan = ScenePlan {
            setting: Some("a sunlit bathroom".into()),
            surface: Some("a white marble countertop".into()),
            props: Some("fresh aloe vera leaves".into()),
            lighting: Some("soft morning light".into()),
            mood: None,
        };
        let title = "Shower Gel Aloe Vera & Cucumber 500ml";
        assert_eq!(
            assemble(&plan, title),
            "a white marble countertop in a sunlit bathroom, with fresh aloe vera leaves, soft morning light"
        );
        let other = ScenePlan {
            props: Some("aloe vera gel".into()),
            ..plan
        };
        assert!(!assemble(&other, title).contains("with"));
    }

    #[test]
    fn plans_naming_the_product_or_missing_slots_are_refused() {
        let title = "Glen Corrie 12 Year Old Single Malt Scotch Whisky 70cl";
        let mut plan = ScenePlan {
            setting: Some("a Scottish distillery".into()),
            surface: Some("an oak whisky barrel".into()),
            props: Some("a tumbler and a bottle of Glen Corrie".into()),
            lighting: Some("warm firelight".into()),
            mood: None,
        };
        assert_eq!(check_plan(&plan, title), None);
        assert_eq!(
            assemble(&plan, title),
            "an oak whisky barrel in a Scottish distillery, with a tumbler, warm firelight"
        );
        plan.surface = Some("a Glen estate table".into());
        assert_eq!(
            check_plan(&plan, title),
            Some(RejectReason::DescribesProduct)
        );
        plan.surface = Some("a single malt scotch display".into());
        assert_eq!(
            check_plan(&plan, title),
            Some(RejectReason::DescribesProduct)
        );
        plan.surface = None;
        assert_eq!(check_plan(&plan, title), Some(RejectReason::Incomplete));
    }

    #[test]
    fn cut_phrases_lose_their_dangling_words() {
        assert_eq!(
            clean_phrase("a glass of water on a small table with a and the"),
            Some("a glass of water on a small table".into())
        );
        assert_eq!(clean_phrase(" . "), None);
    }

    #[test]
    fn completion_is_five_lines_or_a_blank_line() {
        assert!(!plan_complete("Setting: a\nSurface: b\n"));
        assert!(plan_complete(
            "Setting: a\nSurface: b\nProps: c\nLighting: d\nMood: e\n"
        ));
        assert!(plan_complete("Setting: a\n\nSomething else"));
    }

    #[test]
    fn example_answers_round_trip_through_the_parser() {
        for example in SCENE_EXAMPLES {
            let plan = parse_plan(&example_answer(&example)).expect("a plan");
            assert_eq!(plan.setting.as_deref(), Some(example.plan[0]));
            assert_eq!(plan.mood.as_deref(), Some(example.plan[4]));
        }
        let messages = plan_messages("Sesame oil", &[&SCENE_EXAMPLES[0]]);
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[3].content, "Product: Sesame oil");
    }
}
