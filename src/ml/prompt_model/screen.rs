//! Screening of candidate background suggestions: each rule that a
//! designer would apply when reading one, as a named [`RejectReason`].
//!
//! The rules look only at the text (no model): word count, script and
//! English function words, meta-text about images, answers or the request,
//! an echo of the instruction and its measured facts (word trigram
//! overlap), a copy of the title, URLs, e-mail addresses, hashtags, copies
//! of the worked examples and near-duplicates of suggestions already kept.

use std::collections::HashSet;
use std::fmt;

/// Fewest words a usable background description has.
pub const MIN_WORDS: usize = 6;
/// Most words a usable background description has (CLIP reads 77 tokens).
pub const MAX_WORDS: usize = 40;

/// Why a candidate suggestion is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// Fewer than [`MIN_WORDS`] words.
    TooShort,
    /// More than [`MAX_WORDS`] words.
    TooLong,
    /// Not English (another script, or no English function word).
    NotEnglish,
    /// Talks about the image, the answer or the request instead of
    /// describing a scene.
    MetaText,
    /// Repeats the instruction or the facts it gave.
    EchoOfInstruction,
    /// Repeats the product title.
    CopyOfTitle,
    /// Repeats one of the worked examples.
    CopyOfExample,
    /// Contains a web address.
    Url,
    /// Contains an e-mail address.
    Email,
    /// Contains a hashtag.
    Hashtag,
    /// Says nearly the same as a suggestion already kept.
    Duplicate,
    /// A scene plan without a setting, a surface or the light (or cut off).
    Incomplete,
    /// The setting, surface, light or mood names the product (its brand or
    /// two of its title words): a background must not describe the product.
    DescribesProduct,
}

impl RejectReason {
    /// Every reason, in the order the rules are applied.
    pub const ALL: [RejectReason; 13] = [
        RejectReason::Incomplete,
        RejectReason::DescribesProduct,
        RejectReason::TooShort,
        RejectReason::TooLong,
        RejectReason::Email,
        RejectReason::Url,
        RejectReason::Hashtag,
        RejectReason::NotEnglish,
        RejectReason::MetaText,
        RejectReason::EchoOfInstruction,
        RejectReason::CopyOfTitle,
        RejectReason::CopyOfExample,
        RejectReason::Duplicate,
    ];

    /// A short name for tables and logs.
    pub fn name(&self) -> &'static str {
        match self {
            RejectReason::TooShort => "too short",
            RejectReason::TooLong => "too long",
            RejectReason::NotEnglish => "not English",
            RejectReason::MetaText => "meta-text",
            RejectReason::EchoOfInstruction => "echo of the instruction",
            RejectReason::CopyOfTitle => "copy of the title",
            RejectReason::CopyOfExample => "copy of a worked example",
            RejectReason::Url => "URL",
            RejectReason::Email => "e-mail address",
            RejectReason::Hashtag => "hashtag",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Incomplete => "incomplete scene",
            RejectReason::DescribesProduct => "describes the product",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a candidate is screened against.
#[derive(Debug, Clone, Default)]
pub struct ScreenContext<'a> {
    /// The product title as the model was given it.
    pub title: &'a str,
    /// The instruction text (with its facts sentence), for echo detection.
    pub instruction: &'a str,
    /// Answers of the worked examples shown to the model.
    pub examples: &'a [&'a str],
    /// Suggestions already kept.
    pub kept: &'a [String],
}

/// Lower-case words of `text` (letters, digits and apostrophes).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Jaccard similarity of the word sets of two texts (1 for two empty ones).
pub fn word_jaccard(a: &str, b: &str) -> f64 {
    let a: HashSet<String> = words(a).into_iter().collect();
    let b: HashSet<String> = words(b).into_iter().collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// The first rule `text` breaks, or `None` when it is usable.
pub fn screen(text: &str, ctx: &ScreenContext<'_>) -> Option<RejectReason> {
    let w = words(text);
    if w.len() < MIN_WORDS {
        return Some(RejectReason::TooShort);
    }
    if w.len() > MAX_WORDS {
        return Some(RejectReason::TooLong);
    }
    if has_email(text) {
        return Some(RejectReason::Email);
    }
    if has_url(&text.to_lowercase()) {
        return Some(RejectReason::Url);
    }
    if text.split_whitespace().any(is_hashtag) {
        return Some(RejectReason::Hashtag);
    }
    if !looks_english(text, &w) {
        return Some(RejectReason::NotEnglish);
    }
    if is_meta(&w) {
        return Some(RejectReason::MetaText);
    }
    screen_against(text, &w, ctx)
}

/// The rules that compare the candidate with the request and the kept ones.
fn screen_against(text: &str, w: &[String], ctx: &ScreenContext<'_>) -> Option<RejectReason> {
    if echoes(w, &words(ctx.instruction), ctx.title) {
        return Some(RejectReason::EchoOfInstruction);
    }
    if copies_title(w, &words(ctx.title)) {
        return Some(RejectReason::CopyOfTitle);
    }
    if ctx.examples.iter().any(|e| word_jaccard(text, e) > 0.6) {
        return Some(RejectReason::CopyOfExample);
    }
    if ctx.kept.iter().any(|k| word_jaccard(text, k) > 0.7) {
        return Some(RejectReason::Duplicate);
    }
    None
}

fn has_url(lower: &str) -> bool {
    const MARKS: [&str; 7] = [
        "http://", "https://", "www.", ".com", ".net", ".org", ".html",
    ];
    MARKS.iter().any(|m| lower.contains(m))
}

fn has_email(text: &str) -> bool {
    text.split_whitespace().any(|token| {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        match token.split_once('@') {
            Some((user, domain)) => !user.is_empty() && domain.contains('.'),
            None => false,
        }
    })
}

fn is_hashtag(token: &str) -> bool {
    token
        .strip_prefix('#')
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// English function words: a background description of six or more words
/// has at least one of them.
const FUNCTION_WORDS: [&str; 24] = [
    "a", "an", "the", "on", "in", "with", "and", "of", "at", "by", "under", "near", "against",
    "beside", "from", "over", "behind", "into", "soft", "light", "warm", "table", "for", "its",
];

fn looks_english(text: &str, w: &[String]) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    let latin = letters.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if (latin as f64) < 0.95 * letters.len() as f64 {
        return false;
    }
    w.iter().any(|word| FUNCTION_WORDS.contains(&word.as_str()))
}

/// Word sequences that talk about the picture, the answer or the request.
const META_PHRASES: [&str; 30] = [
    "the image",
    "this image",
    "an image of",
    "the picture",
    "this picture",
    "the photo above",
    "image above",
    "picture above",
    "shown above",
    "the answer",
    "answer is",
    "i am",
    "i'm",
    "i think",
    "i would",
    "i can",
    "sorry",
    "as an ai",
    "here is",
    "here's",
    "you are",
    "you can",
    "your request",
    "the request",
    "the prompt",
    "stable diffusion",
    "the product",
    "this product",
    "the user",
    "let me",
];

/// Single words that only meta-text uses.
const META_WORDS: [&str; 8] = [
    "instagram",
    "youtube",
    "tiktok",
    "facebook",
    "prompt",
    "assistant",
    "chatbot",
    "answer",
];

fn is_meta(w: &[String]) -> bool {
    let joined = format!(" {} ", w.join(" "));
    META_PHRASES
        .iter()
        .any(|p| joined.contains(&format!(" {p} ")))
        || w.iter().any(|word| META_WORDS.contains(&word.as_str()))
}

fn trigrams(w: &[String]) -> HashSet<[&str; 3]> {
    w.windows(3)
        .map(|t| [t[0].as_str(), t[1].as_str(), t[2].as_str()])
        .collect()
}

/// Whether the candidate repeats the instruction (with its facts): a third
/// of its word trigrams appear there, or it repeats the facts' wording. The
/// title's own trigrams do not count (a scene may name the product).
fn echoes(w: &[String], instruction: &[String], title: &str) -> bool {
    let own = trigrams(w);
    if own.is_empty() {
        return false;
    }
    let title_words = words(title);
    let title_grams = trigrams(&title_words);
    let told: HashSet<[&str; 3]> = trigrams(instruction)
        .into_iter()
        .filter(|g| !title_grams.contains(g))
        .collect();
    let shared = own.iter().filter(|g| told.contains(*g)).count();
    let joined = w.join(" ");
    let facts_wording = [
        "main colours are",
        "medium tones",
        "light tones",
        "dark tones",
    ]
    .iter()
    .any(|f| joined.contains(f));
    facts_wording || shared * 3 >= own.len()
}

/// Whether the candidate is mostly the title: four title words in a row, or
/// at least 70% of its words taken from the title.
fn copies_title(w: &[String], title: &[String]) -> bool {
    if title.is_empty() {
        return false;
    }
    let title_set: HashSet<&str> = title.iter().map(String::as_str).collect();
    let from_title = w.iter().filter(|x| title_set.contains(x.as_str())).count();
    if from_title * 10 >= w.len() * 7 {
        return true;
    }
    title.len() >= 4 && w.windows(4).any(|run| title.windows(4).any(|t| t == run))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "Lumora Hydrating Shower Gel Aloe Vera Cucumber Fresh Scent";
    const INSTRUCTION: &str =
        "Product: Lumora Hydrating Shower Gel Aloe Vera Cucumber Fresh Scent. \
        Its main colours are green, white; it is tall; it has light tones. Write a concise Stable \
        Diffusion prompt for an appealing ad background for this product.";

    fn ctx<'a>(kept: &'a [String]) -> ScreenContext<'a> {
        ScreenContext {
            title: TITLE,
            instruction: INSTRUCTION,
            examples: &["rustic wooden table in a sunlit kitchen, steam and coffee beans, soft morning light"],
            kept,
        }
    }

    fn reason(text: &str) -> Option<RejectReason> {
        screen(text, &ctx(&[]))
    }

    #[test]
    fn a_concrete_scene_passes() {
        for good in [
            "wet slate tiles in a bright spa bathroom with eucalyptus leaves and soft morning light",
            "white marble shelf beside a rain shower, green plants and warm steam",
            "bamboo tray on a pale stone basin, cucumber slices and water drops, fresh airy mood",
        ] {
            assert_eq!(reason(good), None, "{good}");
        }
    }

    #[test]
    fn each_rule_names_its_reason() {
        let cases = [
            ("spa bathroom", RejectReason::TooShort),
            (
                &"a quiet spa bathroom with wet tiles and soft light ".repeat(5)[..],
                RejectReason::TooLong,
            ),
            (
                "find more spa scenes at www.example.com with soft light today",
                RejectReason::Url,
            ),
            (
                "Chat: sandi@example.org for a spa bathroom with soft light",
                RejectReason::Email,
            ),
            (
                "a spa bathroom with soft light #selfcare #skincare today",
                RejectReason::Hashtag,
            ),
            (
                "浴室 背景 柔和 灯光 绿色 植物 清新 氛围",
                RejectReason::NotEnglish,
            ),
            (
                "baño de spa con azulejos mojados y luz suave por la mañana",
                RejectReason::NotEnglish,
            ),
            (
                "The image above is a shot from a video on Instagram of a bathroom",
                RejectReason::MetaText,
            ),
            (
                "I am not sure what you are looking for in a bathroom scene",
                RejectReason::MetaText,
            ),
            (
                "its main colours are green, white and it has light tones on a shelf",
                RejectReason::EchoOfInstruction,
            ),
            (
                "write a concise stable diffusion prompt for an appealing ad background",
                RejectReason::MetaText,
            ),
            (
                "Lumora Hydrating Shower Gel with Aloe Vera and Cucumber Fresh Scent",
                RejectReason::CopyOfTitle,
            ),
            (
                "rustic wooden table in a sunlit kitchen with coffee beans and soft morning light",
                RejectReason::CopyOfExample,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(reason(text), Some(expected.clone()), "{text}");
        }
    }

    #[test]
    fn the_instruction_echo_rule_sees_trigrams_not_single_words() {
        let instruction = "Describe an attractive backdrop that fits the product in one line";
        let ctx = ScreenContext {
            title: "Walnut bedside cabinet",
            instruction,
            ..ScreenContext::default()
        };
        assert_eq!(
            screen(
                "an attractive backdrop that fits the walnut cabinet well",
                &ctx
            ),
            Some(RejectReason::EchoOfInstruction)
        );
        assert_eq!(
            screen(
                "a cosy bedroom with linen sheets and an attractive warm lamp",
                &ctx
            ),
            None
        );
    }

    #[test]
    fn near_duplicates_of_kept_ones_are_refused() {
        let kept = vec!["wet slate tiles in a bright spa bathroom with soft light".to_string()];
        assert_eq!(
            screen(
                "wet slate tiles in a bright spa bathroom, soft light",
                &ctx(&kept)
            ),
            Some(RejectReason::Duplicate)
        );
        assert_eq!(
            screen(
                "sunny beach towel on warm sand with sea foam and a straw hat",
                &ctx(&kept)
            ),
            None
        );
        assert_eq!(RejectReason::ALL.len(), 13);
        assert_eq!(RejectReason::Url.to_string(), "URL");
    }
}
