//! `adstudio rm`: the reward model on click logs: synthesise, import,
//! train, evaluate, score.

mod data;
mod eval;
mod import;
mod score;
mod synth;
mod train;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

pub use data::{PairingOptions, SplitPairs, StoredCreatives};
pub use eval::{evaluate_reward_model, RmEvalReport};
pub use import::{import_click_file, ImportReport, ReportLine};
pub use score::{score_images, score_with, ScoreReport};
pub use synth::{write_synthetic_world, SynthOptions, SynthReport};
pub use train::{epoch_line, train_reward_model, RmTrainOptions, RmTrainOutcome, REWARD_RUN_KIND};

use crate::ml::reward::compact::CompactConfig;
use crate::paths::DataDir;
use crate::store::{ImageStore, Store};

/// Arguments of `adstudio rm`.
#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RmCommand,
}

/// Pair selection flags shared by `train` and `eval`.
#[derive(Debug, Clone, Args)]
pub struct PairingArgs {
    /// Both creatives of a pair need more impressions than this.
    #[arg(long)]
    pub min_impressions: Option<u64>,
    /// Keep only pairs whose CTR ratio (higher/lower) is in LO,HI (e.g. 1.05,1.20).
    #[arg(long, value_parser = parse_band)]
    pub band: Option<(f64, f64)>,
    /// Fraction of products held out for validation.
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// Seed of the by-product split.
    #[arg(long)]
    pub split_seed: Option<u64>,
}

impl PairingArgs {
    fn any(&self) -> bool {
        self.min_impressions.is_some()
            || self.band.is_some()
            || self.val_fraction.is_some()
            || self.split_seed.is_some()
    }

    /// These flags over `base`.
    fn over(&self, base: PairingOptions) -> PairingOptions {
        PairingOptions {
            min_impressions: self.min_impressions.unwrap_or(base.min_impressions),
            band: self.band.or(base.band),
            validation_fraction: self.val_fraction.unwrap_or(base.validation_fraction),
            split_seed: self.split_seed.unwrap_or(base.split_seed),
        }
    }
}

fn parse_band(text: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = text
        .split_once(',')
        .ok_or_else(|| format!("expected LO,HI (e.g. 1.05,1.20), got {text:?}"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|e| format!("{s:?} is not a number: {e}"))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if !(lo >= 1.0 && hi >= lo) {
        return Err(format!("the band needs 1 <= LO <= HI, got {lo},{hi}"));
    }
    Ok((lo, hi))
}

/// `adstudio rm` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum RmCommand {
    /// Import a CSV or JSONL click log (creative_id, product_id, image_path,
    /// impressions, clicks) into the store; prints every rejected row.
    Import {
        /// The click-log file.
        file: PathBuf,
    },
    /// Train the compact reward model on the imported creatives.
    Train {
        /// Total epochs.
        #[arg(long, default_value_t = 10)]
        epochs: usize,
        /// Peak learning rate (AdamW).
        #[arg(long, default_value_t = 2e-3)]
        lr: f64,
        /// Products per mini-batch.
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Seed of the initial weights and batch order.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Pair selection and split.
        #[command(flatten)]
        pairing: PairingArgs,
        /// Checkpoint written after every epoch.
        #[arg(long, default_value = "reward.safetensors")]
        out: PathBuf,
        /// Continue from this checkpoint.
        #[arg(long)]
        resume: Option<PathBuf>,
    },
    /// Held-out pairwise accuracy of a checkpoint (95% CI, brightness baseline).
    Eval {
        /// The checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Pair selection and split (default: as saved by `rm train`).
        #[command(flatten)]
        pairing: PairingArgs,
    },
    /// Score images against each other: win probabilities, ranking, CTR.
    Score {
        /// The checkpoint (default: the `reward-model` role:
        /// `ADSTUDIO_REWARD_MODEL`, `<data dir>/models/reward-model`,
        /// `./models/reward-model`).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Two or more images.
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Write a synthetic click-log world (images + clicks.csv) to import.
    Synth {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Number of products.
        #[arg(long, default_value_t = 100)]
        products: usize,
        /// Creatives per product.
        #[arg(long, default_value_t = 6)]
        creatives: usize,
        /// Image side in pixels.
        #[arg(long, default_value_t = 32)]
        size: u32,
        /// Seed of the world.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

fn open_store(data_dir: &DataDir) -> anyhow::Result<(Store, ImageStore)> {
    let location = data_dir.store_location();
    let store = Store::open_location(&location).with_context(|| format!("opening {location}"))?;
    Ok((store, ImageStore::new(data_dir.images_dir())))
}

/// Runs `adstudio rm`, printing reports to stdout and progress to stderr.
pub fn run_rm(args: &RmArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let resolve = || DataDir::resolve(data_dir.clone()).context("finding the data directory");
    match &args.command {
        RmCommand::Synth {
            out,
            products,
            creatives,
            size,
            seed,
        } => {
            let report = write_synthetic_world(&SynthOptions {
                out: out.clone(),
                products: *products,
                creatives_per_product: *creatives,
                image_size: *size,
                seed: *seed,
            })?;
            println!(
                "wrote {} images, {} and {}",
                report.images,
                report.click_log.display(),
                report.truth.display()
            );
        }
        RmCommand::Import { file } => {
            let (store, images) = open_store(&resolve()?)?;
            println!("{}", import_click_file(&store, &images, file)?);
        }
        RmCommand::Train {
            epochs,
            lr,
            batch,
            seed,
            pairing,
            out,
            resume,
        } => {
            let (store, images) = open_store(&resolve()?)?;
            let options = RmTrainOptions {
                pairing: pairing.over(PairingOptions::default()),
                epochs: *epochs,
                learning_rate: *lr,
                products_per_batch: *batch,
                seed: *seed,
                out: out.clone(),
                resume: resume.clone(),
                model: CompactConfig::default(),
            };
            let outcome = train_reward_model(&store, &images, &options, |r| {
                println!("{}", epoch_line(r));
            })?;
            println!(
                "train: {} products, {} pairs; validation: {} products, {} pairs; checkpoint {}",
                outcome.train_products,
                outcome.train_pairs,
                outcome.val_products,
                outcome.val_pairs,
                outcome.checkpoint.display()
            );
        }
        RmCommand::Eval {
            checkpoint,
            pairing,
        } => {
            let (store, images) = open_store(&resolve()?)?;
            let pairing = if pairing.any() {
                let base = PairingOptions::load_for(checkpoint)?.unwrap_or_default();
                Some(pairing.over(base))
            } else {
                None
            };
            println!(
                "{}",
                evaluate_reward_model(&store, &images, checkpoint, pairing)?
            );
        }
        RmCommand::Score { checkpoint, images } => {
            let data = DataDir::resolve(data_dir.clone()).ok();
            let registry = crate::studio::registry_for(data.as_ref())
                .with_explicit(crate::studio::ModelRole::RewardModel, checkpoint.as_deref());
            print!("{}", score_with(registry, images)?);
        }
    }
    Ok(())
}
