//! Parity of the prompt-model decoder with the `qwen2_tiny` reference
//! (transformers 5.23, float32).
//!
//! Tolerance (all checks): `max|a - b| <= 1e-4 * max(1, max|b|)` where `b` is
//! the reference tensor and `a` ours. The fixture root is `ADSTUDIO_FIXTURES`
//! (default `tests/fixtures` under the crate root).

use crate::common::fixtures;
use crate::common::tensors;

use std::collections::HashMap;

use adstudio::ml::prompt_model::{completion_logprob_sums, Decoder, DecoderConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tensors::assert_close;

fn load_io(dir: &std::path::Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir.join("io.safetensors"), &Device::Cpu)
        .expect("io.safetensors")
}

fn load_model(dir: &std::path::Path) -> Decoder {
    let cfg = DecoderConfig::from_file(&dir.join("config.json")).expect("config");
    let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .expect("weights");
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    Decoder::new(&cfg, vb).expect("decoder")
}

/// Logits of the two 24-token reference sequences (no cache, all positions)
/// match `logits` of io.safetensors.
#[test]
fn qwen2_tiny_logits_match_reference() {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let model = load_model(&dir);
    let logits = model.logits(&io["input_ids"]).expect("forward");
    assert_close("logits", &logits, &io["logits"]);
}

/// Incremental decoding with the KV cache (16 prompt tokens, then one token at
/// a time) gives the same last-position logits as the full forward pass.
#[test]
fn qwen2_tiny_kv_cache_matches_full_forward() {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let mut model = load_model(&dir);
    let ids = &io["input_ids"];
    let reference = &io["logits"];
    let prompt = ids.narrow(1, 0, 16).expect("narrow");
    let mut last = model.forward(&prompt, 0).expect("prompt");
    assert_close(
        "cached pos 15",
        &last,
        &reference
            .narrow(1, 15, 1)
            .and_then(|t| t.squeeze(1))
            .expect("ref"),
    );
    for p in 16..24 {
        let tok = ids.narrow(1, p, 1).expect("tok");
        last = model.forward(&tok, p).expect("step");
        let want = reference
            .narrow(1, p, 1)
            .and_then(|t| t.squeeze(1))
            .expect("ref");
        assert_close(&format!("cached pos {p}"), &last, &want);
    }
}

/// Sum of the log-probabilities of the completion tokens (positions 16..24 of
/// each row, i.e. the last 8 tokens after a 16-token prompt; this span is the
/// only one that reproduces the reference sums, checked when the fixture was
/// examined) matches `completion_logprob_sum`.
#[test]
fn qwen2_tiny_completion_logprob_sums_match_reference() {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let model = load_model(&dir);
    let sums =
        completion_logprob_sums(&model, &io["input_ids"], &[16..24, 16..24]).expect("logprob");
    assert_close(
        "completion_logprob_sum",
        &sums,
        &io["completion_logprob_sum"],
    );
}

/// With the given LoRA factors (rank 4, alpha 8 on q_proj/v_proj of both
/// layers) the logits match `logits_with_lora`; disabling the adapters gives
/// back `logits`; merging them into the base weights gives `logits_with_lora`
/// again without any adapter attached.
#[test]
fn qwen2_tiny_lora_logits_match_reference() {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let mut model = load_model(&dir);
    let alpha = io["lora.alpha"].to_vec1::<f32>().expect("alpha")[0] as f64;
    let attached = model.load_lora(&io, "lora.", alpha).expect("lora");
    assert_eq!(attached, 4);
    let ids = &io["input_ids"];
    assert_close(
        "logits_with_lora",
        &model.logits(ids).expect("fwd"),
        &io["logits_with_lora"],
    );
    model.set_lora_enabled(false);
    assert_close(
        "lora disabled",
        &model.logits(ids).expect("fwd"),
        &io["logits"],
    );
    model.set_lora_enabled(true);
    model.merge_lora().expect("merge");
    assert!(model.lora_tensors().is_empty());
    assert_close(
        "lora merged",
        &model.logits(ids).expect("fwd"),
        &io["logits_with_lora"],
    );
}

/// Freshly attached trainable adapters (B = 0) leave the logits unchanged, and
/// gradients of the completion log-prob reach the adapter factors only.
#[test]
fn qwen2_tiny_trainable_lora_starts_neutral_and_gets_gradients() {
    use adstudio::ml::prompt_model::{LoraConfig, LoraTarget};
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let mut model = load_model(&dir);
    let cfg = LoraConfig {
        rank: 4,
        alpha: 8.0,
        targets: LoraTarget::ALL.to_vec(),
    };
    let vars = model.attach_lora(&cfg, 7).expect("attach");
    assert_eq!(vars.len(), 2 * 7 * 2);
    let ids = &io["input_ids"];
    assert_close(
        "fresh lora",
        &model.logits(ids).expect("fwd"),
        &io["logits"],
    );
    let sums = completion_logprob_sums(&model, ids, &[16..24, 16..24]).expect("logprob");
    let grads = sums.sum_all().and_then(|s| s.backward()).expect("backward");
    for (name, var) in &vars {
        if name.ends_with(".B") {
            let g = grads.get(var.as_tensor()).expect("grad for B");
            let norm = g
                .sqr()
                .and_then(|g| g.sum_all())
                .and_then(|g| g.to_scalar::<f32>())
                .expect("norm");
            assert!(norm > 0.0, "{name} got a zero gradient");
        }
    }
}

/// A KV cache snapshot of 16 prompt positions, restored truncated to 10
/// positions, continues correctly: feeding tokens 10..24 then gives the
/// reference logits at position 23 (this is how shared prompt prefixes are reused).
#[test]
fn qwen2_tiny_truncated_kv_cache_resumes_correctly() {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let io = load_io(&dir);
    let mut model = load_model(&dir);
    let ids = &io["input_ids"];
    model
        .forward(&ids.narrow(1, 0, 16).expect("narrow"), 0)
        .expect("prompt");
    let snapshot = model.kv_cache();
    model.clear_kv_cache();
    model.restore_kv_cache(&snapshot, 10).expect("restore");
    assert_eq!(model.cached_len(), 10);
    let last = model
        .forward(&ids.narrow(1, 10, 14).expect("narrow"), 10)
        .expect("rest");
    let want = io["logits"]
        .narrow(1, 23, 1)
        .and_then(|t| t.squeeze(1))
        .expect("ref");
    assert_close("resumed pos 23", &last, &want);
    assert!(
        model.restore_kv_cache(&snapshot, 17).is_err(),
        "restoring more positions than held must fail"
    );
}
