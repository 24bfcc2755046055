//! GGUF loading without the real model: the `qwen2_tiny` reference weights
//! are written to temporary GGUF files (as `qwen2` and as `llama`, whose q/k
//! rows llama.cpp interleaves per head), loaded back and compared with the
//! reference logits. Also: bad GGUF/model inputs give clear errors.
//!
//! Tolerances: f32 GGUF `max|a - b| <= 1e-4 * max(1, max|b|)`; Q8_0 GGUF
//! (8-bit weights, so not bit-exact) `max|a - b| <= 0.05 * max(1, max|b|)`.

use crate::common::fixtures;
use crate::common::tensors;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adstudio::ml::prompt_model::gguf::gguf_name;
use adstudio::ml::prompt_model::{
    Decoder, GgufFile, GgufPrecision, LoadOptions, PromptModel, PromptModelError,
};
use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use tensors::max_rel_err;

fn load(path: PathBuf) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(path, &Device::Cpu).expect("safetensors")
}

/// HF -> llama.cpp row order of a q/k projection (weight or bias).
fn permute_for_llama(t: &Tensor, head_dim: usize) -> Tensor {
    let dims = t.dims().to_vec();
    let heads = dims[0] / head_dim;
    let mut shape = vec![heads, 2, head_dim / 2];
    shape.extend_from_slice(&dims[1..]);
    t.reshape(shape)
        .and_then(|x| x.transpose(1, 2))
        .and_then(|x| x.contiguous())
        .and_then(|x| x.reshape(dims))
        .expect("permute")
}

/// Writes qwen2_tiny as a GGUF of the given architecture and block type.
fn write_gguf(path: &Path, arch: &str, dtype: GgmlDType) {
    let weights = load(fixtures::fixture_dir("qwen2_tiny").join("model.safetensors"));
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    for (name, t) in &weights {
        let gname = gguf_name(name).expect("mapped name");
        let mut t = t.clone();
        if arch == "llama" && (gname.contains("attn_q.") || gname.contains("attn_k.")) {
            t = permute_for_llama(&t, 16);
        }
        let q = if t.rank() == 2 {
            QTensor::quantize(&t, dtype).expect("quantize")
        } else {
            QTensor::quantize(&t, GgmlDType::F32).expect("f32")
        };
        tensors.push((gname, q));
    }
    let arch_value = Value::String(arch.to_string());
    let u = |v: u32| Value::U32(v);
    let meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), arch_value),
        (format!("{arch}.block_count"), u(2)),
        (format!("{arch}.embedding_length"), u(64)),
        (format!("{arch}.feed_forward_length"), u(128)),
        (format!("{arch}.attention.head_count"), u(4)),
        (format!("{arch}.attention.head_count_kv"), u(2)),
        (format!("{arch}.context_length"), u(256)),
        (format!("{arch}.vocab_size"), u(512)),
        (format!("{arch}.rope.freq_base"), Value::F32(1_000_000.0)),
        (
            format!("{arch}.attention.layer_norm_rms_epsilon"),
            Value::F32(1e-6),
        ),
    ];
    let meta_refs: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(path).expect("create");
    gguf_file::write(&mut file, &meta_refs, &tensor_refs).expect("write gguf");
}

fn logits_from_gguf(path: &Path, precision: GgufPrecision) -> (Tensor, Tensor) {
    let file = GgufFile::open(path, &Device::Cpu).expect("open gguf");
    let cfg = file.config().expect("config");
    let decoder = Decoder::from_source(&cfg, &file.source(precision), "").expect("decoder");
    let io = load(fixtures::fixture_dir("qwen2_tiny").join("io.safetensors"));
    (
        decoder.logits(&io["input_ids"]).expect("logits"),
        io["logits"].clone(),
    )
}

/// qwen2_tiny stored as an f32 GGUF (qwen2 and llama layouts; the llama one
/// with llama.cpp's q/k row interleaving, including the q/k biases) gives the
/// reference logits within 1e-4 relative, in both precisions.
#[test]
fn f32_gguf_matches_reference_logits() {
    let dir = tempfile::tempdir().expect("tempdir");
    for arch in ["qwen2", "llama"] {
        let path = dir.path().join(format!("{arch}.gguf"));
        write_gguf(&path, arch, GgmlDType::F32);
        for precision in [GgufPrecision::F32, GgufPrecision::Quantized] {
            let (ours, reference) = logits_from_gguf(&path, precision);
            let err = max_rel_err(&ours, &reference);
            println!("{arch} f32 GGUF, {precision:?}: max rel err {err:e}");
            assert!(err <= 1e-4, "{arch} {precision:?}: {err}");
        }
    }
}

/// `Auto` loads a small model as f32 (qwen2_tiny takes far less than
/// `AUTO_F32_MAX_BYTES` dequantised: its byte count is the sum of its
/// tensors' elements times 4) and its logits are the f32 ones; explicit
/// precisions are kept as asked.
#[test]
fn auto_precision_loads_small_models_as_f32() {
    use adstudio::ml::prompt_model::gguf::AUTO_F32_MAX_BYTES;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q8.gguf");
    write_gguf(&path, "llama", GgmlDType::Q8_0);
    let file = GgufFile::open(&path, &Device::Cpu).expect("open gguf");
    let io = load(fixtures::fixture_dir("qwen2_tiny").join("model.safetensors"));
    let elements: usize = io.values().map(|t| t.elem_count()).sum();
    assert_eq!(file.dequantised_bytes(), 4 * elements as u64);
    assert!(file.dequantised_bytes() < AUTO_F32_MAX_BYTES);
    assert_eq!(file.resolve(GgufPrecision::Auto), GgufPrecision::F32);
    for p in [GgufPrecision::F32, GgufPrecision::Quantized] {
        assert_eq!(file.resolve(p), p);
    }
    let (auto, _) = logits_from_gguf(&path, GgufPrecision::Auto);
    let (f32_logits, _) = logits_from_gguf(&path, GgufPrecision::F32);
    assert_eq!(max_rel_err(&auto, &f32_logits), 0.0);
}

/// qwen2_tiny quantised to Q8_0 (llama layout) stays within 5% of the
/// reference logits (dequantised and quantised inference), and a LoRA merge
/// into a quantised base is refused with a LoRA error.
#[test]
fn q8_gguf_is_close_to_reference_logits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q8.gguf");
    write_gguf(&path, "llama", GgmlDType::Q8_0);
    for precision in [GgufPrecision::F32, GgufPrecision::Quantized] {
        let (ours, reference) = logits_from_gguf(&path, precision);
        let err = max_rel_err(&ours, &reference);
        println!("llama Q8_0 GGUF, {precision:?}: max rel err {err:e}");
        assert!(err <= 0.05, "{precision:?}: {err}");
    }
    let file = GgufFile::open(&path, &Device::Cpu).expect("open");
    let cfg = file.config().expect("config");
    let mut decoder =
        Decoder::from_source(&cfg, &file.source(GgufPrecision::Quantized), "").expect("decoder");
    let lora = adstudio::ml::prompt_model::LoraConfig::default();
    decoder
        .attach_lora(&lora, 1)
        .expect("adapters attach to quantised layers");
    let err = decoder.merge_lora().expect_err("merge into Q8_0 must fail");
    assert!(matches!(err, PromptModelError::Lora(_)), "{err:?}");
}

/// A GGUF whose `general.architecture` is not llama/qwen2 is
/// `UnsupportedArchitecture`; a file with the GGUF magic but garbage after it,
/// and a file that is not GGUF at all, are `Gguf` errors naming the file.
#[test]
fn bad_gguf_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rwkv = dir.path().join("rwkv.gguf");
    let value = Value::String("rwkv".to_string());
    let t = QTensor::quantize(
        &Tensor::zeros((2, 32), candle_core::DType::F32, &Device::Cpu).expect("zeros"),
        GgmlDType::F32,
    )
    .expect("q");
    let mut f = std::fs::File::create(&rwkv).expect("create");
    gguf_file::write(
        &mut f,
        &[("general.architecture", &value)],
        &[("token_embd.weight", &t)],
    )
    .expect("write");
    drop(f);
    let err = PromptModel::load(&rwkv, &LoadOptions::default())
        .err()
        .expect("rwkv must fail");
    println!("{err}");
    assert!(
        matches!(err, PromptModelError::UnsupportedArchitecture(ref a) if a == "rwkv"),
        "{err:?}"
    );

    let garbage = dir.path().join("garbage.gguf");
    std::fs::write(
        &garbage,
        b"GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xffjunk",
    )
    .expect("write");
    let err = PromptModel::load(&garbage, &LoadOptions::default())
        .err()
        .expect("garbage must fail");
    println!("{err}");
    assert!(matches!(err, PromptModelError::Gguf { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.gguf"));

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").expect("write");
    let err = PromptModel::load(&text, &LoadOptions::default())
        .err()
        .expect("text must fail");
    println!("{err}");
    assert!(matches!(err, PromptModelError::Gguf { .. }), "{err:?}");
}

/// A model folder with weights and config but no tokenizer.json is
/// `MissingTokenizer`; a config.json with `model_type: gpt2` is
/// `UnsupportedArchitecture("gpt2")`; a missing path is an `Io` error.
#[test]
fn bad_model_folders_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixtures::fixture_dir("qwen2_tiny");
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dir.path().join(f)).expect("copy");
    }
    let err = PromptModel::load(dir.path(), &LoadOptions::default())
        .err()
        .expect("no tokenizer");
    println!("{err}");
    assert!(
        matches!(err, PromptModelError::MissingTokenizer(_)),
        "{err:?}"
    );

    let gpt2 = tempfile::tempdir().expect("tempdir");
    let cfg = std::fs::read_to_string(src.join("config.json"))
        .expect("read")
        .replace("\"qwen2\"", "\"gpt2\"");
    std::fs::write(gpt2.path().join("config.json"), cfg).expect("write");
    let err = PromptModel::load(gpt2.path(), &LoadOptions::default())
        .err()
        .expect("gpt2");
    println!("{err}");
    assert!(
        matches!(err, PromptModelError::UnsupportedArchitecture(ref a) if a == "gpt2"),
        "{err:?}"
    );

    let err = PromptModel::load(&dir.path().join("missing"), &LoadOptions::default())
        .err()
        .expect("missing");
    assert!(matches!(err, PromptModelError::Io { .. }), "{err:?}");
}
