//! Training throughput of PCPO on a real prompt model (not a test):
//! `cargo run --example pcpo_bench -- MODEL.gguf [PAIRS] [BATCH]`.
//!
//! Loads the model dequantised to f32, builds `PAIRS` preference pairs over
//! four products (instruction phrasing 0, short answers), trains one epoch
//! with the default settings (b = 0.5, w = 1, LoRA rank 8 on q/k/v/o) and
//! prints pairs per second and the peak resident memory.

use std::path::PathBuf;
use std::time::Instant;

use adstudio::ml::pcpo::{
    answer_ids, product_prompt, PcpoConfig, PcpoTrainer, PreferencePair, TrainControl, TrainEvent,
    TrainingSet,
};
use adstudio::ml::prompt_model::instructions::instruction;
use adstudio::ml::prompt_model::{ChatMessage, GgufPrecision, LoadOptions, PromptModel, Role};
use anyhow::Context;

const TITLES: [&str; 4] = [
    "Red ceramic coffee mug, 350 ml",
    "Leather hiking boots for women",
    "Stainless steel chef knife 20 cm",
    "Bamboo desk lamp with warm LED",
];
const ANSWERS: [&str; 6] = [
    "a sunlit wooden kitchen table with soft morning light",
    "luxurious golden marble podium, elegant premium glow",
    "a rocky mountain trail at dawn, misty pine forest",
    "clean white studio backdrop with soft shadows",
    "a cosy reading corner with books and warm evening light",
    "glamorous velvet background, opulent luxury sparkle",
];

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .context("usage: pcpo_bench MODEL.gguf [PAIRS] [BATCH]")?,
    );
    let pairs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(8);
    let batch: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2);
    let opts = LoadOptions {
        precision: GgufPrecision::F32,
        ..LoadOptions::default()
    };
    let model = PromptModel::load(&path, &opts).context("loading the model")?;
    let tok = model.tokenizer();
    let mut set = TrainingSet::default();
    for title in TITLES {
        let msg = [ChatMessage::new(Role::User, instruction(0, title, None))];
        let p = product_prompt(tok, model.template(), &msg, title)?;
        let shown = tok.decode(&p.ids[p.title.clone()])?;
        println!("title tokens {:?} of {}: {shown:?}", p.title, p.ids.len());
        set.products.push(p);
    }
    for i in 0..pairs {
        set.pairs.push(PreferencePair {
            product: i % TITLES.len(),
            chosen: answer_ids(tok, ANSWERS[i % ANSWERS.len()])?,
            rejected: answer_ids(tok, ANSWERS[(i + 1) % ANSWERS.len()])?,
        });
    }
    let config = PcpoConfig {
        epochs: 1,
        batch_size: batch,
        mask_token_id: tok.token_id("<|endoftext|>").unwrap_or(0),
        ..PcpoConfig::default()
    };
    let mut trainer = PcpoTrainer::new(model.decoder().clone(), config)?;
    let started = Instant::now();
    let out = trainer.train(&set, None, TrainControl::default(), &mut |e| {
        if let TrainEvent::Step { step, loss, .. } = e {
            println!(
                "step {step}: loss {loss:.4} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{pairs} pairs (batch {batch}) in {secs:.1} s: {:.3} pairs/s; peak RSS {:.0} MB; {:?}",
        pairs as f64 / secs,
        peak_rss_mb().unwrap_or(f64::NAN),
        out.history.last().map(|r| r.train)
    );
    Ok(())
}
