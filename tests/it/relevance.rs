//! The relevance model: parity of the candle all-MiniLM-L6-v2 port with
//! sentence-transformers, masked mean pooling, and a sanity check that
//! fitting backgrounds score above unrelated ones.
//!
//! Fixture `tests/fixtures/minilm/expected.json` (see its README): nine
//! sentences (a one-word one, mixed case, Chinese, one of 158 tokens and
//! one of 470 tokens, cut at 256 like sentence-transformers does) and the
//! embeddings `SentenceTransformer.encode` gave for them.
//!
//! Tolerance, per embedding `a` (candle) against `b` (reference):
//! max_i |a_i - b_i| / max_i |b_i| <= 1e-4, and cosine(a, b) > 0.99999.
//! The weights come from the folder named by `ADSTUDIO_MINILM`
//! (`eval "$(.ci/fetch-minilm.sh DIR)"` sets it): the tests are ignored
//! unless asked for, and fail when asked for without it.

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::models;

use adstudio::ml::relevance::{cosine, RelevanceModel};
use adstudio::studio::{ModelHub, ModelRegistry, ModelRole};
use candle_core::Device;

const REL_TOL: f32 = 1e-4;
const MIN_COSINE: f32 = 0.99999;

#[derive(serde::Deserialize)]
struct Expected {
    max_seq_length: usize,
    sentences: Vec<String>,
    token_counts: Vec<usize>,
    embeddings: Vec<Vec<f32>>,
}

fn expected() -> Expected {
    let path = fixtures::fixture_dir("minilm").join("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The real model (`ADSTUDIO_MINILM`).
fn model() -> RelevanceModel {
    RelevanceModel::load(&models::minilm_dir(), &Device::Cpu).expect("load all-MiniLM-L6-v2")
}

/// max |a - b| / max |b|.
fn relative_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    let scale = b.iter().map(|y| y.abs()).fold(0f32, f32::max);
    diff / scale
}

#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn embeddings_match_sentence_transformers() {
    let exp = expected();
    // The fixture covers what it claims: a text past the 128 tokens of
    // tokenizer.json and one past sentence-transformers' 256.
    assert!(exp.token_counts.iter().any(|&n| n > 128 && n <= 256));
    assert!(exp.token_counts.iter().any(|&n| n > 256));
    let model = model();
    assert_eq!(model.max_seq_len(), exp.max_seq_length);
    assert_eq!(model.dim(), 384);
    let texts: Vec<&str> = exp.sentences.iter().map(String::as_str).collect();
    let got = model.embed(&texts).expect("embed");
    assert_eq!(got.len(), exp.embeddings.len());
    let (mut worst_rel, mut worst_cos) = (0f32, 1f32);
    for (i, (a, b)) in got.iter().zip(&exp.embeddings).enumerate() {
        let rel = relative_error(a, b);
        let cos = cosine(a, b);
        eprintln!(
            "sentence {i} ({} tokens): rel {rel:.3e}, cosine {cos:.8}",
            exp.token_counts[i]
        );
        assert!(rel <= REL_TOL, "sentence {i}: relative error {rel:.3e}");
        assert!(cos > MIN_COSINE, "sentence {i}: cosine {cos}");
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "sentence {i}: norm {norm}");
        worst_rel = worst_rel.max(rel);
        worst_cos = worst_cos.min(cos);
    }
    eprintln!("max relative error {worst_rel:.3e}, min cosine {worst_cos:.8}");
}

#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn padding_does_not_change_an_embedding() {
    let exp = expected();
    let model = model();
    let long = exp
        .sentences
        .iter()
        .zip(&exp.token_counts)
        .max_by_key(|(_, &n)| n)
        .map(|(s, _)| s.as_str())
        .unwrap();
    for short in [
        "mug",
        "A snowy mountain cabin interior with a crackling fireplace",
    ] {
        let alone = model.embed(&[short]).expect("alone").remove(0);
        model.clear_cache();
        // In a batch with a longer text, `short` gets hundreds of padding
        // tokens; masked, they change nothing.
        let batch = model.embed(&[long, short, "x"]).expect("batch");
        let rel = relative_error(&batch[1], &alone);
        assert!(rel < 1e-5, "{short:?}: padded differs by {rel:.3e}");
        assert!(cosine(&batch[1], &alone) > 0.999_999, "{short:?}");
    }
    // And the padded embedding still matches the reference.
    model.clear_cache();
    let i = exp.sentences.iter().position(|s| s == "mug").unwrap();
    let padded = model.embed(&[long, "mug"]).expect("batch").remove(1);
    assert!(relative_error(&padded, &exp.embeddings[i]) <= REL_TOL);
}

#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn fitting_backgrounds_score_above_unrelated_ones() {
    let mut registry = ModelRegistry::with_dirs(None, None);
    registry.set_explicit(ModelRole::Relevance, models::minilm_dir());
    let hub = ModelHub::new(registry);
    assert!(!hub.is_loaded(ModelRole::Relevance));
    let cases = [
        (
            "Stainless steel water bottle for hiking",
            "a rocky mountain trail at sunrise with a backpack",
            "a velvet jewellery box on a dressing table",
        ),
        (
            "Organic espresso coffee beans, dark roast",
            "a rustic café counter with a steaming cup and scattered beans",
            "a snowy ski slope under a blue sky",
        ),
        (
            "Kids' waterproof rain boots",
            "a puddle-covered garden path on a rainy day",
            "a sleek office desk with a laptop and a monitor",
        ),
        (
            "Men's luxury chronograph wristwatch",
            "a dark marble surface with a leather briefcase and cufflinks",
            "a sandbox with plastic buckets and spades",
        ),
    ];
    for (title, fitting, unrelated) in cases {
        let (fit, off) = hub
            .with_relevance(|m| {
                (
                    m.relevance(fitting, title).unwrap(),
                    m.relevance(unrelated, title).unwrap(),
                )
            })
            .expect("hub loads the model");
        assert!(
            fit > off,
            "{title:?}: fitting {fit:.3} <= unrelated {off:.3}"
        );
    }
    assert!(hub.is_loaded(ModelRole::Relevance));
    // A background identical to the title is as relevant as it gets.
    let same = hub
        .with_relevance(|m| {
            m.relevance("Kids' waterproof rain boots", "Kids' waterproof rain boots")
        })
        .unwrap()
        .unwrap();
    assert!((same - 1.0).abs() < 1e-5, "{same}");
}

#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn a_misshaped_tensor_is_named_with_its_file() {
    let dir = models::minilm_dir();
    let tmp = tempfile::tempdir().unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
    }
    let weights = tmp.path().join("model.safetensors");
    let tensor = candle_core::Tensor::zeros((2, 2), candle_core::DType::F32, &Device::Cpu).unwrap();
    candle_core::safetensors::save(
        &std::collections::HashMap::from([(
            "embeddings.word_embeddings.weight".to_string(),
            tensor,
        )]),
        &weights,
    )
    .unwrap();
    let err = RelevanceModel::load(tmp.path(), &Device::Cpu)
        .err()
        .expect("misshaped weights")
        .to_string();
    assert!(
        err.contains("embeddings.word_embeddings.weight") && err.contains("model.safetensors"),
        "{err}"
    );
    assert!(err.contains("[30522, 384]"), "{err}");
}

#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn embeddings_are_cached_by_text() {
    let exp = expected();
    let model = model();
    assert_eq!(model.cached(), 0);
    let texts: Vec<&str> = exp.sentences.iter().map(String::as_str).collect();
    let first = model.embed(&texts).expect("first");
    assert_eq!(model.cached(), texts.len());
    // Again, reordered and with a repeat: the same vectors, nothing new
    // computed; a new text adds one entry.
    let again = model
        .embed(&[texts[2], texts[0], texts[2], "a new text"])
        .expect("again");
    assert_eq!(
        (&again[0], &again[1], &again[2]),
        (&first[2], &first[0], &first[2])
    );
    assert_eq!(model.cached(), texts.len() + 1);
    // Cached or not, each still matches the reference.
    for (e, want) in first.iter().zip(&exp.embeddings) {
        assert!(relative_error(e, want) <= REL_TOL);
    }
    model.clear_cache();
    assert_eq!(model.cached(), 0);
    let fresh = model.embed(&[texts[2]]).expect("fresh").remove(0);
    assert!(relative_error(&fresh, &first[2]) < 1e-5);
}
