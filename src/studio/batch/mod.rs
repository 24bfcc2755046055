//! Catalog batches: for every product of a catalog, prepare it (auto mask),
//! write K suggestions with the suggestion pipeline, render N seeded
//! variants of each, rank them all-pairs with the reward model and keep the
//! top ones in an output folder with `winners.csv` and `index.html`.
//!
//! - [`catalog`]: reading the catalog (CSV or JSONL), bad rows with lines;
//! - [`item`]: a row as a stored, prepared product;
//! - [`variants`]: suggestions and renders, reused from the store;
//! - [`winners`]: scoring and the winner files;
//! - [`report`]: `winners.csv` and `index.html`;
//! - [`queued`]: the same work as jobs of the PostgreSQL queue, for
//!   headless workers on other machines.
//!
//! Everything is stored as the studio stores it (products, renders with
//! their parameters, scores and the reward model's picks, suggestions in
//! `batch_suggestions`), so a rerun of the same batch skips finished work.
//! Render `v` of every suggestion of a product uses the seed derived from
//! `--seed`, the product id and `v` ([`variants::derive_seed`]): the
//! reward model compares prompts on the same noise. Cancel stops within
//! one diffusion step or token; finished renders stay stored and the
//! finished products are written out.

pub mod catalog;
pub mod item;
pub mod queued;
pub mod report;
pub mod variants;
pub mod winners;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::jobs::{Cancelled, Reporter};
use crate::product::{AspectPreset, CanvasSettings};
use crate::render::ModelIds;
use crate::store::ProductId;

use super::adapters::{active_adapter, ActiveAdapter};
use super::progress::Progress;
use super::registry::ModelRole;
use super::Studio;

pub use catalog::{read_catalog, BadRow, Catalog, CatalogError, CatalogRow};
pub use variants::{derive_seed, DoneRender, RenderSpec};
pub use winners::Winner;

/// How a batch runs (a catalog row may override aspect, K, N and steps).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchSettings {
    /// Suggestions per product (K).
    pub k: usize,
    /// Renders per suggestion (N).
    pub n: usize,
    /// Winners kept per product.
    pub top: usize,
    /// Denoising steps per render.
    pub steps: usize,
    /// Base seed of the suggestions and renders.
    pub seed: u64,
    /// Canvas aspect.
    pub aspect: AspectPreset,
    /// Canvas short side (`None`: the studio's default).
    pub short_side: Option<u32>,
    /// The PCPO adapter of the prompt model, by name.
    pub adapter: Option<String>,
    /// Sampling temperature of the suggestions.
    pub temperature: f64,
    /// Nucleus threshold of the suggestions.
    pub top_p: f64,
    /// Most new tokens per suggestion (`None`: the model's default).
    pub max_new_tokens: Option<usize>,
    /// Stop (as if cancelled) once this many new renders were made.
    pub max_renders: Option<usize>,
}

impl Default for BatchSettings {
    /// K 4, N 1, top 3, 30 steps, seed 0, 1:1, temperature 0.8, top-p 0.9.
    fn default() -> Self {
        Self {
            k: 4,
            n: 1,
            top: 3,
            steps: 30,
            seed: 0,
            aspect: AspectPreset::Square,
            short_side: None,
            adapter: None,
            temperature: 0.8,
            top_p: 0.9,
            max_new_tokens: None,
            max_renders: None,
        }
    }
}

/// One batch: the rows to run, where to write and the data directory.
#[derive(Debug, Clone)]
pub struct BatchJob {
    /// The read catalog (its bad rows are reported with the others).
    pub catalog: Catalog,
    /// How to run.
    pub settings: BatchSettings,
    /// The output folder.
    pub out: PathBuf,
    /// The data directory (adapter files are relative to it).
    pub data_root: PathBuf,
}

/// Where a product is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Importing, masking and placing it.
    Preparing,
    /// Writing its suggestions.
    Suggesting,
    /// Rendering `done` of `total`.
    Rendering {
        /// Renders finished (made or reused).
        done: usize,
        /// Renders of the product.
        total: usize,
    },
    /// Scoring its renders.
    Scoring,
}

/// What a batch reports while it runs (besides the render steps, which
/// come as [`Progress::Render`] through the reporter).
#[derive(Debug, Clone)]
pub enum BatchEvent {
    /// The batch starts: usable rows.
    Started {
        /// Rows to run.
        products: usize,
    },
    /// A product's phase (`index` is 0-based among the usable rows).
    Phase {
        /// 0-based row index.
        index: usize,
        /// The catalog id.
        id: String,
        /// Where it is.
        phase: Phase,
    },
    /// A product finished.
    Done(Box<ProductReport>),
    /// A row failed (the batch goes on).
    Failed(BadRow),
}

/// Seconds spent on a product, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timings {
    /// Import, mask and canvas.
    pub prepare: Duration,
    /// In the prompt model (suggestion pipeline).
    pub suggest: Duration,
    /// In the diffusion models.
    pub diffusion: Duration,
    /// In the reward model.
    pub reward: Duration,
    /// The whole product.
    pub total: Duration,
}

impl Timings {
    /// Time outside the model forwards (suggest, diffusion, reward).
    pub fn overhead(&self) -> Duration {
        self.total
            .saturating_sub(self.suggest + self.diffusion + self.reward)
    }
}

/// A finished product.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProductReport {
    /// Its catalog line.
    pub line: usize,
    /// Its catalog id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its row in the store.
    pub product: ProductId,
    /// The winners, best first.
    pub winners: Vec<Winner>,
    /// Renders made in this run.
    pub new_renders: usize,
    /// Renders reused from the store.
    pub reused_renders: usize,
    /// Whether the suggestions came from the store.
    pub reused_suggestions: bool,
    /// The diffusion models.
    pub models: ModelIds,
    /// The reward model that scored.
    pub reward_model: String,
    /// The prompt model that wrote the suggestions.
    pub prompt_model: String,
    /// Its adapter, if any.
    pub adapter: Option<String>,
    /// Where the time went.
    pub timings: Timings,
}

/// How a batch ended.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    /// The finished products, in catalog order.
    pub products: Vec<ProductReport>,
    /// Rows that failed (read or run), by line.
    pub bad: Vec<BadRow>,
    /// Whether it stopped early (Ctrl-C, `max_renders`).
    pub cancelled: bool,
    /// Rows not finished because the batch stopped (the one it stopped
    /// in and those after it).
    pub unfinished: usize,
}

impl BatchOutcome {
    /// Renders made in this run.
    pub fn new_renders(&self) -> usize {
        self.products.iter().map(|p| p.new_renders).sum()
    }

    /// Renders reused from the store.
    pub fn reused_renders(&self) -> usize {
        self.products.iter().map(|p| p.reused_renders).sum()
    }
}

/// Checks the settings and that the output folder can be written, before
/// any work.
pub fn check_job(job: &BatchJob) -> anyhow::Result<()> {
    let s = &job.settings;
    if s.k == 0 || s.n == 0 || s.top == 0 || s.steps == 0 {
        anyhow::bail!("--k, --n, --top and --steps must be at least 1");
    }
    std::fs::create_dir_all(&job.out)
        .with_context(|| format!("the output folder {} cannot be created", job.out.display()))?;
    let probe = job.out.join(".adstudio-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("the output folder {} cannot be written", job.out.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

/// Runs the batch (see the module docs): every usable row in order, bad
/// rows reported and skipped, then `winners.csv` and `index.html` for the
/// finished products. A cancel ends the loop (the outcome says so); the
/// output files are still written.
pub fn run_batch(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &BatchJob,
    on_event: &dyn Fn(BatchEvent),
) -> anyhow::Result<BatchOutcome> {
    let (adapter, models) = load_for(studio, job)?;
    let mut outcome = BatchOutcome {
        bad: job.catalog.bad.clone(),
        ..BatchOutcome::default()
    };
    let rows = &job.catalog.rows;
    on_event(BatchEvent::Started {
        products: rows.len(),
    });
    let mut budget = job.settings.max_renders;
    for (index, row) in rows.iter().enumerate() {
        let ctx = RowContext {
            index,
            job,
            adapter: adapter.as_ref(),
            models: &models,
            on_event,
        };
        match run_row(studio, rep, &ctx, row, &mut budget) {
            Ok(report) => {
                on_event(BatchEvent::Done(Box::new(report.clone())));
                outcome.products.push(report);
            }
            Err(_) if rep.cancel_token().is_cancelled() => {
                outcome.cancelled = true;
                outcome.unfinished = rows.len() - index;
                break;
            }
            Err(e) => {
                let bad = BadRow {
                    line: row.line,
                    id: Some(row.id.clone()),
                    reason: format!("{e:#}"),
                };
                on_event(BatchEvent::Failed(bad.clone()));
                outcome.bad.push(bad);
            }
        }
    }
    outcome.bad.sort_by_key(|b| b.line);
    report::write_outputs(&job.out, &outcome.products)?;
    Ok(outcome)
}

/// Checks `job`, finds its models and adapter and loads the models (before
/// the first product, so that its timings are steady).
fn load_for(
    studio: &mut Studio,
    job: &BatchJob,
) -> anyhow::Result<(Option<ActiveAdapter>, ModelIds)> {
    check_job(job)?;
    for role in [
        ModelRole::Sd15,
        ModelRole::PromptModel,
        ModelRole::RewardModel,
    ] {
        studio.models.locate(role)?;
    }
    let adapter = match &job.settings.adapter {
        Some(name) => Some(active_adapter(&studio.store, &job.data_root, name)?),
        None => None,
    };
    let models = studio.models.with_diffusion(|e| e.model_ids())?;
    studio.models.with_prompt_model(|_| ())?;
    studio.models.with_reward_model(|_| ())?;
    Ok((adapter, models))
}

/// Runs one product of a batch on its own, as a queue worker does with a
/// job ([`queued`]): prepare, suggest, render, score and write its winners
/// under `job.out`, reusing whatever the store already has. `job.catalog`
/// is not read.
pub fn run_product(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &BatchJob,
    row: &CatalogRow,
    on_event: &dyn Fn(BatchEvent),
) -> anyhow::Result<ProductReport> {
    let (adapter, models) = load_for(studio, job)?;
    let ctx = RowContext {
        index: 0,
        job,
        adapter: adapter.as_ref(),
        models: &models,
        on_event,
    };
    let mut budget = job.settings.max_renders;
    run_row(studio, rep, &ctx, row, &mut budget)
}

/// What every row of a batch shares.
struct RowContext<'a> {
    index: usize,
    job: &'a BatchJob,
    adapter: Option<&'a ActiveAdapter>,
    models: &'a ModelIds,
    on_event: &'a dyn Fn(BatchEvent),
}

impl RowContext<'_> {
    fn phase(&self, row: &CatalogRow, phase: Phase) {
        (self.on_event)(BatchEvent::Phase {
            index: self.index,
            id: row.id.clone(),
            phase,
        });
    }
}

/// One product: prepare, suggest, render, score, winners.
fn run_row(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    ctx: &RowContext<'_>,
    row: &CatalogRow,
    budget: &mut Option<usize>,
) -> anyhow::Result<ProductReport> {
    let started = Instant::now();
    let s = &ctx.job.settings;
    let (k, n) = (
        row.overrides.k.unwrap_or(s.k),
        row.overrides.n.unwrap_or(s.n),
    );
    let mut timings = Timings::default();
    ctx.phase(row, Phase::Preparing);
    let mut canvas = CanvasSettings {
        aspect: row.overrides.aspect.unwrap_or(s.aspect),
        ..CanvasSettings::default()
    };
    if let Some(side) = s.short_side {
        canvas.short_side = side;
    }
    let item = item::prepare_row(studio, rep, row, canvas)?;
    timings.prepare = started.elapsed();
    ctx.phase(row, Phase::Suggesting);
    let text = variants::prompt_text(&row.title, row.category.as_deref());
    let seed = derive_seed(s.seed, &row.id, "suggest", 0);
    let sugg = variants::suggestions(studio, rep, &item, &text, k, seed, s, ctx.adapter)?;
    timings.suggest = Duration::from_secs_f64(sugg.seconds);
    let specs = render_specs(s, row, &sugg.texts, n);
    if specs.len() < 2 {
        anyhow::bail!(
            "only {} render to rank ({} distinct suggestion(s) x {n}); ranking needs two",
            specs.len(),
            sugg.texts.len()
        );
    }
    let renders = render_all(studio, rep, ctx, row, &item, &specs, budget)?;
    timings.diffusion = renders.iter().map(|r| r.model_time).sum();
    ctx.phase(row, Phase::Scoring);
    let (scores, reward_time, _) = winners::score(studio, rep, item.product, &renders)?;
    timings.reward = reward_time;
    let winners = winners::write_winners(&ctx.job.out, &row.id, &renders, &scores, s.top)?;
    timings.total = started.elapsed();
    let reused = renders.iter().filter(|r| r.reused).count();
    Ok(ProductReport {
        line: row.line,
        id: row.id.clone(),
        title: row.title.clone(),
        product: item.product,
        winners,
        new_renders: renders.len() - reused,
        reused_renders: reused,
        reused_suggestions: sugg.reused,
        models: ctx.models.clone(),
        reward_model: scores.model_id.clone(),
        prompt_model: sugg.model,
        adapter: ctx.adapter.map(|a| a.name.clone()),
        timings,
    })
}

/// Every render of a product: N per suggestion, render `v` of each with
/// the seed derived from the product id and `v`.
fn render_specs(
    s: &BatchSettings,
    row: &CatalogRow,
    texts: &[String],
    n: usize,
) -> Vec<RenderSpec> {
    let steps = row.overrides.steps.unwrap_or(s.steps);
    texts
        .iter()
        .flat_map(|t| {
            (0..n).map(move |v| RenderSpec {
                prompt: t.clone(),
                seed: derive_seed(s.seed, &row.id, "render", v),
                steps,
            })
        })
        .collect()
}

/// Renders (or reuses) every spec; a spent `budget` of new renders cancels
/// the batch.
fn render_all(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    ctx: &RowContext<'_>,
    row: &CatalogRow,
    item: &item::PreparedRow,
    specs: &[RenderSpec],
    budget: &mut Option<usize>,
) -> anyhow::Result<Vec<DoneRender>> {
    let adapter = ctx.adapter.map(|a| a.name.as_str());
    let mut done = Vec::with_capacity(specs.len());
    for spec in specs {
        ctx.phase(
            row,
            Phase::Rendering {
                done: done.len(),
                total: specs.len(),
            },
        );
        let request = variants::request_for(item, spec, ctx.models, adapter);
        if let Some((id, path)) = variants::find_render(studio, item, &request)? {
            done.push(DoneRender {
                id,
                path,
                spec: spec.clone(),
                reused: true,
                model_time: Duration::ZERO,
            });
            continue;
        }
        if *budget == Some(0) {
            rep.cancel_token().cancel();
            return Err(Cancelled.into());
        }
        let (id, path, model_time) = variants::render_new(studio, rep, item, &request)?;
        *budget = budget.map(|b| b - 1);
        done.push(DoneRender {
            id,
            path,
            spec: spec.clone(),
            reused: false,
            model_time,
        });
    }
    Ok(done)
}
