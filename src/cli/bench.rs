//! `adstudio bench`: model timings on this machine, printed as a table.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::bench_batch::bench_batch;
use super::bench_diffusion::{bench_diffusion_ops, bench_diffusion_table, DiffusionBenchOptions};
use super::bench_draft::bench_draft_table;
use super::bench_models::{write_models, DiffusionArgs};
use super::bench_pcpo::bench_pcpo_table;
use super::bench_prompt::bench_prompt_table;
use super::bench_queue::{bench_queue, bench_queue_child, QueueBenchOptions};
use super::bench_reward::bench_reward_table;
use super::bench_suggest::{bench_suggestions, SuggestBenchOptions};
use super::bench_ui::{bench_ui, UiBenchOptions};
use crate::ml::prompt_model::GgufPrecision;
use crate::ml::saliency::{bench_saliency, SaliencyBenchOptions, SaliencyModel};
use crate::studio::{registry_for, ModelRole};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchTarget {
    /// One U²-Net-p mask at 320x320.
    Saliency,
    /// SD 1.5 UNet / ControlNet CFG step and VAE encode/decode (random
    /// weights, real architectures).
    Diffusion,
    /// Prompt model (GGUF) prompt-processing and generation tokens/s,
    /// quantised and f32.
    PromptModel,
    /// Reward model trained and evaluated on the synthetic click world.
    Reward,
    /// Background suggestions, raw model vs pipeline, on a titles file
    /// (`--titles`; matching rate, relevance, distinct, rejects, s/product).
    Suggestions,
    /// PCPO training throughput (pairs/s) and peak memory on a prompt
    /// model loaded as f32 (`--model`, `--pairs`, `--batch`).
    Pcpo,
    /// A catalog batch (`--catalog`) on a scratch store with the data
    /// dir's models: per product, time in model forwards (suggest,
    /// diffusion, reward) against the pipeline's own overhead.
    Batch,
    /// Click to the first complete draft image (`--size`, default 512):
    /// canvas and canny, text encoding, TAESD encode, 4 LCM steps of the
    /// UNet and ControlNet with a rank-64 LoRA merged, TAESD decode
    /// (random weights, real architectures).
    Draft,
    /// The studio's UI frame times (p50/p90/p99/max), headless, idle and
    /// while renders run on the model worker (tiny random models on a
    /// scratch data dir; `--frames`, `--steps`, `--short-side`).
    Ui,
    /// The team queue (`--store postgres://...`): no-op jobs per second
    /// with 1 and 8 worker processes (`--jobs`, `--workers`), and its
    /// overhead per render job.
    Queue,
}

/// Arguments of `adstudio bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub target: BenchTarget,
    /// Timed runs (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Untimed warm-up runs.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// The model file, where the target needs one (saliency: u2netp.onnx,
    /// prompt-model: a .gguf file).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Image side in pixels for `diffusion` (256 or 512) and `draft`.
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    /// Products of the synthetic world for `reward` (default 640).
    #[arg(long)]
    pub products: Option<usize>,
    /// Training epochs for `reward` (default 12).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// `diffusion` only: time the hot operations (attention, GroupNorm,
    /// SiLU, 3x3 convolution) at SD 1.5 shapes instead of whole models.
    #[arg(long)]
    pub ops: bool,
    /// Run only these rows (comma-separated). `diffusion`: among `unet`,
    /// `unet+controlnet`, `vae encode`, `vae decode`; with `--ops`, among
    /// `norm`, `geglu`, `conv`, `attention`. `suggestions`: among `raw`,
    /// `pipeline`. Default all.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// `diffusion` and `draft`: after the timed runs, run each row (the
    /// draft: one click to image) once more with per-layer timing and
    /// print where the time goes.
    #[arg(long)]
    pub profile: bool,
    /// `diffusion` only: model folders, weights at rest, kernels.
    #[command(flatten)]
    pub diffusion: DiffusionArgs,
    /// `suggestions` only: the titles file (TSV `split category title`, or
    /// one title per line).
    #[arg(long)]
    pub titles: Option<PathBuf>,
    /// `suggestions` and `batch`: suggestions per product.
    #[arg(long, default_value_t = 4)]
    pub n: usize,
    /// `suggestions` only: write every suggestion to this TSV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// `suggestions` only: sampling temperature (default: the studio's).
    #[arg(long)]
    pub temperature: Option<f64>,
    /// `suggestions` only: how a GGUF prompt model's linear layers are held
    /// (`auto` as the studio does: f32 for models up to 1 GiB dequantised;
    /// `quantized` as stored; `f32`).
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
    /// `pcpo` only: preference pairs trained on (one epoch).
    #[arg(long, default_value_t = 8)]
    pub pairs: usize,
    /// `pcpo` only: pairs per mini-batch.
    #[arg(long, default_value_t = 2)]
    pub batch: usize,
    /// `batch` only: the catalog (CSV or JSONL, as `adstudio batch`).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// `batch` and `ui`: denoising steps per render.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// `batch` and `ui`: canvas short side in pixels (default: the
    /// studio's for `batch`, 128 for `ui`).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// `ui` only: frames measured in each phase (idle, render running).
    #[arg(long, default_value_t = 300)]
    pub frames: usize,
    /// `batch` only: most new tokens per suggestion.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// `queue` only: no-op jobs per row.
    #[arg(long, default_value_t = 2000)]
    pub jobs: usize,
    /// `queue` only: worker processes, one row each.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 8])]
    pub workers: Vec<usize>,
    /// `queue` internal: run as one of the benchmark's worker processes.
    #[arg(long, hide = true, value_name = "NAME")]
    pub queue_child: Option<String>,
}

/// The `--precision` values of `bench suggestions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// As the studio loads it.
    Auto,
    /// Linear layers stay quantised.
    Quantized,
    /// Everything dequantised to f32.
    F32,
}

impl From<PrecisionArg> for GgufPrecision {
    fn from(p: PrecisionArg) -> GgufPrecision {
        match p {
            PrecisionArg::Auto => GgufPrecision::Auto,
            PrecisionArg::Quantized => GgufPrecision::Quantized,
            PrecisionArg::F32 => GgufPrecision::F32,
        }
    }
}

/// Runs the benchmark and prints its table (`data_dir`: where `batch`
/// finds its models; `store`: the `--store`, which `queue` needs).
pub fn run_bench(
    args: &BenchArgs,
    data_dir: Option<PathBuf>,
    store: Option<&str>,
) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Queue => {
            let url = store
                .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
                .context("`bench queue` needs the team's store: --store postgres://...")?;
            match &args.queue_child {
                Some(name) => bench_queue_child(url, name),
                None => bench_queue(&QueueBenchOptions {
                    url: url.to_string(),
                    jobs: args.jobs,
                    workers: args.workers.clone(),
                }),
            }
        }
        BenchTarget::Batch => bench_batch(args, data_dir),
        BenchTarget::Draft => bench_draft_table(
            u32::try_from(args.size).context("--size is too large")?,
            args.runs,
            args.warmup,
            args.diffusion.bf16.into(),
            args.diffusion.weights.into(),
            args.profile,
        ),
        BenchTarget::Ui => bench_ui(&UiBenchOptions {
            frames: args.frames,
            steps: args.steps,
            short_side: args.short_side.unwrap_or(128),
        }),
        BenchTarget::Saliency => bench_saliency_table(args),
        BenchTarget::Diffusion if args.diffusion.write_models.is_some() => {
            write_models(&args.diffusion)
        }
        BenchTarget::Diffusion if args.ops => {
            bench_diffusion_ops(args.runs, args.warmup, &args.only)
        }
        BenchTarget::Diffusion => bench_diffusion_table(&DiffusionBenchOptions {
            size: args.size,
            runs: args.runs,
            warmup: args.warmup,
            only: args.only.clone(),
            profile: args.profile,
            weights: args.diffusion.weights.into(),
            kernels: args.diffusion.kernels.into(),
            bf16: args.diffusion.bf16.into(),
        }),
        BenchTarget::PromptModel => bench_prompt_table(args.model.as_deref(), args.runs),
        BenchTarget::Reward => bench_reward_table(args.products, args.epochs),
        BenchTarget::Pcpo => {
            let model = registry_for(None)
                .with_explicit(ModelRole::PromptModel, args.model.as_deref())
                .locate(ModelRole::PromptModel)?
                .path;
            bench_pcpo_table(&model, args.pairs, args.batch)
        }
        BenchTarget::Suggestions => bench_suggestions(&SuggestBenchOptions {
            titles: args
                .titles
                .clone()
                .context("`bench suggestions` needs --titles FILE")?,
            model: args.model.clone(),
            n: args.n,
            out: args.out.clone(),
            temperature: args.temperature,
            only: args.only.clone(),
            precision: args.precision.into(),
        }),
    }
}

fn bench_saliency_table(args: &BenchArgs) -> anyhow::Result<()> {
    let path = registry_for(None)
        .with_explicit(ModelRole::U2netp, args.model.as_deref())
        .locate(ModelRole::U2netp)
        .context("U2-Net-p for the benchmark (or pass --model)")?
        .path;
    let device = candle_core::Device::Cpu;
    let model = SaliencyModel::load(&path, &device)
        .with_context(|| format!("loading {}", path.display()))?;
    let result = bench_saliency(
        &model,
        SaliencyBenchOptions {
            runs: args.runs,
            warmup: args.warmup,
        },
    )?;
    println!(
        "{}: {} runs (median) after {} warm-up",
        path.display(),
        result.runs,
        args.warmup
    );
    println!("| benchmark | device | threads | runs | median s | min s | max s |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| U²-Net-p mask 320x320 | CPU | {} | {} | {:.3} | {:.3} | {:.3} |",
        candle_core::utils::get_num_threads(),
        result.runs,
        result.median.as_secs_f64(),
        result.min.as_secs_f64(),
        result.max.as_secs_f64()
    );
    Ok(())
}
