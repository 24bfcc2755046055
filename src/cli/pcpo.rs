//! `adstudio pcpo train`: offline PCPO fine-tune of the prompt model on the
//! stored preference labels, with a held-out share of products for
//! validation; prints per epoch the loss, preference accuracy and reward
//! margin, and saves the LoRA adapter as safetensors in the data folder's
//! `adapters/` with its provenance in the store; `adapters` lists them and
//! `export` merges one into its base model as a Hugging Face folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::pcpo_adapters::{run_export, run_list, PcpoExportArgs};
use super::pcpo_online::{run_online_cmd, PcpoOnlineArgs};
use serde_json::{json, Value};

use crate::ml::pcpo::{
    BaseModel, EpochMetrics, PcpoConfig, PcpoTrainer, TrainControl, TrainEvent, TrainingSet,
};
use crate::paths::DataDir;
use crate::prefs::{text_pairs, TextPair};
use crate::store::{ImageStore, ProductId, Store};
use crate::studio::adapter_record::{
    adapter_name, epoch_metrics, PairText, RunRecord, ADAPTERS_DIR,
};
use crate::studio::pcpo_data::{image_hashes, product_images, ProductImages};
use crate::studio::pcpo_model::PcpoModel;

/// Fewest training pairs a run accepts.
pub const MIN_TRAIN_PAIRS: usize = 2;

/// Arguments of `adstudio pcpo`.
#[derive(Debug, Clone, Args)]
pub struct PcpoArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PcpoCommand,
}

/// `adstudio pcpo` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum PcpoCommand {
    /// Fine-tune LoRA adapters with PCPO on the stored preference labels.
    Train(PcpoTrainArgs),
    /// List the stored adapters.
    Adapters,
    /// Merge an adapter into its base model and write a Hugging Face folder.
    Export(PcpoExportArgs),
    /// Online rounds: the policy suggests, renders are made, the reward
    /// model picks, one epoch of training; repeated.
    Online(PcpoOnlineArgs),
}

/// Arguments of `adstudio pcpo train`.
#[derive(Debug, Clone, Args)]
pub struct PcpoTrainArgs {
    /// The prompt model: a .gguf file (dequantised to f32), a model folder,
    /// or a LLaVA folder (it then trains on the products' images from the
    /// store; LoRA on its language decoder only).
    #[arg(long)]
    pub model: PathBuf,
    /// Also write the adapter file here (it is always saved as
    /// `<data>/adapters/<name>.safetensors`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Name of the adapter in the store (default: `pcpo-<unix time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Pairs per update.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Peak learning rate (linear warm-up over 10% of the updates, then cosine decay).
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// b of the DPO and PCPO losses.
    #[arg(long, default_value_t = 0.5)]
    pub beta: f64,
    /// Weight w of the PCPO term (0 = plain DPO).
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
    /// Share of the products (with all their pairs) held out for validation.
    #[arg(long, default_value_t = 0.2)]
    pub valid_share: f64,
    /// Seed of the split, the adapters' initialisation, shuffles and corruptions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Checkpoint written after every epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from --checkpoint (same settings required).
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Also train on labels given by models (the reward model's picks).
    #[arg(long)]
    pub with_model_labels: bool,
    /// LoRA rank.
    #[arg(long, default_value_t = 8)]
    pub rank: usize,
    /// LoRA alpha (updates are scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0)]
    pub alpha: f64,
    /// Projections given adapters, comma-separated (q_proj, k_proj, v_proj,
    /// o_proj, gate_proj, up_proj, down_proj).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "q_proj,k_proj,v_proj,o_proj"
    )]
    pub targets: Vec<String>,
}

/// Runs `adstudio pcpo`.
pub fn run_pcpo(args: &PcpoArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    match &args.command {
        PcpoCommand::Train(a) => run_train(a, data_dir),
        PcpoCommand::Adapters => run_list(data_dir),
        PcpoCommand::Export(a) => run_export(a, data_dir),
        PcpoCommand::Online(a) => run_online_cmd(a, data_dir),
    }
}

/// The data directory and its store.
pub(super) fn open_store(data_dir: Option<PathBuf>) -> anyhow::Result<(DataDir, Store)> {
    let data_dir = DataDir::resolve(data_dir).context("finding the data directory")?;
    let location = data_dir.store_location();
    let store = Store::open_location(&location).with_context(|| format!("opening {location}"))?;
    Ok((data_dir, store))
}

/// Products held out for validation: `ceil(share * n)` of the `n` products,
/// drawn with `seed`, at most `n - 1`.
fn held_out(products: &BTreeSet<ProductId>, share: f64, seed: u64) -> BTreeSet<ProductId> {
    let mut all: Vec<ProductId> = products.iter().copied().collect();
    all.shuffle(&mut StdRng::seed_from_u64(seed));
    let n = ((share * all.len() as f64).ceil() as usize).min(all.len().saturating_sub(1));
    all.into_iter().take(n).collect()
}

fn config_for(a: &PcpoTrainArgs, model: &PcpoModel) -> PcpoConfig {
    PcpoConfig {
        beta: a.beta,
        weight: a.weight,
        learning_rate: a.lr,
        epochs: a.epochs,
        batch_size: a.batch_size,
        seed: a.seed,
        lora_rank: a.rank,
        lora_alpha: a.alpha,
        lora_targets: a.targets.clone(),
        mask_token_id: model.mask_token_id(),
        ..PcpoConfig::default()
    }
}

/// The run's hyper-parameters, as stored with the adapter (`condition`:
/// `image+text` for a LLaVA model, else `text`).
fn hyper_parameters(a: &PcpoTrainArgs, multimodal: bool) -> Value {
    json!({
        "condition": if multimodal { "image+text" } else { "text" },
        "rank": a.rank,
        "alpha": a.alpha,
        "targets": a.targets,
        "epochs": a.epochs,
        "lr": a.lr,
        "beta": a.beta,
        "weight": a.weight,
        "batch_size": a.batch_size,
        "seed": a.seed,
        "valid_share": a.valid_share,
        "with_model_labels": a.with_model_labels,
    })
}

fn texts<'a>(pairs: &[&'a TextPair]) -> Vec<PairText<'a>> {
    pairs.iter().map(|p| PairText::of(p)).collect()
}

fn metrics_line(m: &EpochMetrics) -> String {
    format!(
        "loss {:.4} acc {:.3} margin {:+.4} ({} pairs)",
        m.loss, m.accuracy, m.reward_margin, m.pairs
    )
}

fn load_pairs(a: &PcpoTrainArgs, store: &Store) -> anyhow::Result<Vec<TextPair>> {
    let found = text_pairs(store, a.with_model_labels).context("reading the preference labels")?;
    for (label, problem) in &found.problems {
        eprintln!("label {label} left out: {problem}");
    }
    println!(
        "{} usable pairs ({} labels left out on purpose, {} with problems)",
        found.pairs.len(),
        found.skipped,
        found.problems.len()
    );
    Ok(found.pairs)
}

fn run_train(a: &PcpoTrainArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    if !(0.0..1.0).contains(&a.valid_share) {
        bail!("--valid-share must be in [0, 1), not {}", a.valid_share);
    }
    let (data, store) = open_store(data_dir)?;
    let name = adapter_name(&store, a.name.as_deref())?;
    let pairs = load_pairs(a, &store)?;
    let products: BTreeSet<ProductId> = pairs.iter().map(|p| p.product).collect();
    let held = held_out(&products, a.valid_share, a.seed);
    let (valid, train): (Vec<&TextPair>, Vec<&TextPair>) =
        pairs.iter().partition(|p| held.contains(&p.product));
    if train.len() < MIN_TRAIN_PAIRS {
        bail!(
            "too few pairs to train: {} training pair(s) after holding out {} product(s); at least {MIN_TRAIN_PAIRS} needed (label more A/B pairs)",
            train.len(),
            held.len()
        );
    }
    println!(
        "products: {} train, {} validation; pairs: {} train, {} validation",
        products.len() - held.len(),
        held.len(),
        train.len(),
        valid.len()
    );
    let base = BaseModel::of(&a.model)
        .with_context(|| format!("hashing the base model {}", a.model.display()))?;
    let model = PcpoModel::load(&a.model)?;
    let images = if model.is_multimodal() {
        let store_images = ImageStore::new(data.images_dir());
        product_images(&store, &store_images, products.iter().copied())?
    } else {
        ProductImages::new()
    };
    let (train_text, valid_text) = (texts(&train), texts(&valid));
    let train_set = model.encode(&train_text, &images)?;
    let valid_set = if valid.is_empty() {
        None
    } else {
        Some(model.encode(&valid_text, &images)?)
    };
    let mut trainer = make_trainer(a, &model)?;
    train_loop(&mut trainer, &train_set, valid_set.as_ref(), a)?;
    let record = RunRecord {
        kind: "pcpo",
        hyper_parameters: hyper_parameters(a, model.is_multimodal()),
        base: &base,
        train: &train_text,
        valid: &valid_text,
        metrics: epoch_metrics(trainer.history()),
        name: &name,
        adapter_file: &format!("{ADAPTERS_DIR}/{name}.safetensors"),
        online: None,
        images: if model.is_multimodal() {
            Some(image_hashes(&store, &images)?)
        } else {
            None
        },
    };
    save_and_record(&trainer, &record, a.out.as_deref(), &data, &store)
}

/// Fresh adapters, or the run of `--checkpoint` resumed with `--resume`.
fn make_trainer(a: &PcpoTrainArgs, model: &PcpoModel) -> anyhow::Result<PcpoTrainer> {
    let config = config_for(a, model);
    match (&a.checkpoint, a.resume) {
        (Some(ck), true) => {
            let t = model
                .trainer(config, |d, c| PcpoTrainer::resume(d, c, ck))
                .with_context(|| format!("resuming from {}", ck.display()))?;
            println!("resumed after epoch {} of {}", t.epochs_done(), a.epochs);
            Ok(t)
        }
        _ => model
            .trainer(config, PcpoTrainer::new)
            .context("attaching the LoRA adapters"),
    }
}

/// Saves the adapter into the data directory (and to `--out`), then records
/// it in the store; the data-directory copy is removed if recording fails.
fn save_and_record(
    trainer: &PcpoTrainer,
    record: &RunRecord<'_>,
    out: Option<&Path>,
    data: &DataDir,
    store: &Store,
) -> anyhow::Result<()> {
    let in_data = data.root().join(record.adapter_file);
    let mut targets = vec![in_data.clone()];
    targets.extend(out.map(Path::to_path_buf));
    for path in &targets {
        trainer
            .save_adapter(path)
            .with_context(|| format!("saving the adapter to {}", path.display()))?;
        println!("adapter saved to {}", path.display());
    }
    let id = record.store(store).inspect_err(|_| {
        let _ = std::fs::remove_file(&in_data);
    })?;
    println!(
        "adapter {id} {:?} recorded (base {} sha256 {})",
        record.name,
        record.base.id,
        record.base.short_hash(12)
    );
    Ok(())
}

fn train_loop(
    trainer: &mut PcpoTrainer,
    train: &TrainingSet,
    valid: Option<&TrainingSet>,
    a: &PcpoTrainArgs,
) -> anyhow::Result<()> {
    let control = TrainControl {
        cancel: None,
        checkpoint: a.checkpoint.as_deref().map(Path::new),
    };
    let epochs = a.epochs;
    trainer
        .train(train, valid, control, &mut |event| {
            if let TrainEvent::Epoch(r) = event {
                let valid = r
                    .validation
                    .as_ref()
                    .map(|v| format!(" | valid {}", metrics_line(v)))
                    .unwrap_or_default();
                println!(
                    "epoch {}/{epochs}: train {}{valid} [{:.1} s]",
                    r.epoch,
                    metrics_line(&r.train),
                    r.seconds
                );
            }
        })
        .context("training")?;
    Ok(())
}
