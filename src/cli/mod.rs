//! Command-line interface: `adstudio` starts the studio; subcommands run
//! the same library code headless.

pub mod batch;
mod batch_queue;
mod bench;
mod bench_batch;
mod bench_diffusion;
mod bench_draft;
mod bench_models;
mod bench_pcpo;
mod bench_prompt;
mod bench_reward;
mod bench_suggest;
mod bench_ui;
pub mod experiment;
pub mod export;
pub mod interrupt;
mod jobs_cmd;
pub mod label;
mod models;
mod models_fetch;
pub mod pcpo;
pub mod pcpo_adapters;
pub mod pcpo_online;
mod prefs;
mod prefs_export;
mod prepare;
mod render;
pub mod rm;
mod suggest;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use batch::{run_batch_cmd, BatchArgs};
pub use bench::{run_bench, BenchArgs, BenchTarget};
pub use bench_prompt::{bench_prompt_model, PromptBenchRow};
pub use bench_reward::reward_experiment;
pub use experiment::{run_experiment_cli, ExperimentArgs, ExperimentCommand};
pub use export::{run_export, ExportArgs};
pub use jobs_cmd::{run_jobs, JobsArgs, JobsCommand};
pub use label::{run_label, LabelArgs};
pub use models::{run_models, ModelsArgs, ModelsCommand};
pub use pcpo::{run_pcpo, PcpoArgs, PcpoCommand};
pub use prefs::{run_prefs, PrefsArgs, PrefsCommand};
pub use prepare::{run_prepare, PrepareArgs, PrepareReport};
pub use render::{run_render, RenderArgs};
pub use rm::{run_rm, RmArgs};
pub use suggest::{run_suggest, run_suggest_with, SuggestArgs};
pub use worker::{run_worker_cmd, WorkerArgs};

/// adstudio: CTR-driven advertising images from product photos.
#[derive(Debug, Parser)]
#[command(name = "adstudio", version, about)]
pub struct Cli {
    /// Where the store and images live (default: the platform's data dir).
    #[arg(long, global = true, env = "ADSTUDIO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The store: `postgres://user:password@host:port/db` for a shared
    /// PostgreSQL database, or an SQLite file path (default: the data
    /// dir's `adstudio.sqlite3`). Images stay in the data dir. The team's
    /// job queue (`worker`, `jobs`, `batch --queue`) lives in the
    /// PostgreSQL store.
    #[arg(long, global = true, env = "ADSTUDIO_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Compute device: auto, cpu, cuda[:N] or metal[:N] (GPUs need a build
    /// with `--features cuda` / `metal`; models compute in f16 there).
    #[arg(long, global = true, value_parser = crate::ml::DevicePreference::parse)]
    pub device: Option<crate::ml::DevicePreference>,
    /// What to do; without a subcommand the studio window opens.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    /// A product image to open in the studio.
    pub product: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Start the studio window (the default).
    Gui {
        /// A product image to open.
        product: Option<PathBuf>,
    },
    /// Mask and place a product on an ad canvas; write the canvas, inpaint
    /// mask and ControlNet edge image.
    Prepare(PrepareArgs),
    /// Render ad variants of a product with Stable Diffusion (+ ControlNet)
    /// and write them as PNGs with their parameters.
    Render(RenderArgs),
    /// Measure model speed on this machine and print a table.
    Bench(BenchArgs),
    /// The CTR reward model: synthesise, import click logs, train,
    /// evaluate, score images.
    Rm(RmArgs),
    /// Background ideas for a product from the prompt model.
    Suggest(SuggestArgs),
    /// The model registry: which model each role uses, or what is missing.
    Models(ModelsArgs),
    /// Preference labels: statistics and agreement, TRL/CAIG export and
    /// import.
    Prefs(PrefsArgs),
    /// Label A-vs-B pairs headless (answers from a file, stdin or a seeded
    /// random labeler), through the studio's labelling path.
    Label(LabelArgs),
    /// PCPO fine-tuning of the prompt model on the stored preferences.
    Pcpo(PcpoArgs),
    /// A whole catalog: per product suggestions, seeded renders, reward-model
    /// ranking; the winners, `winners.csv` and `index.html` in `--out`
    /// (resumable: a rerun skips finished work).
    Batch(BatchArgs),
    /// Experiments that reproduce the method's published effects
    /// (`pcpo-vs-dpo`).
    Experiment(ExperimentArgs),
    /// Export each product's winners (renders ranked by their stored
    /// reward scores) at ad-platform sizes, the product composited from
    /// its original photo at the export size.
    Export(ExportArgs),
    /// A headless worker: takes catalog-batch jobs from the team's queue
    /// (`--store postgres://...`) until stopped.
    Worker(WorkerArgs),
    /// The team's job queue: list, cancel, retry.
    Jobs(JobsArgs),
}

/// The `--aspect` parser shared by the commands that place a product.
fn parse_aspect(s: &str) -> Result<crate::product::AspectPreset, String> {
    use crate::product::AspectPreset;
    AspectPreset::parse(s).ok_or_else(|| {
        let known: Vec<&str> = AspectPreset::ALL.iter().map(|a| a.label()).collect();
        format!("unknown aspect {s:?}; use one of {}", known.join(", "))
    })
}
