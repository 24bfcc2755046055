//! The suggestion pipeline with the real SmolLM2-135M-Instruct and the real
//! all-MiniLM-L6-v2 (`ADSTUDIO_SMOLLM2_GGUF`, `ADSTUDIO_MINILM`), against
//! the raw model on the same titles.

use crate::common::models;

use std::ops::ControlFlow;

use adstudio::ml::prompt_model::screen::{screen, ScreenContext};
use adstudio::ml::prompt_model::{
    prompt_title, suggest_backgrounds, LoadOptions, PromptModel, PromptModelError, SuggestMode,
    SuggestReport, SuggestRequest,
};
use adstudio::ml::relevance::RelevanceModel;
use candle_core::Device;

/// The tests load both models and use every core: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Five titles of `tests/fixtures/titles/titles.tsv`'s tune split, each of
/// another category.
const TITLES: [&str; 5] = [
    "Velmira Rich Hand Cream Shea Butter & Almond Oil 75ml Intensive Repair for Very Dry Cracked Hands Non-Greasy Fast Absorbing Travel Size",
    "Goldmere Toasted Sesame Oil 500ml Cold Pressed Pure Aromatic Cooking Oil for Stir Fry Dressing Asian Cuisine Glass Bottle",
    "Glen Corrie 12 Year Old Single Malt Scotch Whisky 70cl 40% ABV Highland Oak Cask Matured Gift Tube Fathers Day Present",
    "Oakhurst Solid Walnut Bedside Cabinet with 2 Drawers Mid Century Modern Nightstand Bedroom Storage Assembled W45 x D40 x H55cm",
    "Cuddlepaw Plush Teddy Bear 40cm Soft Stuffed Animal Brown Cuddly Toy Gift for Kids Babies Girls Boys Valentines Birthday Christmas 毛绒玩具 泰迪熊",
];

fn run(
    model: &mut PromptModel,
    ranker: &RelevanceModel,
    title: &str,
    mode: SuggestMode,
) -> SuggestReport {
    let counter = model.tokenizer().clone();
    let mut req = SuggestRequest::new(title);
    req.mode = mode;
    req.sampling.seed = 7;
    suggest_backgrounds(model, &req, &counter, Some(ranker), &mut |_| {
        ControlFlow::Continue(())
    })
    .expect("suggestions")
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len().max(1) as f32
}

/// For 5 titles (seed 7, 4 suggestions each): every pipeline suggestion
/// passes the screening rules (none is a best-rejected one, and screening
/// its text again against the title finds nothing), the 4 are distinct,
/// and fewer pipeline suggestions break a rule
/// than raw-model answers (the raw model returns its answers unscreened).
///
/// Not asserted, because it does not hold: the issue asks for the
/// pipeline's mean relevance to be above the raw model's. Measured on this
/// machine (debug build, seed 7, model loaded as f32): pipeline 0.311, raw
/// model 0.386; with the title's cue props (ingredients) 0.338 against
/// 0.386 (2026-12-06); with the library settings' product kinds and the
/// second round when too few match, 0.362 against 0.386, and 0.364 for the
/// 18 of the raw model's 20 answers that pass the rules (2026-12-07). The raw
/// answers repeat title words, which all-MiniLM-L6-v2 rewards; the
/// pipeline's scenes are built from library phrases that rarely contain
/// the title's words (only its ingredient cues). The test prints both means.
#[test]
#[ignore = "needs SmolLM2 and all-MiniLM-L6-v2: set ADSTUDIO_SMOLLM2_GGUF and ADSTUDIO_MINILM"]
fn pipeline_suggestions_pass_the_rules_and_beat_the_raw_model_on_them() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model =
        PromptModel::load(&models::smollm2_gguf(), &LoadOptions::default()).expect("SmolLM2");
    let ranker = RelevanceModel::load(&models::minilm_dir(), &Device::Cpu).expect("MiniLM");
    let (mut pipeline, mut raw, mut raw_passing) = (Vec::new(), Vec::new(), Vec::new());
    let mut raw_breaking = 0usize;
    for title in TITLES {
        let report = run(&mut model, &ranker, title, SuggestMode::Pipeline);
        assert!(report.constrained, "SmolLM2 writes the scene library");
        let short = prompt_title(title).expect("title").text;
        println!("{short}:");
        assert_eq!(report.suggestions.len(), 4, "{report:#?}");
        for (i, s) in report.suggestions.iter().enumerate() {
            println!("  {:.3} {}", s.relevance.unwrap_or(0.0), s.text);
            assert_eq!(s.rejected, None, "{s:?}");
            let ctx = ScreenContext {
                title: &short,
                ..ScreenContext::default()
            };
            assert_eq!(screen(&s.text, &ctx), None, "{s:?}");
            for other in &report.suggestions[i + 1..] {
                assert_ne!(other.text.to_lowercase(), s.text.to_lowercase());
            }
            pipeline.push(s.relevance.expect("ranked"));
        }
        let baseline = run(&mut model, &ranker, title, SuggestMode::Raw);
        for s in &baseline.suggestions {
            raw.push(s.relevance.expect("ranked"));
            let rejected = baseline
                .candidates
                .iter()
                .any(|c| c.text == s.text && c.rejected.is_some());
            raw_breaking += usize::from(rejected);
            if !rejected {
                raw_passing.push(s.relevance.expect("ranked"));
            }
        }
    }
    let (p, r, rp) = (mean(&pipeline), mean(&raw), mean(&raw_passing));
    println!(
        "mean relevance: pipeline {p:.3}, raw model {r:.3} (its {} answers that pass the rules: {rp:.3}); raw answers breaking a rule: {raw_breaking} of {}",
        raw_passing.len(),
        raw.len()
    );
    assert!(
        raw_breaking > 0,
        "the raw model broke no rule: the comparison says nothing"
    );
}

/// Bad titles: an empty one is refused before any generation; a title in
/// Chinese only still gives 4 suggestions that pass the rules (the scene
/// plan is written in English).
#[test]
#[ignore = "needs SmolLM2 and all-MiniLM-L6-v2: set ADSTUDIO_SMOLLM2_GGUF and ADSTUDIO_MINILM"]
fn empty_and_chinese_titles() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut model =
        PromptModel::load(&models::smollm2_gguf(), &LoadOptions::default()).expect("SmolLM2");
    let ranker = RelevanceModel::load(&models::minilm_dir(), &Device::Cpu).expect("MiniLM");
    let counter = model.tokenizer().clone();
    let err = suggest_backgrounds(
        &mut model,
        &SuggestRequest::new("  "),
        &counter,
        Some(&ranker),
        &mut |_| ControlFlow::Continue(()),
    )
    .expect_err("empty title accepted");
    assert!(matches!(err, PromptModelError::Title(_)), "{err:?}");

    let report = run(
        &mut model,
        &ranker,
        "保湿沐浴露 500毫升 芦荟 家庭装",
        SuggestMode::Pipeline,
    );
    for s in &report.suggestions {
        println!("  {:?} {:?} {}", s.relevance, s.rejected, s.text);
    }
    assert_eq!(report.suggestions.len(), 4, "{report:#?}");
    assert!(
        report.suggestions.iter().all(|s| s.rejected.is_none()),
        "{report:#?}"
    );
}
