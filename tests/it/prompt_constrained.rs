//! Constrained decoding through the real decoders of the tiny random
//! models (`qwen2_tiny`, `llava_tiny`) with a byte-level tokenizer: every
//! answer is a five-line scene plan whose phrases come from the grammar,
//! the surface and props from the chosen setting's own lists, and the row
//! ends after the mood line. The same seeds without the constraint do not
//! give plans (the models are random).

use crate::common::{fixtures, words};

use std::collections::HashMap;

use adstudio::ml::prompt_model::scene_grammar::{SceneChoices, SceneGrammar, SceneOption};
use adstudio::ml::prompt_model::{
    preprocess_image, ChatMessage, ChatModel, ChatTemplate, Decoder, DecoderConfig, Generation,
    MultimodalPromptModel, PromptModel, Role, RowFlow, SamplingParams, StopReason, TextTokenizer,
    TokenConstraint,
};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;

fn choices() -> SceneChoices {
    let option = |setting: &str, surfaces: &[&str], props: &[&str]| SceneOption {
        setting: setting.into(),
        surfaces: surfaces.iter().map(|s| s.to_string()).collect(),
        props: props.iter().map(|s| s.to_string()).collect(),
    };
    SceneChoices {
        options: vec![
            option("a den", &["a rug", "a mat"], &["two cups", "a lamp"]),
            option("a bay", &["a rock"], &["shells"]),
        ],
        lights: vec!["dim light".into(), "sun".into()],
        moods: vec!["calm".into(), "warm".into()],
    }
}

/// Whether `text` is a plan the grammar of [`choices`] allows.
fn is_plan(text: &str, choices: &SceneChoices) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().collect();
    let keys = ["Scene", "Stands on", "Around it", "Light", "Mood"];
    if lines.len() != 5 || !text.ends_with('\n') {
        return Err(format!("not five lines: {text:?}"));
    }
    let mut values = Vec::new();
    for (line, key) in lines.iter().zip(keys) {
        let value = line
            .strip_prefix(&format!("{key}: "))
            .ok_or_else(|| format!("line {line:?} is not {key}"))?;
        values.push(value);
    }
    let option = choices
        .options
        .iter()
        .find(|o| o.setting == values[0])
        .ok_or_else(|| format!("unknown setting {:?}", values[0]))?;
    let ok = option.surfaces.iter().any(|s| s == values[1])
        && option.props.iter().any(|p| p == values[2])
        && choices.lights.iter().any(|l| l == values[3])
        && choices.moods.iter().any(|m| m == values[4]);
    ok.then_some(())
        .ok_or_else(|| format!("a phrase outside the grammar: {values:?}"))
}

fn qwen2_tiny() -> PromptModel {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let cfg = DecoderConfig::from_file(&dir.join("config.json")).expect("config");
    let weights = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .expect("weights");
    let vb = VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
    let decoder = Decoder::new(&cfg, vb).expect("decoder");
    let tokenizer =
        TextTokenizer::from_tokenizer(words::byte_tokenizer(false), None, false, vec![]);
    PromptModel::from_parts(decoder, tokenizer, ChatTemplate::ChatMl)
}

fn params() -> SamplingParams {
    SamplingParams {
        temperature: 1.0,
        top_p: None,
        seed: 3,
        max_new_tokens: 120,
        repeat_penalty: 1.0,
        repeat_last_n: 0,
    }
}

fn run(
    model: &mut dyn ChatModel,
    rows: usize,
    constraint: Option<&mut dyn TokenConstraint>,
) -> Vec<Generation> {
    let messages = [ChatMessage::new(Role::User, "mug")];
    let mut streamed: HashMap<usize, String> = HashMap::new();
    let out = model
        .chat_batch(&messages, &params(), rows, constraint, &mut |row, piece| {
            streamed.entry(row).or_default().push_str(piece);
            RowFlow::Continue
        })
        .expect("generation");
    // The streamed pieces are the answer (a trailing partial UTF-8
    // character is never streamed).
    for (row, g) in out.iter().enumerate() {
        let piece = streamed.get(&row).map(String::as_str).unwrap_or("");
        assert_eq!(piece, g.text.trim_end_matches('\u{FFFD}'));
    }
    out
}

fn check_constrained(model: &mut dyn ChatModel, rows: usize) {
    let choices = choices();
    let grammar = SceneGrammar::new(model.text_tokenizer(), &choices)
        .expect("grammar")
        .expect("a byte-level tokenizer writes every phrase");
    let mut constraint = grammar.constraint();
    let out = run(model, rows, Some(&mut constraint));
    assert_eq!(out.len(), rows);
    let mut settings = std::collections::BTreeSet::new();
    for g in &out {
        is_plan(&g.text, &choices).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.stop, StopReason::EndOfText, "{g:?}");
        settings.insert(g.text.lines().next().map(str::to_string));
    }
    assert!(
        settings.len() > 1,
        "every row chose the same setting: {settings:?}"
    );
    let free = run(model, rows, None);
    assert!(
        free.iter().all(|g| is_plan(&g.text, &choices).is_err()),
        "the random model wrote a plan without the constraint"
    );
}

#[test]
fn qwen2_tiny_batched_answers_follow_the_scene_grammar() {
    let mut model = qwen2_tiny();
    check_constrained(&mut model, 8);
}

#[test]
fn llava_tiny_answers_follow_the_scene_grammar() {
    let (_, _, llava) = fixtures::llava_tiny();
    let tokenizer = TextTokenizer::from_tokenizer(words::byte_tokenizer(true), None, false, vec![]);
    let mut model =
        MultimodalPromptModel::from_parts(llava, tokenizer, ChatTemplate::ChatMl).expect("model");
    let img = image::RgbaImage::from_pixel(20, 20, image::Rgba([200, 30, 30, 255]));
    let pixels = preprocess_image(&img, 32, &Device::Cpu).expect("pixels");
    let mut chat = model.with_image(pixels);
    check_constrained(&mut chat, 4);
}

/// A tokenizer that cannot write the phrases (word-level, unknown words)
/// gives no grammar: the pipeline then plans in free text.
#[test]
fn a_tokenizer_that_cannot_write_the_phrases_gives_no_grammar() {
    let tokenizer = TextTokenizer::from_tokenizer(words::tokenizer(), None, false, vec![]);
    let grammar = SceneGrammar::new(&tokenizer, &choices()).expect("grammar");
    assert!(grammar.is_none());
}
