//! The `adstudio` binary: logging, arguments, then the studio or a command.

use anyhow::Context as _;
use clap::Parser;

use adstudio::app::StudioConfig;
use adstudio::cli::{
    run_batch_cmd, run_bench, run_experiment_cli, run_export, run_jobs, run_label, run_models,
    run_pcpo, run_prefs, run_prepare, run_render, run_rm, run_suggest, run_worker_cmd, Cli,
    CliCommand,
};
use adstudio::paths::DataDir;
use adstudio::studio::{registry_for, ModelRegistry};

fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    if matches!(cli.command, None | Some(CliCommand::Gui { .. })) {
        // Before any thread pool exists: model work leaves the UI a core.
        let threads = adstudio::jobs::reserve_ui_core();
        log::info!("{threads}");
    }
    if let Some(store) = cli.store.as_deref().filter(|s| !s.is_empty()) {
        let location = adstudio::store::StoreLocation::parse(store);
        log::info!("store: {location}");
        adstudio::paths::set_store_override(location);
    }
    if let Some(preference) = cli.device {
        let device = adstudio::ml::select_device(preference)
            .with_context(|| format!("--device {}", preference.label()))?;
        adstudio::ml::device::set_process_device(device);
    }
    match cli.command {
        None => run_gui(&cli, cli.product.clone()),
        Some(CliCommand::Gui { ref product }) => {
            run_gui(&cli, product.clone().or(cli.product.clone()))
        }
        Some(CliCommand::Prepare(ref args)) => {
            let report = run_prepare(args, registry(&cli))?;
            println!(
                "mask from {:?}; canvas {}x{}; wrote:",
                report.mask_source, report.canvas_size.0, report.canvas_size.1
            );
            for file in &report.files {
                println!("  {}", file.display());
            }
            Ok(())
        }
        Some(CliCommand::Render(ref args)) => {
            for path in run_render(args, registry(&cli))? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Some(CliCommand::Bench(ref args)) => run_bench(args, cli.data_dir.clone()),
        Some(CliCommand::Batch(ref args)) => exit_with(run_batch_cmd(
            args,
            cli.store.as_deref(),
            cli.data_dir.clone(),
        )?),
        Some(CliCommand::Worker(ref args)) => exit_with(run_worker_cmd(
            args,
            cli.store.as_deref(),
            cli.data_dir.clone(),
        )?),
        Some(CliCommand::Jobs(ref args)) => run_jobs(args, cli.store.as_deref()),
        Some(CliCommand::Rm(ref args)) => run_rm(args, cli.data_dir.clone()),
        Some(CliCommand::Suggest(ref args)) => run_suggest(args, registry(&cli)),
        Some(CliCommand::Models(ref args)) => {
            let models_dir = DataDir::resolve(cli.data_dir.clone())
                .ok()
                .map(|d| d.models_dir());
            run_models(args, &registry(&cli), models_dir)
        }
        Some(CliCommand::Prefs(ref args)) => run_prefs(args, cli.data_dir.clone()),
        Some(CliCommand::Label(ref args)) => run_label(args, cli.data_dir.clone()).map(|_| ()),
        Some(CliCommand::Pcpo(ref args)) => run_pcpo(args, cli.data_dir.clone()),
        Some(CliCommand::Experiment(ref args)) => run_experiment_cli(args),
        Some(CliCommand::Export(ref args)) => run_export(args, cli.data_dir.clone()).map(|_| ()),
    }
}

/// Ends the process with `code` unless it is 0.
fn exit_with(code: i32) -> anyhow::Result<()> {
    match code {
        0 => Ok(()),
        code => std::process::exit(code),
    }
}

/// The model registry of a command: explicit flags are added by the
/// command; then the environment, `<data dir>/models`, `./models`. A data
/// directory that cannot be found only drops its models folder.
fn registry(cli: &Cli) -> ModelRegistry {
    let data_dir = DataDir::resolve(cli.data_dir.clone()).ok();
    registry_for(data_dir.as_ref())
}

fn run_gui(cli: &Cli, product: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let data_dir = DataDir::resolve(cli.data_dir.clone()).context("finding the data directory")?;
    log::info!("data directory: {}", data_dir.root().display());
    let config = StudioConfig {
        data_dir,
        open_path: product,
        reopen_last: true,
        first_run_manager: true,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("adstudio")
            .with_app_id("adstudio")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true)
            .with_icon(adstudio::ui::icon::icon_data()),
        ..Default::default()
    };
    eframe::run_native(
        "adstudio",
        options,
        Box::new(move |cc| Ok(Box::new(adstudio::ui::start(cc, config)?))),
    )
    .map_err(|err| anyhow::anyhow!("the studio window failed: {err}"))
}
