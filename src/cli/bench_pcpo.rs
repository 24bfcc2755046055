//! `adstudio bench pcpo`: PCPO training throughput (pairs per second) and
//! peak memory on a prompt model loaded as f32.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use candle_core::Device;

use super::bench_diffusion::machine_gflops;
use crate::ml::pcpo::{
    answer_ids, product_prompt, PcpoConfig, PcpoTrainer, PreferencePair, TrainControl, TrainingSet,
};
use crate::ml::prompt_model::instructions::instruction;
use crate::ml::prompt_model::{ChatMessage, GgufPrecision, LoadOptions, PromptModel, Role};

/// Products of the synthetic training set (written for this bench).
const TITLES: [&str; 4] = [
    "Red ceramic coffee mug, 350 ml",
    "Leather hiking boots for women",
    "Stainless steel chef knife 20 cm",
    "Bamboo desk lamp with warm LED",
];

/// Answers the pairs are drawn from (pair `i`: answer `i` over `i + 1`).
const ANSWERS: [&str; 6] = [
    "a sunlit wooden kitchen table with soft morning light",
    "luxurious golden marble podium, elegant premium glow",
    "a rocky mountain trail at dawn, misty pine forest",
    "clean white studio backdrop with soft shadows",
    "a cosy reading corner with books and warm evening light",
    "glamorous velvet background, opulent luxury sparkle",
];

/// The process's peak resident memory in MB (Linux `VmHWM`), if known.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The synthetic preference set: `pairs` pairs over the four products.
fn training_set(model: &PromptModel, pairs: usize) -> anyhow::Result<TrainingSet> {
    let tok = model.tokenizer();
    let mut set = TrainingSet::default();
    for title in TITLES {
        let msg = [ChatMessage::new(Role::User, instruction(0, title, None))];
        set.products
            .push(product_prompt(tok, model.template(), &msg, title)?);
    }
    for i in 0..pairs {
        set.pairs.push(PreferencePair {
            product: i % TITLES.len(),
            chosen: answer_ids(tok, ANSWERS[i % ANSWERS.len()])?,
            rejected: answer_ids(tok, ANSWERS[(i + 1) % ANSWERS.len()])?,
        });
    }
    Ok(set)
}

/// Trains one PCPO epoch (defaults: b = 0.5, w = 1, LoRA rank 8 on
/// q/k/v/o) over `pairs` synthetic pairs in batches of `batch`, and prints
/// a table with pairs per second and peak memory, between two machine
/// checks (GFLOP/s of a 2048³ f32 matrix product).
pub fn bench_pcpo_table(model: &Path, pairs: usize, batch: usize) -> anyhow::Result<()> {
    if pairs == 0 || batch == 0 {
        anyhow::bail!("`bench pcpo` needs --pairs and --batch of at least 1");
    }
    let before = machine_gflops(&Device::Cpu)?;
    let opts = LoadOptions {
        precision: GgufPrecision::F32,
        ..LoadOptions::default()
    };
    let loaded =
        PromptModel::load(model, &opts).with_context(|| format!("loading {}", model.display()))?;
    let set = training_set(&loaded, pairs)?;
    let config = PcpoConfig {
        epochs: 1,
        batch_size: batch,
        mask_token_id: loaded.tokenizer().token_id("<|endoftext|>").unwrap_or(0),
        ..PcpoConfig::default()
    };
    let mut trainer = PcpoTrainer::new(loaded.decoder().clone(), config)?;
    let started = Instant::now();
    let out = trainer.train(&set, None, TrainControl::default(), &mut |_| {})?;
    let secs = started.elapsed().as_secs_f64();
    let after = machine_gflops(&Device::Cpu)?;
    let loss = out.history.last().map_or(f64::NAN, |r| r.train.loss);
    println!(
        "PCPO bench: {} (f32), machine check {before:.0} GFLOP/s",
        model.display()
    );
    println!("| model | pairs | batch | seconds | pairs/s | peak RSS | epoch loss |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {pairs} | {batch} | {secs:.1} | {:.3} | {:.0} MB | {loss:.4} |",
        model.file_name().map_or_else(
            || model.display().to_string(),
            |n| n.to_string_lossy().into()
        ),
        pairs as f64 / secs,
        peak_rss_mb().unwrap_or(f64::NAN),
    );
    println!("machine check after: {after:.0} GFLOP/s");
    Ok(())
}
