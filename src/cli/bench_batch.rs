//! `adstudio bench batch`: a catalog batch on a scratch store (so nothing
//! is reused) with the data directory's models; per product, the seconds in
//! model forwards (suggestions, diffusion, reward model) and everything
//! else (the pipeline's own overhead: import, mask, PNG encoding, store,
//! files), with the overhead's share of the total.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::jobs::InlineReporter;
use crate::paths::DataDir;
use crate::studio::batch::{read_catalog, run_batch, BatchJob, BatchSettings, Timings};
use crate::studio::{registry_for, ModelHub, Progress, Studio};

use super::bench::BenchArgs;

/// The target share of the pipeline's own overhead.
pub const OVERHEAD_TARGET: f64 = 0.05;

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn scratch() -> anyhow::Result<Scratch> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "adstudio-bench-batch-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(Scratch(dir))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One table row.
fn row(name: &str, renders: usize, t: &Timings) -> String {
    let share = secs(t.overhead()) / secs(t.total).max(1e-9);
    format!(
        "| {name} | {renders} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1}% |",
        secs(t.prepare),
        secs(t.suggest),
        secs(t.diffusion),
        secs(t.reward),
        secs(t.overhead()),
        secs(t.total),
        100.0 * share
    )
}

fn sum(all: &[Timings]) -> Timings {
    all.iter().fold(Timings::default(), |a, t| Timings {
        prepare: a.prepare + t.prepare,
        suggest: a.suggest + t.suggest,
        diffusion: a.diffusion + t.diffusion,
        reward: a.reward + t.reward,
        total: a.total + t.total,
    })
}

/// Runs `bench batch` (see the module docs) and prints the table.
pub fn bench_batch(args: &BenchArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let catalog_path = args
        .catalog
        .as_deref()
        .context("`bench batch` needs --catalog FILE")?;
    let catalog = read_catalog(catalog_path)?;
    let models_from = DataDir::resolve(data_dir).context("finding the data directory")?;
    let scratch = scratch()?;
    let data = DataDir::at(scratch.0.join("data")).context("creating the scratch store")?;
    let hub = Arc::new(ModelHub::new(registry_for(Some(&models_from))));
    let mut studio = Studio::open(&data, hub)?;
    let job = BatchJob {
        catalog,
        settings: BatchSettings {
            k: args.n,
            steps: args.steps,
            short_side: args.short_side,
            max_new_tokens: args.max_tokens,
            ..BatchSettings::default()
        },
        out: scratch.0.join("out"),
        data_root: data.root().to_path_buf(),
    };
    let rep = InlineReporter::new(|_: Progress| {});
    let outcome = run_batch(&mut studio, &rep, &job, &|_| {})?;
    print_table(catalog_path, &job.settings, &outcome.products);
    for bad in &outcome.bad {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    Ok(())
}

fn print_table(
    catalog: &Path,
    s: &BatchSettings,
    products: &[crate::studio::batch::ProductReport],
) {
    println!(
        "{}: {} product(s), K {} x N {}, {} steps, CPU threads {}",
        catalog.display(),
        products.len(),
        s.k,
        s.n,
        s.steps,
        candle_core::utils::get_num_threads()
    );
    println!("| product | renders | prepare s | suggest s | diffusion s | reward s | overhead s | total s | overhead share |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let timings: Vec<Timings> = products.iter().map(|p| p.timings).collect();
    for p in products {
        println!("{}", row(&p.id, p.new_renders, &p.timings));
    }
    let total = sum(&timings);
    let renders = products.iter().map(|p| p.new_renders).sum();
    println!("{}", row("all", renders, &total));
    let share = secs(total.overhead()) / secs(total.total).max(1e-9);
    println!(
        "pipeline overhead: {:.1}% of {:.2} s (target below {:.0}%: {})",
        100.0 * share,
        secs(total.total),
        100.0 * OVERHEAD_TARGET,
        if share < OVERHEAD_TARGET {
            "met"
        } else {
            "not met"
        }
    );
}
