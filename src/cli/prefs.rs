//! `adstudio prefs`: preference statistics, export to TRL / CAIG JSONL and
//! import from it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::paths::DataDir;
use crate::prefs::{export_prefs, import_prefs, prefs_stats, PairFormat};
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
    /// Write the decisive (A or B) active labels on renders as JSONL;
    /// ties, can't tell, skips and labels on creatives are left out.
    Export {
        /// The layout: trl (prompt, chosen, rejected, images) or caig (id,
        /// image, chosen, rejected).
        #[arg(long)]
        format: PairFormat,
        /// The JSONL file to write.
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
    let path = data_dir.database_path();
    let store = Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let images = data_dir.image_store().context("opening the image store")?;
    Ok((store, images))
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
        PrefsCommand::Export { format, out } => {
            let report = export_prefs(&store, &images, *format, out)
                .with_context(|| format!("exporting to {}", out.display()))?;
            println!("{report}");
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
