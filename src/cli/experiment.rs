//! `adstudio experiment pcpo-vs-dpo`: plain DPO against PCPO from the same
//! start on a product-agnostic luxury-word preference (issue 15, point 6);
//! prints per epoch and method the held-out preference accuracy and the
//! matching rate, relevance and luxury share of fresh suggestions, then
//! the report as markdown (also written as JSON and markdown with `--out`).
//! The work is [`crate::studio::experiment`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use candle_core::Device;
use clap::{Args, Subcommand};

use super::bench_suggest::{read_titles, BenchTitle};
use crate::ml::prompt_model::{GgufPrecision, LoadOptions, PromptModel};
use crate::ml::relevance::RelevanceModel;
use crate::studio::experiment::{parse_mode, run_experiment, ExperimentInput, ExperimentSettings};
use crate::studio::{registry_for, ModelRole};

/// Arguments of `adstudio experiment`.
#[derive(Debug, Clone, Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[command(subcommand)]
    pub command: ExperimentCommand,
}

/// `adstudio experiment` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ExperimentCommand {
    /// Plain DPO against PCPO, same start, on a luxury-word preference.
    PcpoVsDpo(PcpoVsDpoArgs),
}

/// Arguments of `adstudio experiment pcpo-vs-dpo`.
#[derive(Debug, Clone, Args)]
pub struct PcpoVsDpoArgs {
    /// The prompt model (default: the `prompt-model` role); loaded as f32.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The relevance model folder (default: the `relevance` role).
    #[arg(long)]
    pub relevance: Option<PathBuf>,
    /// Titles file: TSV `split category title` (training titles from the
    /// `tune` rows, evaluation titles from the `holdout` rows) or one title
    /// per line (training titles first, then evaluation titles).
    #[arg(long, default_value = "tests/fixtures/titles/titles.tsv")]
    pub titles_file: PathBuf,
    /// Training titles used.
    #[arg(long, default_value_t = 24)]
    pub titles: usize,
    /// Held-out evaluation titles used.
    #[arg(long, default_value_t = 10)]
    pub eval_titles: usize,
    /// Most luxury pairs per title.
    #[arg(long, default_value_t = 3)]
    pub pairs_per_title: usize,
    /// Suggestions per title and mode (candidates and fresh suggestions).
    #[arg(long, default_value_t = 4)]
    pub suggestions: usize,
    /// Training epochs of each method.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Seed of everything random (same for both methods).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Suggestion modes written and measured, comma-separated (pipeline,
    /// raw, free-plan).
    #[arg(long, value_delimiter = ',', default_value = "pipeline,raw")]
    pub modes: Vec<String>,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Pairs per update.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// b of the DPO and PCPO losses.
    #[arg(long, default_value_t = 0.5)]
    pub beta: f64,
    /// Weight w of the PCPO term in the PCPO run (the DPO run uses 0).
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
    /// Write the report as JSON here, and as markdown beside it (`.md`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `adstudio experiment`.
pub fn run_experiment_cli(args: &ExperimentArgs) -> anyhow::Result<()> {
    match &args.command {
        ExperimentCommand::PcpoVsDpo(a) => run_pcpo_vs_dpo(a),
    }
}

/// The training and evaluation titles of the file.
fn pick_titles(a: &PcpoVsDpoArgs) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let rows = read_titles(&a.titles_file)?;
    let split = |name: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r.split == name)
            .map(|r| r.title.clone())
            .collect()
    };
    let (mut train, mut eval) = if rows.iter().any(|r| r.split == "holdout") {
        (split("tune"), split("holdout"))
    } else {
        let all: Vec<String> = rows.iter().map(|r: &BenchTitle| r.title.clone()).collect();
        let cut = a.titles.min(all.len());
        (all[..cut].to_vec(), all[cut..].to_vec())
    };
    if train.len() < a.titles || eval.len() < a.eval_titles {
        bail!(
            "{} has {} training and {} evaluation titles; asked for {} and {}",
            a.titles_file.display(),
            train.len(),
            eval.len(),
            a.titles,
            a.eval_titles
        );
    }
    if a.titles == 0 || a.eval_titles == 0 {
        bail!("--titles and --eval-titles must be at least 1");
    }
    train.truncate(a.titles);
    eval.truncate(a.eval_titles);
    Ok((train, eval))
}

fn locate(role: ModelRole, explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let registry = registry_for(None).with_explicit(role, explicit);
    Ok(registry.locate(role)?.path)
}

fn run_pcpo_vs_dpo(a: &PcpoVsDpoArgs) -> anyhow::Result<()> {
    let (train_titles, eval_titles) = pick_titles(a)?;
    for mode in &a.modes {
        if parse_mode(mode).is_none() {
            bail!(
                "unknown suggestion mode `{}` (pipeline, free-plan, raw)",
                mode.trim()
            );
        }
    }
    let model_path = locate(ModelRole::PromptModel, a.model.as_deref())?;
    let relevance_path = locate(ModelRole::Relevance, a.relevance.as_deref())
        .context("the experiment measures relevance with all-MiniLM-L6-v2")?;
    let opts = LoadOptions {
        precision: GgufPrecision::F32,
        ..LoadOptions::default()
    };
    let model = PromptModel::load(&model_path, &opts)
        .with_context(|| format!("loading the prompt model {}", model_path.display()))?;
    let ranker = RelevanceModel::load(&relevance_path, &Device::Cpu)
        .with_context(|| format!("loading {}", relevance_path.display()))?;
    let input = ExperimentInput {
        model: &model,
        model_name: model_path.display().to_string(),
        ranker: &ranker,
        relevance_name: relevance_path.display().to_string(),
        train_titles,
        eval_titles,
        settings: ExperimentSettings {
            epochs: a.epochs,
            pairs_per_title: a.pairs_per_title,
            suggestions: a.suggestions,
            seed: a.seed,
            modes: a.modes.iter().map(|m| m.trim().to_string()).collect(),
            learning_rate: a.lr,
            batch_size: a.batch_size,
            beta: a.beta,
            pcpo_weight: a.weight,
        },
    };
    let report = run_experiment(&input, &mut |line| println!("{line}"))?;
    let markdown = report.markdown();
    println!("\n{markdown}");
    if let Some(out) = &a.out {
        let md = out.with_extension("md");
        let json_path = if *out == md {
            out.with_extension("json")
        } else {
            out.clone()
        };
        let json = serde_json::to_string_pretty(&report).context("writing the report as JSON")?;
        std::fs::write(&json_path, json)
            .with_context(|| format!("writing {}", json_path.display()))?;
        std::fs::write(&md, &markdown).with_context(|| format!("writing {}", md.display()))?;
        println!(
            "report written to {} and {}",
            json_path.display(),
            md.display()
        );
    }
    Ok(())
}
