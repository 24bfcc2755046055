//! The policy under online training: the prompt model's decoder (dense
//! f32; for a LLaVA model its language decoder, conditioned on the
//! products' images through the frozen vision tower) with LoRA adapters,
//! trained one epoch per round, and the adapter saved after each round with
//! its provenance. The suggestions of the next round come from that saved
//! adapter, through the hub's prompt model, exactly as the studio applies
//! an adapter.

use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use serde_json::{json, Value};

use crate::jobs::Reporter;
use crate::ml::pcpo::{read_adapter, BaseModel, EpochReport, PcpoConfig, PcpoTrainer};
use crate::store::AdapterId;

use super::super::adapter_record::{
    check_free, check_name, default_name, epoch_metrics, PairText, RunRecord, ADAPTERS_DIR,
};
use super::super::adapters::{active_adapter, ActiveAdapter};
use super::super::pcpo_data::{image_hashes, product_images, ProductImages};
use super::super::pcpo_model::PcpoModel;
use super::super::progress::Progress;
use super::super::registry::ModelRole;
use super::super::Studio;
use super::round::RoundPair;
use super::{OnlineJob, OnlineSettings, RoundReport};

/// The trained policy and the adapter its suggestions come from.
pub struct Policy {
    trainer: PcpoTrainer,
    model: PcpoModel,
    images: ProductImages,
    base: BaseModel,
    current: Option<ActiveAdapter>,
    stem: String,
    start: Option<String>,
    reports: Vec<RoundReport>,
}

/// The trainer's settings for `s`.
fn config_for(s: &OnlineSettings, model: &PcpoModel) -> PcpoConfig {
    PcpoConfig {
        beta: s.beta,
        weight: s.weight,
        learning_rate: s.lr,
        epochs: s.rounds.max(1),
        batch_size: s.batch_size,
        seed: s.seed,
        lora_rank: s.rank,
        lora_alpha: s.alpha,
        lora_targets: s.targets.clone(),
        mask_token_id: model.mask_token_id(),
        ..PcpoConfig::default()
    }
}

/// The adapters' name stem: `requested` or `online-<unix time>`; every
/// round's name (`<stem>-r<round>`) must be free.
fn stem_for(studio: &Studio, requested: Option<&str>, rounds: usize) -> anyhow::Result<String> {
    let stem = match requested {
        Some(s) => {
            check_name(s)?;
            s.to_string()
        }
        None => default_name(&studio.store, "online")?,
    };
    for r in 1..=rounds {
        check_free(&studio.store, &round_name(&stem, r))?;
    }
    Ok(stem)
}

/// The adapter name of round `r`.
pub fn round_name(stem: &str, r: usize) -> String {
    format!("{stem}-r{r}")
}

impl Policy {
    /// Loads the hub's prompt model (dequantised to f32; a LLaVA model with
    /// the job's product images from the store) and attaches fresh
    /// adapters, or the job's starting adapter (its own LoRA settings;
    /// refused when made for another base model).
    pub fn start(studio: &Studio, job: &OnlineJob) -> anyhow::Result<Self> {
        let s = &job.settings;
        let stem = stem_for(studio, job.name.as_deref(), s.rounds)?;
        let located = studio.models.locate(ModelRole::PromptModel)?;
        let base = BaseModel::of(&located.path)
            .with_context(|| format!("hashing the prompt model {}", located.path.display()))?;
        let model = PcpoModel::load(&located.path)?;
        let images = if model.is_multimodal() {
            product_images(&studio.store, &studio.images, job.products.iter().copied())?
        } else {
            ProductImages::new()
        };
        let mut config = config_for(s, &model);
        let (trainer, current) = match &job.start {
            None => (model.trainer(config, PcpoTrainer::new)?, None),
            Some(name) => {
                let active = active_adapter(&studio.store, &job.data_root, name)?;
                active.recorded.check(&base)?;
                let (tensors, saved) = read_adapter(&active.path, model.decoder().device())
                    .with_context(|| format!("reading adapter {name:?}"))?;
                config.lora_rank = saved.lora_rank;
                config.lora_alpha = saved.lora_alpha;
                config.lora_targets = saved.lora_targets;
                let trainer = model
                    .trainer(config, |d, c| PcpoTrainer::from_adapter(d, c, &tensors))
                    .with_context(|| format!("starting from adapter {name:?}"))?;
                (trainer, Some(active))
            }
        };
        Ok(Self {
            trainer,
            model,
            images,
            base,
            current,
            stem,
            start: job.start.clone(),
            reports: Vec::new(),
        })
    }

    /// The adapter the policy's suggestions come from now (`None`: the
    /// base model).
    pub fn current_adapter(&self) -> Option<&ActiveAdapter> {
        self.current.as_ref()
    }

    /// The adapters' name stem.
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// Mean seconds per pair of one training update, measured on one
    /// evaluation of `pairs` (forward passes only, doubled for the
    /// backward pass).
    pub fn time_pairs(&mut self, pairs: &[RoundPair]) -> anyhow::Result<f64> {
        let set = self.model.encode(&texts(pairs), &self.images)?;
        let t = std::time::Instant::now();
        self.trainer.evaluate(&set)?;
        Ok(2.0 * t.elapsed().as_secs_f64() / pairs.len().max(1) as f64)
    }

    /// One epoch on the round's pairs; `None` when cancelled (the adapters
    /// stay as the last round left them).
    pub fn train_round(
        &mut self,
        rep: &dyn Reporter<Progress>,
        pairs: &[RoundPair],
    ) -> anyhow::Result<Option<EpochReport>> {
        let set = self.model.encode(&texts(pairs), &self.images)?;
        let flag = rep.cancel_token().shared_flag();
        let cancel: &AtomicBool = &flag;
        self.trainer
            .train_one_epoch(&set, Some(cancel), &mut |_| {})
            .context("training")
    }

    /// Saves the adapter of round `r` under the data directory and records
    /// it (with its training run) in the store; the next suggestions come
    /// from it.
    pub fn save_round(
        &mut self,
        studio: &Studio,
        job: &OnlineJob,
        r: usize,
        pairs: &[RoundPair],
        report: &RoundReport,
    ) -> anyhow::Result<(AdapterId, String)> {
        let name = round_name(&self.stem, r);
        let file = format!("{ADAPTERS_DIR}/{name}.safetensors");
        let path = job.data_root.join(&file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        self.trainer
            .save_adapter(&path)
            .with_context(|| format!("saving the adapter to {}", path.display()))?;
        let mut reports = self.reports.clone();
        reports.push(report.clone());
        let mut metrics = epoch_metrics(self.trainer.history());
        if let Some(map) = metrics.as_object_mut() {
            map.insert("rounds".into(), serde_json::to_value(&reports)?);
        }
        let texts = texts(pairs);
        let record = RunRecord {
            kind: "pcpo-online",
            hyper_parameters: serde_json::to_value(&job.settings)?,
            base: &self.base,
            train: &texts,
            valid: &[],
            metrics,
            name: &name,
            adapter_file: &file,
            online: Some(self.provenance(job, r, pairs)),
            images: if self.model.is_multimodal() {
                Some(image_hashes(&studio.store, &self.images)?)
            } else {
                None
            },
        };
        let id = record.store(&studio.store).inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
        self.current = Some(ActiveAdapter {
            id,
            name: name.clone(),
            path,
            recorded: self.base.clone(),
        });
        self.reports = reports;
        Ok((id, name))
    }

    fn provenance(&self, job: &OnlineJob, r: usize, pairs: &[RoundPair]) -> Value {
        let pairs: Vec<Value> = pairs
            .iter()
            .map(|p| {
                json!({
                    "product": p.product.0,
                    "chosen_render": p.renders[0].0,
                    "rejected_render": p.renders[1].0,
                    "p_chosen": p.p_chosen,
                })
            })
            .collect();
        json!({
            "round": r,
            "rounds": job.settings.rounds,
            "products": job.products.iter().map(|p| p.0).collect::<Vec<_>>(),
            "start_adapter": self.start,
            "suggested_by": self.current.as_ref().map(|a| a.name.clone()),
            "pairs": pairs,
        })
    }
}

fn texts(pairs: &[RoundPair]) -> Vec<PairText<'_>> {
    pairs
        .iter()
        .map(|p| PairText {
            product: p.product,
            title: &p.title,
            chosen: &p.chosen,
            rejected: &p.rejected,
        })
        .collect()
}
