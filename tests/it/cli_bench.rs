//! `adstudio bench prompt-model` and `bench reward`: the library entry point
//! measures both precisions on the tiny Qwen2 folder, the reward bench
//! prints its table, and a missing model is a clear error.

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::words;

use std::path::{Path, PathBuf};
use std::process::Command;

use adstudio::cli::{bench_prompt_model, reward_experiment};
use adstudio::ml::prompt_model::GgufPrecision;

/// The tiny Qwen2 folder with a 512-word tokenizer (the fixture has none).
fn tiny_qwen2(root: &Path) -> PathBuf {
    words::model_folder(
        &fixtures::fixture_dir("qwen2_tiny"),
        &root.join("qwen2_tiny"),
        Some(&words::tokenizer()),
    )
}

/// Both precisions are measured (a safetensors folder loads as f32 either
/// way) with the requested token counts and finite, positive speeds.
#[test]
fn prompt_model_bench_reports_both_precisions() {
    let dir = tempfile::tempdir().unwrap();
    let rows = bench_prompt_model(&tiny_qwen2(dir.path()), 2, 16, 4).unwrap();
    let precisions: Vec<GgufPrecision> = rows.iter().map(|r| r.precision).collect();
    assert_eq!(
        precisions,
        vec![GgufPrecision::Quantized, GgufPrecision::F32]
    );
    for r in &rows {
        assert_eq!((r.prompt_tokens, r.generated_tokens), (16, 4));
        assert!(r.prompt_tokens_per_sec.is_finite() && r.prompt_tokens_per_sec > 0.0);
        assert!(r.generation_tokens_per_sec.is_finite() && r.generation_tokens_per_sec > 0.0);
    }
}

/// `bench reward --products 6 --epochs 1` prints the table row with the
/// held-out accuracy and its CI; the overrides reach the experiment.
/// `bench prompt-model` without a model fails naming the flag.
#[test]
fn bench_commands_through_the_binary() {
    let exp = reward_experiment(Some(6), Some(1));
    assert_eq!((exp.world.products, exp.train.epochs), (6, 1));

    let out = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env("CANDLE_NUM_THREADS", "1")
        .args(["bench", "reward", "--products", "6", "--epochs", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("| held-out products |"), "{stdout}");
    assert!(stdout.contains("+/- "), "{stdout}");

    let out = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env_remove("ADSTUDIO_SMOLLM2_GGUF")
        .args(["bench", "prompt-model"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--model"), "{stderr}");
}
