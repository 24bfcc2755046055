//! The training loop: LoRA adapters on a [`Decoder`], AdamW with warm-up and
//! cosine decay, shuffled mini-batches, progress events, cancellation (the
//! last finished epoch is kept) and per-epoch checkpoints that resume to the
//! same weights as an uninterrupted run.
//!
//! Determinism: epoch `e` shuffles and corrupts with its own generator seeded
//! from `(seed, e)`, so a run resumed after epoch `e` draws exactly what the
//! uninterrupted run draws.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Tensor, Var};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::adamw::AdamW;
use super::checkpoint::{load_checkpoint, save_adapter, save_checkpoint, TrainState};
use super::config::PcpoConfig;
use super::data::TrainingSet;
use super::error::{PcpoError, Result};
use super::loss::{EpochMetrics, MetricSums};
use super::objective::{batch_objective_with, PairBatch};
use super::schedule::LrSchedule;
use super::vision::{FeatureCache, ImageEncoder};
use crate::ml::prompt_model::Decoder;

/// Figures of one finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Means over the epoch's training batches (before each update).
    pub train: EpochMetrics,
    /// Means over the validation pairs after the epoch, if any were given.
    pub validation: Option<EpochMetrics>,
    /// Wall time of the epoch, in seconds.
    pub seconds: f64,
}

/// What the loop reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// An update was made.
    Step {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based update within the epoch.
        step: usize,
        /// Updates per epoch.
        steps_per_epoch: usize,
        /// Learning rate used.
        lr: f64,
        /// Mini-batch loss before the update.
        loss: f64,
    },
    /// An epoch finished (and was checkpointed, if asked).
    Epoch(EpochReport),
}

/// Optional controls of a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrainControl<'a> {
    /// When set, the run stops before its next update and rolls back to the
    /// end of the last finished epoch.
    pub cancel: Option<&'a AtomicBool>,
    /// Checkpoint file written at the end of every epoch.
    pub checkpoint: Option<&'a Path>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// Epochs completed (counting those of a resumed checkpoint).
    pub epochs_done: usize,
    /// Whether the run was cancelled.
    pub cancelled: bool,
    /// Reports of every completed epoch.
    pub history: Vec<EpochReport>,
}

/// A decoder under PCPO training (with an image encoder for the
/// multimodal model).
#[derive(Debug)]
pub struct PcpoTrainer {
    decoder: Decoder,
    images: Option<Box<dyn ImageEncoder>>,
    config: PcpoConfig,
    optimizer: AdamW,
    epochs_done: usize,
    history: Vec<EpochReport>,
    trained_pairs: Option<usize>,
}

struct Snapshot {
    values: Vec<Tensor>,
    moments: HashMap<String, Tensor>,
    step: usize,
}

fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

const EVAL_SALT: u64 = 0x5EED_E7A1;

impl PcpoTrainer {
    /// Attaches fresh adapters (seeded, B = 0: the policy starts equal to the
    /// reference) to `decoder`, which must hold dense f32 weights.
    pub fn new(mut decoder: Decoder, config: PcpoConfig) -> Result<Self> {
        config.validate()?;
        decoder.remove_lora();
        let vars = decoder.attach_lora(&config.lora()?, config.seed)?;
        let optimizer = AdamW::new(vars, config.adamw)?;
        Ok(Self {
            decoder,
            images: None,
            config,
            optimizer,
            epochs_done: 0,
            history: Vec::new(),
            trained_pairs: None,
        })
    }

    /// Continues the run saved in `checkpoint`: its settings must equal
    /// `config`; adapters, optimiser moments, step count and history are
    /// restored.
    pub fn resume(decoder: Decoder, config: PcpoConfig, checkpoint: &Path) -> Result<Self> {
        let ck = load_checkpoint(checkpoint, decoder.device())?;
        let mismatch = |reason: String| PcpoError::Checkpoint {
            path: checkpoint.to_path_buf(),
            reason,
        };
        if ck.config != config {
            return Err(mismatch(format!(
                "it was made with other settings ({:?}) than this run ({:?})",
                ck.config, config
            )));
        }
        let mut trainer = Self::new(decoder, config)?;
        for (name, var) in trainer.optimizer.vars() {
            let saved = ck
                .adapters
                .get(name)
                .ok_or_else(|| mismatch(format!("no adapter `{name}`")))?;
            if saved.dims() != var.as_tensor().dims() {
                return Err(mismatch(format!(
                    "adapter `{name}` has shape {:?}",
                    saved.dims()
                )));
            }
            var.set(&saved.to_dtype(var.as_tensor().dtype())?)?;
        }
        trainer.optimizer.load_state(&ck.optimizer, ck.state.step)?;
        trainer.epochs_done = ck.state.epochs_done;
        trainer.history = ck.state.history;
        trainer.trained_pairs = Some(ck.state.pairs);
        Ok(trainer)
    }

    /// Attaches adapters like [`PcpoTrainer::new`], then gives them the
    /// values of a saved adapter (`tensors` as [`super::read_adapter`]
    /// returns them): the policy starts where that adapter ended. The
    /// optimiser starts fresh. Every adapter factor must be present with
    /// its shape.
    pub fn from_adapter(
        decoder: Decoder,
        config: PcpoConfig,
        tensors: &HashMap<String, Tensor>,
    ) -> Result<Self> {
        let trainer = Self::new(decoder, config)?;
        for (name, var) in trainer.optimizer.vars() {
            let saved = tensors.get(name).ok_or_else(|| {
                PcpoError::Data(format!("the starting adapter has no factor `{name}`"))
            })?;
            if saved.dims() != var.as_tensor().dims() {
                return Err(PcpoError::Data(format!(
                    "the starting adapter's `{name}` has shape {:?}, not {:?}",
                    saved.dims(),
                    var.as_tensor().dims()
                )));
            }
            var.set(&saved.to_dtype(var.as_tensor().dtype())?)?;
        }
        Ok(trainer)
    }

    /// Trains the multimodal model: the image tokens of a set with product
    /// images take `encoder`'s (frozen) features. Without it, such a set is
    /// refused.
    pub fn with_image_encoder(mut self, encoder: Box<dyn ImageEncoder>) -> Self {
        self.images = Some(encoder);
        self
    }

    /// The image encoder, if the trainer has one.
    pub fn image_encoder(&self) -> Option<&dyn ImageEncoder> {
        self.images.as_deref()
    }

    /// The decoder (adapters attached and enabled).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Gives the decoder back (adapters attached).
    pub fn into_decoder(self) -> Decoder {
        self.decoder
    }

    /// The run's settings.
    pub fn config(&self) -> &PcpoConfig {
        &self.config
    }

    /// The trainable adapter variables, by name.
    pub fn vars(&self) -> &[(String, Var)] {
        self.optimizer.vars()
    }

    /// The optimiser (moments and step count).
    pub fn optimizer(&self) -> &AdamW {
        &self.optimizer
    }

    /// Epochs completed so far.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Reports of the completed epochs.
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// Copies of the adapter factors, named `layers.{i}.{target}.A/B`.
    pub fn adapter_tensors(&self) -> Result<HashMap<String, Tensor>> {
        self.optimizer
            .vars()
            .iter()
            .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?)))
            .collect()
    }

    /// Writes the adapters (and the settings) to a safetensors file.
    pub fn save_adapter(&self, path: &Path) -> Result<()> {
        save_adapter(path, &self.config, &self.adapter_tensors()?)
    }

    /// Preference accuracy, reward margin and losses of the current policy
    /// on `set` (no update; corruptions drawn from a fixed seed).
    pub fn evaluate(&mut self, set: &TrainingSet) -> Result<EpochMetrics> {
        set.validate(1)?;
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ EVAL_SALT);
        let indices: Vec<usize> = (0..set.pairs.len()).collect();
        let mut sums = MetricSums::default();
        let mut cache = feature_cache(self.images.as_deref(), set)?;
        for chunk in indices.chunks(self.config.batch_size) {
            let batch = PairBatch::build(set, chunk, self.config.mask_token_id, &mut rng)?;
            let c = &self.config;
            let obj = batch_objective_with(
                &mut self.decoder,
                &batch,
                cache.as_mut(),
                (c.beta, c.weight),
                c.pad_token_id,
            )?;
            sums.add(&obj.metrics);
        }
        Ok(sums.finish())
    }

    fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            values: self
                .optimizer
                .vars()
                .iter()
                .map(|(_, v)| v.as_tensor().copy())
                .collect::<candle_core::Result<_>>()?,
            moments: self.optimizer.state_tensors()?,
            step: self.optimizer.step_count(),
        })
    }

    fn restore(&mut self, snap: &Snapshot) -> Result<()> {
        for ((_, var), value) in self.optimizer.vars().iter().zip(&snap.values) {
            var.set(value)?;
        }
        self.optimizer.load_state(&snap.moments, snap.step)
    }

    /// Trains until `config.epochs` epochs are done (or cancelled), reporting
    /// to `on_event`; with `validation`, each epoch ends with an evaluation.
    pub fn train(
        &mut self,
        data: &TrainingSet,
        validation: Option<&TrainingSet>,
        control: TrainControl<'_>,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<TrainOutcome> {
        self.train_until(self.config.epochs, data, validation, control, on_event)
    }

    /// Like [`train`](Self::train) but stops once `until` epochs (at most
    /// `config.epochs`) are done, so a caller can look at the policy between
    /// epochs; the learning-rate schedule still spans `config.epochs`, so
    /// calling it for 1, 2, ... `config.epochs` ends at the same weights as
    /// one [`train`](Self::train).
    pub fn train_until(
        &mut self,
        until: usize,
        data: &TrainingSet,
        validation: Option<&TrainingSet>,
        control: TrainControl<'_>,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<TrainOutcome> {
        data.validate(1)?;
        let until = until.min(self.config.epochs);
        if let Some(n) = self.trained_pairs.filter(|&n| n != data.pairs.len()) {
            return Err(PcpoError::Data(format!(
                "the checkpoint was trained on {n} pairs, this data has {}",
                data.pairs.len()
            )));
        }
        self.trained_pairs = Some(data.pairs.len());
        while self.epochs_done < until {
            let started = Instant::now();
            let snap = self.snapshot()?;
            let Some(sums) = self.run_epoch(data, control.cancel, on_event)? else {
                self.restore(&snap)?;
                return Ok(self.outcome(true));
            };
            let validation = validation.map(|v| self.evaluate(v)).transpose()?;
            self.epochs_done += 1;
            let report = EpochReport {
                epoch: self.epochs_done,
                train: sums.finish(),
                validation,
                seconds: started.elapsed().as_secs_f64(),
            };
            self.history.push(report.clone());
            if let Some(path) = control.checkpoint {
                self.save_checkpoint(path, data.pairs.len())?;
            }
            on_event(&TrainEvent::Epoch(report));
        }
        Ok(self.outcome(false))
    }

    /// One more epoch on `data` (an online round: each call may bring
    /// other pairs), whatever `config.epochs` says; the learning-rate
    /// schedule still spans `config.epochs` epochs of `data`'s size.
    /// Returns the epoch's report, or `None` when `cancel` was set before
    /// an update (the adapters and the optimiser are then rolled back to
    /// the end of the previous epoch).
    pub fn train_one_epoch(
        &mut self,
        data: &TrainingSet,
        cancel: Option<&AtomicBool>,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<Option<EpochReport>> {
        data.validate(1)?;
        let started = Instant::now();
        let snap = self.snapshot()?;
        let Some(sums) = self.run_epoch(data, cancel, on_event)? else {
            self.restore(&snap)?;
            return Ok(None);
        };
        self.epochs_done += 1;
        let report = EpochReport {
            epoch: self.epochs_done,
            train: sums.finish(),
            validation: None,
            seconds: started.elapsed().as_secs_f64(),
        };
        self.history.push(report.clone());
        on_event(&TrainEvent::Epoch(report.clone()));
        Ok(Some(report))
    }

    fn outcome(&self, cancelled: bool) -> TrainOutcome {
        TrainOutcome {
            epochs_done: self.epochs_done,
            cancelled,
            history: self.history.clone(),
        }
    }

    fn save_checkpoint(&self, path: &Path, pairs: usize) -> Result<()> {
        let state = TrainState {
            epochs_done: self.epochs_done,
            step: self.optimizer.step_count(),
            pairs,
            history: self.history.clone(),
        };
        save_checkpoint(
            path,
            &self.config,
            &state,
            &self.adapter_tensors()?,
            self.optimizer.state_tensors()?,
        )
    }

    /// One epoch; `None` when cancelled before it finished.
    fn run_epoch(
        &mut self,
        data: &TrainingSet,
        cancel: Option<&AtomicBool>,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<Option<MetricSums>> {
        let c = self.config.clone();
        let steps_per_epoch = c.steps_per_epoch(data.pairs.len());
        let total = steps_per_epoch * c.epochs;
        let schedule = LrSchedule {
            peak: c.learning_rate,
            warmup: c.warmup_steps(total),
            total,
        };
        let mut rng = epoch_rng(c.seed, self.epochs_done);
        let mut order: Vec<usize> = (0..data.pairs.len()).collect();
        order.shuffle(&mut rng);
        let mut sums = MetricSums::default();
        let mut cache = feature_cache(self.images.as_deref(), data)?;
        for (i, chunk) in order.chunks(c.batch_size).enumerate() {
            if cancel.is_some_and(|f| f.load(Ordering::SeqCst)) {
                return Ok(None);
            }
            let batch = PairBatch::build(data, chunk, c.mask_token_id, &mut rng)?;
            let obj = batch_objective_with(
                &mut self.decoder,
                &batch,
                cache.as_mut(),
                (c.beta, c.weight),
                c.pad_token_id,
            )?;
            let grads = obj.loss.backward()?;
            let lr = schedule.lr(self.optimizer.step_count());
            self.optimizer.step(&grads, lr)?;
            sums.add(&obj.metrics);
            on_event(&TrainEvent::Step {
                epoch: self.epochs_done + 1,
                step: i + 1,
                steps_per_epoch,
                lr,
                loss: f64::from(obj.loss.to_scalar::<f32>()?),
            });
        }
        Ok(Some(sums))
    }
}

/// The image features of `set` for one epoch (or evaluation): `None` for a
/// text set; an error for a set with images and no encoder.
fn feature_cache<'a>(
    encoder: Option<&'a dyn ImageEncoder>,
    set: &'a TrainingSet,
) -> Result<Option<FeatureCache<'a>>> {
    match (set.has_images(), encoder) {
        (false, _) => Ok(None),
        (true, Some(encoder)) => Ok(Some(FeatureCache::new(encoder, set)?)),
        (true, None) => Err(PcpoError::Data(
            "the training set has product images but the trainer has no image encoder \
             (train a multimodal model with its vision tower)"
                .to_string(),
        )),
    }
}
