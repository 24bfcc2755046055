//! `adstudio bench prompt-model`: prompt-processing and generation speed of
//! a GGUF prompt model, quantised and dequantised to f32.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::ml::prompt_model::{bench, GgufPrecision, LoadOptions, PromptModel};

/// Median of one precision's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptBenchRow {
    /// Precision of the linear layers.
    pub precision: GgufPrecision,
    /// Seconds to load the model.
    pub load_seconds: f64,
    /// Prompt length.
    pub prompt_tokens: usize,
    /// Median prompt-processing speed, tokens/s.
    pub prompt_tokens_per_sec: f64,
    /// Tokens generated per run.
    pub generated_tokens: usize,
    /// Median generation speed, tokens/s.
    pub generation_tokens_per_sec: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Loads `model` at each precision and times `runs` prefills of
/// `prompt_tokens` tokens and `generated_tokens` single-token steps.
pub fn bench_prompt_model(
    model: &Path,
    runs: usize,
    prompt_tokens: usize,
    generated_tokens: usize,
) -> anyhow::Result<Vec<PromptBenchRow>> {
    let mut rows = Vec::new();
    for precision in [GgufPrecision::Quantized, GgufPrecision::F32] {
        let start = Instant::now();
        let opts = LoadOptions {
            precision,
            ..LoadOptions::default()
        };
        let mut loaded = PromptModel::load(model, &opts)
            .with_context(|| format!("loading {} ({precision:?})", model.display()))?;
        let load_seconds = start.elapsed().as_secs_f64();
        let mut pp = Vec::new();
        let mut tg = Vec::new();
        for _ in 0..runs.max(1) {
            let r = bench(&mut loaded, prompt_tokens, generated_tokens)?;
            pp.push(r.prompt_tokens_per_sec);
            tg.push(r.generation_tokens_per_sec);
        }
        rows.push(PromptBenchRow {
            precision,
            load_seconds,
            prompt_tokens,
            prompt_tokens_per_sec: median(pp),
            generated_tokens,
            generation_tokens_per_sec: median(tg),
        });
    }
    Ok(rows)
}

/// Runs the bench and prints its table.
pub fn bench_prompt_table(model: Option<&Path>, runs: usize) -> anyhow::Result<()> {
    let env_model = std::env::var_os("ADSTUDIO_SMOLLM2_GGUF").map(std::path::PathBuf::from);
    let model = model
        .map(Path::to_path_buf)
        .or(env_model)
        .context("pass --model FILE.gguf (or set ADSTUDIO_SMOLLM2_GGUF)")?;
    let rows = bench_prompt_model(&model, runs, 128, 32)?;
    println!(
        "model {} on CPU, {} threads, median of {} runs",
        model.display(),
        candle_core::utils::get_num_threads(),
        runs.max(1)
    );
    println!(
        "| precision | load s | prompt tokens | prompt tok/s | generated | generation tok/s |"
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {:?} | {:.2} | {} | {:.1} | {} | {:.1} |",
            r.precision,
            r.load_seconds,
            r.prompt_tokens,
            r.prompt_tokens_per_sec,
            r.generated_tokens,
            r.generation_tokens_per_sec
        );
    }
    Ok(())
}
