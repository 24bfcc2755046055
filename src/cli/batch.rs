//! `adstudio batch CATALOG --out DIR`: the catalog batch (see
//! [`crate::studio::batch`]) with progress bars (catalog, product, steps;
//! hidden when stderr is not a terminal, plain lines instead), Ctrl-C
//! (first press stops within one diffusion step, a second exits), a
//! summary and the bad rows with their lines at the end.
//!
//! Exit status: 0 when every row finished; 1 when a row failed (listed) or
//! the batch could not run; 130 when interrupted (rerun the same command to
//! resume).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::jobs::{CancelToken, InlineReporter};
use crate::paths::DataDir;
use crate::product::AspectPreset;
use crate::studio::batch::{
    read_catalog, run_batch, BatchEvent, BatchJob, BatchOutcome, BatchSettings, Phase,
};
use crate::studio::{registry_for, ModelHub, Progress, Studio};

use super::interrupt::{cancel_on_ctrl_c, INTERRUPTED_EXIT};
use super::parse_aspect;

/// Arguments of `adstudio batch`.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// The catalog: a .csv file with a header or a .jsonl file; columns
    /// id, image, title, optional category and per-product aspect, k, n,
    /// steps (image paths relative to the catalog).
    pub catalog: PathBuf,
    /// The output folder: `<id>/rank-<r>.png`, `winners.csv`, `index.html`.
    #[arg(long)]
    pub out: PathBuf,
    /// Suggestions per product (K).
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Renders per suggestion (N).
    #[arg(long, default_value_t = 1)]
    pub n: usize,
    /// Winners kept per product.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Denoising steps per render.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Seed of the suggestions and renders (per product and index).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Canvas aspect: 1:1, 4:5, 1.91:1 or 9:16.
    #[arg(long, default_value = "1:1", value_parser = parse_aspect)]
    pub aspect: AspectPreset,
    /// Canvas short side in pixels (default: the studio's).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// The stored PCPO adapter of the prompt model, by name.
    #[arg(long)]
    pub adapter: Option<String>,
    /// Most new tokens per suggestion.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Stop (as Ctrl-C does) after this many new renders.
    #[arg(long)]
    pub max_renders: Option<usize>,
    /// Queue one job per product in the team's store (`--store
    /// postgres://...`) for `adstudio worker`s instead of running here
    /// (a rerun queues nothing twice).
    #[arg(long)]
    pub queue: bool,
    /// With `--queue`: wait until every product's job has ended, then
    /// write `winners.csv` and `index.html` from their results.
    #[arg(long, requires = "queue")]
    pub wait: bool,
    /// With `--queue`: the jobs' priority (higher runs first).
    #[arg(long, default_value_t = 0, requires = "queue")]
    pub priority: i32,
}

impl BatchArgs {
    /// The batch settings these arguments ask for.
    pub fn settings(&self) -> BatchSettings {
        BatchSettings {
            k: self.k,
            n: self.n,
            top: self.top,
            steps: self.steps,
            seed: self.seed,
            aspect: self.aspect,
            short_side: self.short_side,
            adapter: self.adapter.clone(),
            max_new_tokens: self.max_tokens,
            max_renders: self.max_renders,
            ..BatchSettings::default()
        }
    }
}

/// The progress bars (or plain lines when stderr is not a terminal).
struct Bars {
    catalog: ProgressBar,
    product: ProgressBar,
    steps: ProgressBar,
    plain: bool,
}

impl Bars {
    fn new() -> Self {
        let plain = !std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if plain {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let style = |template: &str| {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
        };
        let catalog = multi.add(ProgressBar::new(0));
        catalog.set_style(style(
            "catalog  [{bar:30}] {pos}/{len} products  {elapsed} ETA {eta}  {msg}",
        ));
        let product = multi.add(ProgressBar::new(0));
        product.set_style(style("product  [{bar:30}] {pos}/{len} renders  {msg}"));
        let steps = multi.add(ProgressBar::new(0));
        steps.set_style(style("steps    [{bar:30}] {pos}/{len}  ETA {eta}"));
        catalog.enable_steady_tick(Duration::from_millis(500));
        Self {
            catalog,
            product,
            steps,
            plain,
        }
    }

    fn on_event(&self, event: BatchEvent) {
        match event {
            BatchEvent::Started { products } => self.catalog.set_length(products as u64),
            BatchEvent::Phase { index, id, phase } => self.on_phase(index, &id, phase),
            BatchEvent::Done(p) => {
                self.catalog.inc(1);
                if self.plain {
                    eprintln!(
                        "{}: done, {} new render(s), {} reused",
                        p.id, p.new_renders, p.reused_renders
                    );
                }
            }
            BatchEvent::Failed(bad) => {
                self.catalog.inc(1);
                let line = format!("line {}: failed: {}", bad.line, bad.reason);
                if self.plain {
                    eprintln!("{line}");
                } else {
                    self.catalog.println(line);
                }
            }
        }
    }

    fn on_phase(&self, index: usize, id: &str, phase: Phase) {
        let what = match phase {
            Phase::Preparing => "preparing".to_string(),
            Phase::Suggesting => "suggesting".to_string(),
            Phase::Rendering { done, total } => {
                self.product.set_length(total as u64);
                self.product.set_position(done as u64);
                format!("rendering {}/{total}", done + 1)
            }
            Phase::Scoring => "scoring".to_string(),
        };
        if self.plain {
            eprintln!("[{}] {id}: {what}", index + 1);
        } else {
            self.catalog.set_message(id.to_string());
            self.product.set_message(what);
        }
    }

    fn on_progress(&self, progress: Progress) {
        if let Progress::Render(step) = progress {
            self.steps.set_length(step.total as u64);
            self.steps.set_position(step.step as u64);
        }
    }

    fn finish(&self) {
        for bar in [&self.catalog, &self.product, &self.steps] {
            bar.finish_and_clear();
        }
    }
}

/// Prints the summary and the bad rows; the exit status (see the module
/// docs).
pub(super) fn summary(outcome: &BatchOutcome, out: &std::path::Path) -> i32 {
    println!(
        "renders: {} new, {} reused",
        outcome.new_renders(),
        outcome.reused_renders()
    );
    println!(
        "products: {} finished, {} failed, {} not finished",
        outcome.products.len(),
        outcome.bad.len(),
        outcome.unfinished
    );
    println!(
        "wrote {} and {}",
        out.join("winners.csv").display(),
        out.join("index.html").display()
    );
    for bad in &outcome.bad {
        let id = bad
            .id
            .as_deref()
            .map_or(String::new(), |i| format!(" ({i})"));
        eprintln!("line {}{id}: {}", bad.line, bad.reason);
    }
    if outcome.cancelled {
        eprintln!(
            "interrupted: the finished renders are kept; run the same command again to resume"
        );
        INTERRUPTED_EXIT
    } else if !outcome.bad.is_empty() {
        eprintln!("{} row(s) failed", outcome.bad.len());
        1
    } else {
        0
    }
}

/// Runs `adstudio batch`; returns the exit status.
pub fn run_batch_cmd(
    args: &BatchArgs,
    store: Option<&str>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<i32> {
    if args.queue {
        return super::batch_queue::run_queued(args, store);
    }
    let catalog = read_catalog(&args.catalog)?;
    let data = DataDir::resolve(data_dir).context("finding the data directory")?;
    let hub = Arc::new(ModelHub::new(registry_for(Some(&data))));
    let mut studio = Studio::open(&data, hub)?;
    let job = BatchJob {
        catalog,
        settings: args.settings(),
        out: args.out.clone(),
        data_root: data.root().to_path_buf(),
    };
    let cancel = CancelToken::new();
    cancel_on_ctrl_c(cancel.clone(), "the finished renders are kept")?;
    let bars = Bars::new();
    let rep = InlineReporter::with_cancel(|p: Progress| bars.on_progress(p), cancel);
    let outcome = run_batch(&mut studio, &rep, &job, &|e| bars.on_event(e));
    bars.finish();
    Ok(summary(&outcome?, &args.out))
}
