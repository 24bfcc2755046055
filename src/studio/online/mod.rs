//! Online PCPO rounds, as in CAIG: the current policy (the prompt model
//! with the current LoRA adapter) writes 2 suggestions per product for a
//! batch of products, both are rendered, the reward model picks, then one
//! epoch of PCPO training on the round's pairs; repeat for R rounds.
//!
//! - [`run_online`] runs the rounds on a [`Studio`] (the studio's model
//!   worker and `adstudio pcpo online` both call it);
//! - [`round`]: one product's turn (suggest, render, score);
//! - [`policy`]: the trained decoder, its data and the adapter saved after
//!   each round with its provenance;
//! - [`estimate`]: how long a round will take, from a short calibration.
//!
//! Every suggestion goes through the suggestion pipeline with the round's
//! adapter (recorded with what it writes); both renders of a product use
//! the same seed, so the reward model compares prompts, not noise; every
//! render and the reward model's pick are stored as scoring stores them.
//! Cancel stops within one diffusion step, one token or one training batch;
//! the adapters of the finished rounds stay saved.

pub mod estimate;
pub mod policy;
pub mod round;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::jobs::Reporter;
use crate::store::{AdapterId, ProductId};

pub use estimate::{duration_text, RoundEstimate, UnitCosts};
pub use policy::Policy;
pub use round::{PreparedItem, RoundPair};

use super::progress::Progress;
use super::Studio;

/// Settings of an online run (the studio persists them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnlineSettings {
    /// Rounds (R).
    pub rounds: usize,
    /// Denoising steps per render.
    pub steps: usize,
    /// Base seed of the suggestions, the renders and the training.
    pub seed: u64,
    /// Short side of the ad canvas (`None`: each product's own setting).
    pub short_side: Option<u32>,
    /// Pairs per update.
    pub batch_size: usize,
    /// Peak learning rate (warm-up then cosine decay over all rounds).
    pub lr: f64,
    /// `b` of the losses.
    pub beta: f64,
    /// Weight `w` of the PCPO term (0 = plain DPO).
    pub weight: f64,
    /// LoRA rank (a starting adapter's own settings win).
    pub rank: usize,
    /// LoRA alpha.
    pub alpha: f64,
    /// Projections given adapters.
    pub targets: Vec<String>,
    /// Sampling temperature of the suggestions (1.0 in CAIG).
    pub temperature: f64,
    /// Most new tokens per suggestion (`None`: the model's default).
    pub max_new_tokens: Option<usize>,
}

impl Default for OnlineSettings {
    /// 5 rounds of 30-step renders, batches of 4, lr 2e-4, b 0.5, w 1.0,
    /// LoRA rank 8 / alpha 16 on q/k/v/o, temperature 1.0.
    fn default() -> Self {
        Self {
            rounds: 5,
            steps: 30,
            seed: 0,
            short_side: None,
            batch_size: 4,
            lr: 2e-4,
            beta: 0.5,
            weight: 1.0,
            rank: 8,
            alpha: 16.0,
            targets: ["q_proj", "k_proj", "v_proj", "o_proj"]
                .map(String::from)
                .to_vec(),
            temperature: 1.0,
            max_new_tokens: None,
        }
    }
}

/// One online run.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineJob {
    /// The products of every round (at least one).
    pub products: Vec<ProductId>,
    /// How to run.
    pub settings: OnlineSettings,
    /// The adapter the policy starts from (`None`: the base model).
    pub start: Option<String>,
    /// Stem of the adapters' names (`<stem>-r<round>`; default
    /// `online-<unix time>`).
    pub name: Option<String>,
    /// The data directory (adapter files go to its `adapters/`).
    pub data_root: PathBuf,
}

/// Where a round is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Measuring costs for the estimate.
    Calibrating,
    /// Writing a product's two suggestions.
    Suggesting,
    /// Rendering them.
    Rendering,
    /// Letting the reward model pick.
    Scoring,
    /// The round's epoch of training.
    Training,
}

impl Phase {
    /// A lower-case name for progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Calibrating => "calibrating",
            Phase::Suggesting => "suggesting",
            Phase::Rendering => "rendering",
            Phase::Scoring => "scoring",
            Phase::Training => "training",
        }
    }
}

/// Seconds spent per part of a round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundTimings {
    /// Writing suggestions.
    pub suggest: f64,
    /// Rendering.
    pub render: f64,
    /// Reward-model scoring (and storing the picks).
    pub score: f64,
    /// The epoch of training and saving the adapter.
    pub train: f64,
    /// The whole round.
    pub total: f64,
}

/// What a finished round reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    /// 1-based round.
    pub round: usize,
    /// Rounds in the run.
    pub rounds: usize,
    /// Preference pairs trained on.
    pub pairs: usize,
    /// Renders stored.
    pub renders: usize,
    /// Products left out of the round, with why.
    pub skipped: Vec<String>,
    /// Mean training loss of the epoch.
    pub loss: f64,
    /// Mean reward margin (DPO implicit reward, chosen minus rejected).
    pub reward_margin: f64,
    /// Share of pairs the policy prefers the chosen answer in.
    pub accuracy: f64,
    /// Share of the round's suggestions whose relevance to the product
    /// reaches the match threshold (`None`: no relevance model).
    pub matching_rate: Option<f64>,
    /// Where the time went.
    pub timings: RoundTimings,
    /// The adapter saved after the round.
    pub adapter: String,
    /// Its row.
    pub adapter_id: i64,
}

/// What an online run reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum OnlineProgress {
    /// The estimate, before round 1.
    Estimate(RoundEstimate),
    /// A round's part for one product (`product` is 0-based).
    Phase {
        /// 1-based round.
        round: usize,
        /// Which part.
        phase: Phase,
        /// 0-based product index.
        product: usize,
        /// Products per round.
        products: usize,
    },
    /// A round finished and its adapter was saved.
    Round(RoundReport),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineOutcome {
    /// Reports of the finished rounds.
    pub rounds: Vec<RoundReport>,
    /// Whether it was cancelled (the finished rounds' adapters are kept).
    pub cancelled: bool,
    /// The estimate made before round 1.
    pub estimate: Option<RoundEstimate>,
    /// The adapter of the last finished round.
    pub last_adapter: Option<(AdapterId, String)>,
}

/// Runs the rounds of `job` (see the module docs). Returns the finished
/// rounds; a cancel returns them too, marked cancelled.
pub fn run_online(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &OnlineJob,
) -> anyhow::Result<OnlineOutcome> {
    let s = &job.settings;
    if job.products.is_empty() || s.rounds == 0 || s.steps == 0 {
        bail!("an online run needs at least one product, one round and one step");
    }
    let mut outcome = OnlineOutcome {
        rounds: Vec::new(),
        cancelled: false,
        estimate: None,
        last_adapter: None,
    };
    let prepared = round::prepare_items(studio, rep, &job.products, s.short_side)
        .and_then(|items| Ok((items, Policy::start(studio, job)?)));
    let (items, mut policy) = match prepared {
        Ok(p) => p,
        Err(_) if rep.cancel_token().is_cancelled() => return cancelled(outcome),
        Err(e) => return Err(e),
    };
    outcome.last_adapter = policy.current_adapter().map(|a| (a.id, a.name.clone()));
    let estimate = match estimate::calibrate(studio, rep, &items, &mut policy, s) {
        Ok(e) => e,
        Err(_) if rep.cancel_token().is_cancelled() => return cancelled(outcome),
        Err(e) => return Err(e.context("measuring the costs for the estimate")),
    };
    rep.report(Progress::Online(OnlineProgress::Estimate(estimate)));
    outcome.estimate = Some(estimate);
    for r in 1..=s.rounds {
        match run_round(studio, rep, job, &items, &mut policy, r) {
            Ok(report) => {
                outcome.last_adapter = Some((AdapterId(report.adapter_id), report.adapter.clone()));
                rep.report(Progress::Online(OnlineProgress::Round(report.clone())));
                outcome.rounds.push(report);
            }
            Err(_) if rep.cancel_token().is_cancelled() => return cancelled(outcome),
            Err(e) => return Err(e.context(format!("online round {r}"))),
        }
    }
    Ok(outcome)
}

/// The estimate of `job` alone (the calibration of [`run_online`], no
/// round is run and nothing is stored): what the studio shows before a
/// run starts.
pub fn estimate_online(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &OnlineJob,
) -> anyhow::Result<RoundEstimate> {
    let s = &job.settings;
    if job.products.is_empty() || s.rounds == 0 || s.steps == 0 {
        bail!("an online run needs at least one product, one round and one step");
    }
    let items = round::prepare_items(studio, rep, &job.products, s.short_side)?;
    let mut policy = Policy::start(studio, job)?;
    estimate::calibrate(studio, rep, &items, &mut policy, s)
}

fn cancelled(mut outcome: OnlineOutcome) -> anyhow::Result<OnlineOutcome> {
    outcome.cancelled = true;
    Ok(outcome)
}

/// One round: every product's pair, one epoch, the adapter saved.
fn run_round(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &OnlineJob,
    items: &[PreparedItem],
    policy: &mut Policy,
    r: usize,
) -> anyhow::Result<RoundReport> {
    let started = Instant::now();
    let mut timings = RoundTimings::default();
    let mut pairs: Vec<RoundPair> = Vec::new();
    let mut skipped = Vec::new();
    let mut relevances: Vec<Option<f32>> = Vec::new();
    let mut renders = 0;
    for (i, item) in items.iter().enumerate() {
        let turn = round::Turn {
            round: r,
            index: i,
            products: items.len(),
        };
        let done =
            round::product_turn(studio, rep, item, policy, &job.settings, turn, &mut timings)?;
        relevances.extend(done.relevances);
        renders += done.renders;
        match done.pair {
            Ok(pair) => pairs.push(pair),
            Err(why) => skipped.push(format!("{} ({:?}): {why}", item.id.0, item.title)),
        }
    }
    if pairs.is_empty() {
        bail!(
            "no product gave a usable pair this round: {}",
            skipped.join("; ")
        );
    }
    rep.report(Progress::Online(OnlineProgress::Phase {
        round: r,
        phase: Phase::Training,
        product: items.len(),
        products: items.len(),
    }));
    let trained = Instant::now();
    let epoch = policy
        .train_round(rep, &pairs)?
        .ok_or(crate::jobs::Cancelled)?;
    timings.train = trained.elapsed().as_secs_f64();
    timings.total = started.elapsed().as_secs_f64();
    let mut report = RoundReport {
        round: r,
        rounds: job.settings.rounds,
        pairs: pairs.len(),
        renders,
        skipped,
        loss: epoch.train.loss,
        reward_margin: epoch.train.reward_margin,
        accuracy: epoch.train.accuracy,
        matching_rate: round::matching_rate(&relevances),
        timings,
        adapter: String::new(),
        adapter_id: 0,
    };
    let (id, name) = policy
        .save_round(studio, job, r, &pairs, &report)
        .context("saving the round's adapter")?;
    report.adapter = name;
    report.adapter_id = id.0;
    report.timings.train = trained.elapsed().as_secs_f64();
    report.timings.total = started.elapsed().as_secs_f64();
    Ok(report)
}
