//! When the suggestion pipeline writes a second round of candidates: a
//! scripted chat model (scene plans chosen by seed) and a word-spotting
//! relevance model, so each case is known in advance.

use crate::common::words;

use std::ops::ControlFlow;

use adstudio::ml::prompt_model::constraint::TokenConstraint;
use adstudio::ml::prompt_model::generate::{Generation, StopReason};
use adstudio::ml::prompt_model::matching::MATCH_THRESHOLD;
use adstudio::ml::prompt_model::{
    suggest_backgrounds, ChatMessage, ChatModel, PromptModelError, RowFlow, SamplingParams,
    SuggestEvent, SuggestMode, SuggestReport, SuggestRequest, TextEmbedder, TextTokenizer,
};

/// Words that vary from plan to plan (24 each), so that no two plans are
/// near-duplicates.
const ADJECTIVES: [&str; 24] = [
    "sunny", "quiet", "rustic", "airy", "cosy", "bright", "old", "tidy", "wide", "narrow",
    "breezy", "shaded", "humble", "grand", "snug", "lofty", "dim", "warm", "cool", "open",
    "hidden", "lively", "calm", "misty",
];
const MATERIALS: [&str; 24] = [
    "oak",
    "slate",
    "marble",
    "birch",
    "walnut",
    "teak",
    "granite",
    "cedar",
    "maple",
    "pine",
    "basalt",
    "copper",
    "terrazzo",
    "ash",
    "cherry",
    "elm",
    "quartz",
    "bamboo",
    "zinc",
    "limestone",
    "travertine",
    "beech",
    "sandstone",
    "onyx",
];
const PROPS: [&str; 24] = [
    "copper pans",
    "linen napkins",
    "sprigs of thyme",
    "wicker baskets",
    "ceramic jars",
    "folded aprons",
    "wooden spoons",
    "glass bottles",
    "lemon halves",
    "stacked plates",
    "dried flowers",
    "brass kettles",
    "garlic bulbs",
    "fresh figs",
    "rye loaves",
    "olive branches",
    "tin cups",
    "paper bags",
    "ripe pears",
    "chili peppers",
    "clay pots",
    "cork mats",
    "sea shells",
    "pine cones",
];
const LIGHTS: [&str; 24] = [
    "golden hour",
    "overcast",
    "morning",
    "noon",
    "dusk",
    "candle",
    "lamp",
    "window",
    "backlit",
    "dappled",
    "studio",
    "evening",
    "sunset",
    "dawn",
    "moonlit",
    "hazy",
    "crisp",
    "diffused",
    "rim",
    "amber",
    "silver",
    "rosy",
    "pale",
    "twilight",
];

/// Writes scene plans: about a kitchen from seed `kitchen_from` on, about
/// a granite ridge before it (a different plan per seed, except below
/// `repeat_until`).
struct ScriptedModel {
    tokenizer: TextTokenizer,
    kitchen_from: u64,
    /// Seeds below this all write the plan of seed 0.
    repeat_until: u64,
    /// Plans leave out their setting and surface (rejected as incomplete).
    incomplete: bool,
}

impl ScriptedModel {
    fn new(kitchen_from: u64) -> Self {
        Self {
            tokenizer: TextTokenizer::from_tokenizer(
                words::byte_tokenizer(false),
                None,
                false,
                vec![],
            ),
            kitchen_from,
            repeat_until: 0,
            incomplete: false,
        }
    }

    fn plan(&self, seed: u64) -> String {
        let seed = if seed < self.repeat_until { 0 } else { seed };
        let i = seed as usize % 24;
        let place = if seed >= self.kitchen_from {
            "kitchen"
        } else {
            "ridge"
        };
        let (props, light) = (PROPS[i], LIGHTS[i]);
        if self.incomplete {
            return format!("Props: {props}\nLighting: {light} light\nMood: calm");
        }
        format!(
            "Setting: a {} {place}\nSurface: a {} ledge\nProps: {props}\nLighting: {light} light\nMood: calm",
            ADJECTIVES[i], MATERIALS[i]
        )
    }
}

impl ChatModel for ScriptedModel {
    fn chat(
        &mut self,
        _messages: &[ChatMessage],
        params: &SamplingParams,
        _on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> adstudio::ml::prompt_model::Result<Generation> {
        Ok(generation(self.plan(params.seed)))
    }

    fn text_tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    fn chat_batch(
        &mut self,
        _messages: &[ChatMessage],
        params: &SamplingParams,
        rows: usize,
        _constraint: Option<&mut dyn TokenConstraint>,
        on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
    ) -> adstudio::ml::prompt_model::Result<Vec<Generation>> {
        let mut out = Vec::new();
        for row in 0..rows {
            let text = self.plan(params.seed + row as u64);
            if on_token(row, &text) == RowFlow::Cancel {
                return Err(PromptModelError::Cancelled);
            }
            out.push(generation(text));
        }
        Ok(out)
    }
}

fn generation(text: String) -> Generation {
    Generation {
        token_ids: Vec::new(),
        text,
        stop: StopReason::EndOfText,
        prompt_tokens: 0,
        prompt_time: Default::default(),
        generation_time: Default::default(),
    }
}

/// Relevance by spotting words: "kitchen" and "ridge" are orthogonal
/// directions, and every text has a small common part.
struct WordSpotter;

impl TextEmbedder for WordSpotter {
    fn embed_texts(&self, texts: &[&str]) -> adstudio::ml::prompt_model::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let v = [
                    f32::from(u8::from(t.contains("kitchen"))),
                    f32::from(u8::from(t.contains("ridge"))),
                    0.1,
                ];
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect())
    }
}

/// Suggestions for a bottle of olive oil ranked against "kitchen", with
/// the number of rounds written.
fn suggest(model: &mut ScriptedModel, ranked: bool) -> (SuggestReport, usize) {
    let mut req = SuggestRequest::new(
        "Olivgrove Extra Virgin Olive Oil 750ml Cold Pressed First Harvest Glass Bottle",
    );
    req.mode = SuggestMode::FreePlan;
    req.relevance_target = Some("kitchen".to_string());
    let counter = model.text_tokenizer().clone();
    let mut rounds = 0;
    let embedder = WordSpotter;
    let report = suggest_backgrounds(
        model,
        &req,
        &counter,
        ranked.then_some(&embedder as &dyn TextEmbedder),
        &mut |event| {
            if let SuggestEvent::Round { .. } = event {
                rounds += 1;
            }
            ControlFlow::Continue(())
        },
    )
    .expect("suggestions");
    (report, rounds)
}

fn passed(report: &SuggestReport) -> usize {
    report
        .candidates
        .iter()
        .filter(|c| c.rejected.is_none())
        .count()
}

/// One of the first round's 12 plans matches the product: a second round
/// of 8 (2 per suggestion) is written, and the 4 suggestions all match.
#[test]
fn a_second_round_is_written_when_too_few_match() {
    let mut model = ScriptedModel::new(11);
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 2);
    assert_eq!(report.candidates.len(), 20);
    assert_eq!(passed(&report), 20, "{:#?}", report.candidates);
    assert_eq!(report.suggestions.len(), 4);
    for s in &report.suggestions {
        assert!(s.rejected.is_none());
        assert!(s.text.contains("kitchen"), "{}", s.text);
        assert!(s.relevance.expect("ranked") >= MATCH_THRESHOLD);
    }
}

/// Three of the first round's plans match: still too few, so a second
/// round; the picks are the three and one of the second round's.
#[test]
fn three_matching_of_four_still_asks_for_more() {
    let mut model = ScriptedModel::new(9);
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 2);
    let matching = report
        .suggestions
        .iter()
        .filter(|s| s.relevance.expect("ranked") >= MATCH_THRESHOLD)
        .count();
    assert_eq!(matching, 4);
}

/// Four matching plans in the first round: no second round.
#[test]
fn one_round_when_enough_match() {
    let mut model = ScriptedModel::new(8);
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 1);
    assert_eq!(report.candidates.len(), 12);
    assert!(report
        .suggestions
        .iter()
        .all(|s| s.text.contains("kitchen")));
}

/// Without a relevance model, passing the rules is enough: one round.
#[test]
fn without_a_relevance_model_passing_is_enough() {
    let mut model = ScriptedModel::new(u64::MAX);
    let (report, rounds) = suggest(&mut model, false);
    assert_eq!(rounds, 1);
    assert_eq!(report.suggestions.len(), 4);
    assert!(report.suggestions.iter().all(|s| s.relevance.is_none()));
}

/// None of the first round's plans matches (the shortlist has nothing
/// that fits): no second round; the suggestions are the passing plans,
/// unmarked, below the threshold.
#[test]
fn no_second_round_when_nothing_matches() {
    let mut model = ScriptedModel::new(u64::MAX);
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 1);
    assert_eq!(report.candidates.len(), 12);
    assert_eq!(report.suggestions.len(), 4);
    for s in &report.suggestions {
        assert!(s.rejected.is_none());
        assert!(s.relevance.expect("ranked") < MATCH_THRESHOLD);
    }
}

/// Too few pass the rules (every plan of the first round repeats one
/// scene): a second round, with or without matches.
#[test]
fn a_second_round_is_written_when_too_few_pass() {
    let mut model = ScriptedModel::new(u64::MAX);
    model.repeat_until = 12;
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 2);
    assert_eq!(report.candidates.len(), 20);
    assert_eq!(passed(&report), 9);
    assert_eq!(report.suggestions.len(), 4);
}

/// Nothing passes the rules, and the first round's 12 plans are one and
/// the same: the suggestions are the best rejected ones, marked, each
/// with another text (a pair for online PCPO needs two distinct ones).
#[test]
fn the_best_rejected_ones_are_distinct() {
    let mut model = ScriptedModel::new(u64::MAX);
    model.repeat_until = 12;
    model.incomplete = true;
    let (report, rounds) = suggest(&mut model, true);
    assert_eq!(rounds, 2);
    assert_eq!(passed(&report), 0);
    let texts: Vec<&str> = report.suggestions.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts.len(), 4);
    for (i, text) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(text), "{texts:?}");
    }
    assert!(report.suggestions.iter().all(|s| s.rejected.is_some()));
}
