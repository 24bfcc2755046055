//! `adstudio bench ui`: how smooth the studio stays while a render runs.
//!
//! The studio runs headless (its own frame loop in a plain egui context,
//! see [`frames`]) on a scratch data dir with tiny random Stable Diffusion
//! and ControlNet models and a drawn product. It measures the UI thread's
//! time per frame (the app's `logic` and `ui`, then tessellation) over
//! `--frames` frames with nothing running, then over as many frames while
//! renders run on the model worker (a render that ends before the count is
//! reached is followed by another), and prints p50, p90, p99 and max of
//! both with the machine check of the other benches. Model work gets the
//! thread count the studio gives it ([`crate::jobs::reserve_ui_core`]).

mod frames;
mod tiny_models;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use self::frames::{FrameDriver, FrameStats};
use super::bench_diffusion::machine_gflops;
use crate::app::{Command, DiffusionAvailability, StudioApp, StudioConfig};
use crate::jobs::{reserve_ui_core, ComputeThreads};
use crate::paths::DataDir;

/// The frame time a 60 Hz display allows: the target for p99.
const TARGET_P99: Duration = Duration::from_millis(16);

/// How long opening the product and finding the models may take.
const STARTUP_DEADLINE: Duration = Duration::from_secs(180);

/// Unmeasured frames before the idle phase (first layouts, fonts).
const WARMUP_FRAMES: usize = 30;

/// What `bench ui` measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiBenchOptions {
    /// Frames measured per phase.
    pub frames: usize,
    /// Denoising steps of each render.
    pub steps: usize,
    /// Canvas short side in pixels.
    pub short_side: u32,
}

/// A scratch folder under the system's temporary directory, removed when
/// dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("adstudio-bench-ui-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            log::warn!("could not remove {}: {e}", self.0.display());
        }
    }
}

/// Writes the tiny models and the product, points the studio's SD and
/// ControlNet roles at them and sets up the thread plan (all before any
/// worker thread starts: it sets environment variables).
fn prepare(scratch: &Path) -> anyhow::Result<(ComputeThreads, PathBuf)> {
    let models = scratch.join("data").join("models");
    // The variables win over the data dir's models: set them, so a user's
    // own ADSTUDIO_SD15 is not what gets measured.
    let folders = tiny_models::write_tiny_models(&models).context("writing the tiny models")?;
    std::env::set_var("ADSTUDIO_SD15", &folders.sd);
    std::env::set_var("ADSTUDIO_CONTROLNET_CANNY", &folders.controlnet);
    let threads = reserve_ui_core();
    let product = scratch.join("product.png");
    tiny_models::write_product(&product)?;
    Ok((threads, product))
}

/// Opens the studio on the scratch data dir with `product` open and the
/// render panel set for the bench.
fn open_studio(
    scratch: &Path,
    product: PathBuf,
    options: &UiBenchOptions,
) -> anyhow::Result<FrameDriver> {
    let config = StudioConfig {
        data_dir: DataDir::at(scratch.join("data")).context("the scratch data dir")?,
        open_path: None,
        reopen_last: false,
        first_run_manager: false,
    };
    let mut driver = FrameDriver::new(config).context("starting the studio")?;
    let app = driver.app_mut();
    app.prefs_mut().default_canvas.short_side = options.short_side;
    let render = &mut app.prefs_mut().render;
    render.prompt = "on a marble table, morning light".into();
    render.steps = options.steps;
    render.n_variants = 1;
    render.seed = 1;
    app.handle_command(Command::OpenPath(product));
    driver.frames_until(
        "the product to open and the tiny models to be found",
        STARTUP_DEADLINE,
        |app| {
            app.session().is_some_and(|s| s.prepared.is_some())
                && matches!(app.diffusion(), DiffusionAvailability::Ready { .. })
                && !app.is_busy()
        },
    )?;
    Ok(driver)
}

/// `frames` paced frames with nothing running.
fn idle_phase(driver: &mut FrameDriver, frames: usize) -> Vec<Duration> {
    for _ in 0..WARMUP_FRAMES {
        driver.paced_frame();
    }
    (0..frames).map(|_| driver.paced_frame()).collect()
}

/// `frames` paced frames while a render runs, starting another whenever
/// the last one ended; returns the frame times and the renders started.
fn render_phase(driver: &mut FrameDriver, frames: usize) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut times = Vec::with_capacity(frames);
    let mut renders = 0;
    while times.len() < frames {
        if !driver.app().is_busy() {
            anyhow::ensure!(
                renders == 0 || failed_renders(driver.app()) == 0,
                "a render failed: {}",
                status_text(driver.app())
            );
            driver.app_mut().handle_command(Command::Render);
            renders += 1;
            anyhow::ensure!(
                driver.app().is_busy(),
                "the render did not start: {}",
                status_text(driver.app())
            );
        }
        times.push(driver.paced_frame());
    }
    driver.app_mut().handle_command(Command::CancelModelJobs);
    driver.frames_until("the render to stop", STARTUP_DEADLINE, |app| !app.is_busy())?;
    Ok((times, renders))
}

/// Gallery tiles whose render failed.
fn failed_renders(app: &StudioApp) -> usize {
    app.gallery()
        .tiles
        .iter()
        .filter(|t| matches!(t.state, crate::app::TileState::Failed(_)))
        .count()
}

/// The status bar's message, for errors.
fn status_text(app: &StudioApp) -> String {
    app.status()
        .message
        .as_ref()
        .map_or_else(|| "no message".to_string(), |(m, _)| m.clone())
}

/// Runs the bench and prints its table.
pub fn bench_ui(options: &UiBenchOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.frames > 0, "--frames must be at least 1");
    anyhow::ensure!(options.steps > 0, "--steps must be at least 1");
    let scratch = Scratch::new()?;
    let (threads, product) = prepare(&scratch.0)?;
    let cpu = candle_core::Device::Cpu;
    let gflops_before = machine_gflops(&cpu)?;
    let started = Instant::now();
    let mut driver = open_studio(&scratch.0, product, options)?;
    let idle = idle_phase(&mut driver, options.frames);
    let (busy, renders) = render_phase(&mut driver, options.frames)?;
    drop(driver);
    let gflops_after = machine_gflops(&cpu)?;
    print_table(
        options,
        &threads,
        (gflops_before, gflops_after),
        &[("idle", &idle), ("render running", &busy)],
        renders,
    );
    log::info!("bench ui took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints the header, the machine check, one row per phase and the
/// verdict on the target.
fn print_table(
    options: &UiBenchOptions,
    threads: &ComputeThreads,
    gflops: (f64, f64),
    phases: &[(&str, &[Duration])],
    renders: usize,
) {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "studio UI frame times ({build} build, headless 1400x900, frames paced at 60 Hz; \
         per frame: the app's logic + ui + tessellation on the UI thread)"
    );
    println!("threads: {threads}");
    println!(
        "machine check (2048^3 f32 matmul, best of 3): {:.0} GFLOP/s before, {:.0} after",
        gflops.0, gflops.1
    );
    println!(
        "render job: tiny random SD 1.5 + ControlNet, {} px canvas, {} steps, {renders} render(s) \
         during the measured frames",
        options.short_side, options.steps
    );
    println!("| phase | frames | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for (name, times) in phases {
        let Some(s) = FrameStats::of(times) else {
            continue;
        };
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            s.frames,
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.max)
        );
        let met = if s.p99 <= TARGET_P99 {
            "met"
        } else {
            "NOT met"
        };
        verdicts.push(format!("{name} {met}"));
    }
    println!(
        "target p99 <= {} ms: {}",
        TARGET_P99.as_millis(),
        verdicts.join(", ")
    );
}
