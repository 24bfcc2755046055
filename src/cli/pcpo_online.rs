//! `adstudio pcpo online`: online PCPO rounds on stored products (see
//! [`crate::studio::online`]): prints the estimate before round 1, a table
//! row per finished round and the estimate against the measured time.
//! `--max-seconds` stops the run cleanly (the finished rounds' adapters
//! are kept).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;

use crate::jobs::{CancelToken, InlineReporter};
use crate::paths::DataDir;
use crate::store::{ProductId, Store};
use crate::studio::online::estimate::duration_text;
use crate::studio::online::{
    run_online, OnlineJob, OnlineOutcome, OnlineProgress, OnlineSettings, RoundReport,
};
use crate::studio::{registry_for, ModelHub, Progress, Studio};

/// Arguments of `adstudio pcpo online`.
#[derive(Debug, Clone, Args)]
pub struct PcpoOnlineArgs {
    /// The products of every round: ids separated by commas, or `all`.
    #[arg(long)]
    pub products: String,
    /// Rounds (suggest, render, pick, one epoch of training).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Denoising steps per render.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Seed of the suggestions, renders and training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Start from this stored adapter (default: the base model).
    #[arg(long)]
    pub adapter: Option<String>,
    /// Name stem of the saved adapters (`<name>-r<round>`; default
    /// `online-<unix time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Short side of the ad canvas (default: each product's setting).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// Pairs per update.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Peak learning rate (warm-up then cosine decay over all rounds).
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Weight w of the PCPO term (0 = plain DPO).
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
    /// Most new tokens per suggestion.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Stop after this many seconds (the finished rounds are kept).
    #[arg(long)]
    pub max_seconds: Option<f64>,
}

fn product_ids(spec: &str, store: &Store) -> anyhow::Result<Vec<ProductId>> {
    if spec.trim() == "all" {
        let mut ids: Vec<ProductId> = store
            .list_products()
            .context("listing the products")?
            .iter()
            .map(|p| p.id)
            .collect();
        ids.sort();
        if ids.is_empty() {
            bail!("the store has no products (open some in the studio first)");
        }
        return Ok(ids);
    }
    spec.split(',')
        .map(|s| {
            s.trim().parse::<i64>().map(ProductId).map_err(|_| {
                anyhow::anyhow!("--products: {s:?} is not a product id (or use `all`)")
            })
        })
        .collect()
}

fn settings(a: &PcpoOnlineArgs) -> OnlineSettings {
    OnlineSettings {
        rounds: a.rounds,
        steps: a.steps,
        seed: a.seed,
        short_side: a.short_side,
        batch_size: a.batch_size,
        lr: a.lr,
        weight: a.weight,
        max_new_tokens: a.max_tokens,
        ..OnlineSettings::default()
    }
}

const HEADER: &str =
    "round  pairs  loss     margin    acc    match  suggest  render   score   train    total    adapter";

fn row(r: &RoundReport) -> String {
    let t = &r.timings;
    let matching = r
        .matching_rate
        .map_or_else(|| "n/a".to_string(), |m| format!("{m:.3}"));
    format!(
        "{:<6} {:<6} {:<8.4} {:<+9.4} {:<6.3} {:<6} {:<8.1} {:<8.1} {:<7.1} {:<8.1} {:<8.1} {}",
        format!("{}/{}", r.round, r.rounds),
        r.pairs,
        r.loss,
        r.reward_margin,
        r.accuracy,
        matching,
        t.suggest,
        t.render,
        t.score,
        t.train,
        t.total,
        r.adapter
    )
}

fn on_progress(p: Progress) {
    let Progress::Online(p) = p else {
        return;
    };
    match p {
        OnlineProgress::Estimate(e) => {
            println!("estimate: {}", e.summary());
            println!("{HEADER}");
        }
        OnlineProgress::Phase {
            round,
            phase,
            product,
            products,
        } => eprintln!(
            "round {round}: {} (product {}/{products})",
            phase.name(),
            (product + 1).min(products)
        ),
        OnlineProgress::Round(r) => {
            println!("{}", row(&r));
            for s in &r.skipped {
                eprintln!("round {}: left out product {s}", r.round);
            }
        }
    }
}

fn summary(outcome: &OnlineOutcome) {
    if let (Some(e), false) = (&outcome.estimate, outcome.rounds.is_empty()) {
        let measured: f64 = outcome.rounds.iter().map(|r| r.timings.total).sum::<f64>()
            / outcome.rounds.len() as f64;
        println!(
            "estimated {} per round, measured {} per round ({:.2}x)",
            duration_text(e.per_round()),
            duration_text(measured),
            measured / e.per_round().max(1e-9)
        );
    }
    if outcome.cancelled {
        match &outcome.last_adapter {
            Some((id, name)) if !outcome.rounds.is_empty() => println!(
                "stopped after {} finished round(s); the last adapter is {id} {name:?}",
                outcome.rounds.len()
            ),
            _ => println!("stopped before a round finished; no adapter was saved"),
        }
    }
}

/// Runs `adstudio pcpo online`.
pub fn run_online_cmd(a: &PcpoOnlineArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let data = DataDir::resolve(data_dir).context("finding the data directory")?;
    let hub = Arc::new(ModelHub::new(registry_for(Some(&data))));
    let mut studio = Studio::open(&data, hub)?;
    let job = OnlineJob {
        products: product_ids(&a.products, &studio.store)?,
        settings: settings(a),
        start: a.adapter.clone(),
        name: a.name.clone(),
        data_root: data.root().to_path_buf(),
    };
    let cancel = CancelToken::new();
    if let Some(seconds) = a.max_seconds {
        if !(seconds >= 0.0 && seconds.is_finite()) {
            bail!("--max-seconds must be a number >= 0, not {seconds}");
        }
        let token = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            token.cancel();
        });
    }
    super::interrupt::cancel_on_ctrl_c(cancel.clone(), "the finished rounds' adapters are kept")?;
    let rep = InlineReporter::with_cancel(on_progress, cancel);
    let outcome = run_online(&mut studio, &rep, &job)?;
    summary(&outcome);
    Ok(())
}
