//! `adstudio prefs export`: which table in which format, and the run.
//!
//! `--format trl|caig` writes the preference pairs in the TRL / CAIG JSONL
//! layouts of [`crate::prefs`] (importable again); `--format parquet|jsonl`
//! writes a flat table of [`crate::dataset`] (`--what prefs`, the
//! default, or `--what clicks`) for training elsewhere.

use std::path::Path;

use anyhow::Context as _;
use clap::ValueEnum;

use crate::dataset::{export_table, Table, TableFormat};
use crate::prefs::{export_prefs, PairFormat};
use crate::store::{ImageStore, Store};

/// The file format of `prefs export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// TRL preference JSONL (prompt, chosen, rejected, images + extras).
    Trl,
    /// CAIG JSONL (id, image, chosen, rejected + extras).
    Caig,
    /// A flat Parquet table (snappy).
    Parquet,
    /// The same flat table as JSON Lines.
    Jsonl,
}

/// The table `prefs export --format parquet|jsonl` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExportWhat {
    /// One row per decisive label on two renders (TRL DPO columns).
    #[default]
    Prefs,
    /// One row per imported creative (impressions, clicks, CTR).
    Clicks,
}

/// Runs `prefs export`, printing the report to stdout.
pub fn run_export(
    store: &Store,
    images: &ImageStore,
    format: ExportFormat,
    what: ExportWhat,
    out: &Path,
) -> anyhow::Result<()> {
    let pair_format = match format {
        ExportFormat::Trl => Some(PairFormat::Trl),
        ExportFormat::Caig => Some(PairFormat::Caig),
        ExportFormat::Parquet | ExportFormat::Jsonl => None,
    };
    if let Some(pair_format) = pair_format {
        if what == ExportWhat::Clicks {
            anyhow::bail!(
                "--what clicks needs --format parquet or jsonl (trl and caig hold preference pairs only)"
            );
        }
        let report = export_prefs(store, images, pair_format, out)
            .with_context(|| format!("exporting to {}", out.display()))?;
        println!("{report}");
        return Ok(());
    }
    let table = match what {
        ExportWhat::Prefs => Table::Prefs,
        ExportWhat::Clicks => Table::Clicks,
    };
    let table_format = if format == ExportFormat::Parquet {
        TableFormat::Parquet
    } else {
        TableFormat::Jsonl
    };
    let report = export_table(store, images, table, table_format, out)
        .with_context(|| format!("exporting {} to {}", table.as_str(), out.display()))?;
    println!("{report}");
    Ok(())
}
