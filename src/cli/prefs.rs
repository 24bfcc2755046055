//! `adstudio prefs`: preference statistics, export (TRL / CAIG JSONL, or
//! preference and click tables as Parquet / JSONL) and import of TRL /
//! CAIG JSONL.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::prefs_export::{run_export, ExportFormat, ExportWhat};
use crate::paths::DataDir;
use crate::prefs::{import_prefs, prefs_stats, PairFormat};
use crate::store::{ImageStore, Store};

/// Arguments of `adstudio prefs`.
#[derive(Debug, Clone, Args)]
pub struct PrefsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PrefsCommand,
}

/// `adstudio prefs` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum PrefsCommand {
    /// Counts per product and labeler, agreement between labelers (Cohen's
    /// and Fleiss' kappa) and the reward model's accuracy on human pairs.
    Stats {
        /// Print the statistics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the decisive (A or B) active labels on renders (ties, can't
    /// tell, skips and labels on creatives are left out) as TRL / CAIG
    /// JSONL, or a table for training elsewhere (the labels or the click
    /// data) as Parquet / JSONL.
    Export {
        /// The layout: trl (prompt, chosen, rejected, images), caig (id,
        /// image, chosen, rejected), parquet or jsonl (a flat table, see
        /// --what).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The table for parquet / jsonl: prefs (one row per label, with
        /// TRL's prompt / chosen / rejected) or clicks (one row per
        /// imported creative).
        #[arg(long, value_enum, default_value_t = ExportWhat::Prefs)]
        what: ExportWhat,
        /// The file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import labels from a TRL or CAIG JSONL file (as written by export),
    /// one transaction per row; prints a line per row and fails if any row
    /// failed.
    Import {
        /// The JSONL file.
        file: PathBuf,
        /// Force the layout (default: told by each row's fields).
        #[arg(long)]
        format: Option<PairFormat>,
    },
}

fn open_store(data_dir: Option<PathBuf>) -> anyhow::Result<(Store, ImageStore)> {
    let data_dir = DataDir::resolve(data_dir).context("finding the data directory")?;
    let location = data_dir.store_location();
    let store = Store::open_location(&location).with_context(|| format!("opening {location}"))?;
    Ok((store, ImageStore::new(data_dir.images_dir())))
}

/// Runs `adstudio prefs`, printing reports to stdout.
pub fn run_prefs(args: &PrefsArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (store, images) = open_store(data_dir)?;
    match &args.command {
        PrefsCommand::Stats { json } => {
            let stats = prefs_stats(&store).context("computing the preference statistics")?;
            if *json {
                let text =
                    serde_json::to_string_pretty(&stats).context("serialising the statistics")?;
                println!("{text}");
            } else {
                println!("{stats}");
            }
        }
        PrefsCommand::Export { format, what, out } => {
            run_export(&store, &images, *format, *what, out)?;
        }
        PrefsCommand::Import { file, format } => {
            let report = import_prefs(&store, &images, file, *format)
                .with_context(|| format!("importing {}", file.display()))?;
            println!("{report}");
            if report.failed() > 0 {
                anyhow::bail!(
                    "{} of {} rows of {} failed (see the lines above); the others were imported",
                    report.failed(),
                    report.lines.len(),
                    file.display()
                );
            }
        }
    }
    Ok(())
}
