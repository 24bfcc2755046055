//! Exporting one table of the store to one file.

use std::fmt;
use std::path::{Path, PathBuf};

use super::click_rows::{click_columns, click_rows};
use super::error::DatasetError;
use super::jsonl_file::write_jsonl;
use super::parquet_file::write_parquet;
use super::pref_rows::{pair_columns, pair_rows};
use crate::store::{ImageStore, PreferenceId, Store};

/// Which table to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// The preference pairs ([`super::PairRow`]).
    Prefs,
    /// The click data ([`super::ClickRow`]).
    Clicks,
}

impl Table {
    /// "prefs" or "clicks" (also the Parquet schema's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Prefs => "prefs",
            Table::Clicks => "clicks",
        }
    }
}

/// The file format of an exported table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet, snappy-compressed.
    Parquet,
    /// JSON Lines.
    Jsonl,
}

impl TableFormat {
    /// "parquet" or "jsonl".
    pub fn as_str(self) -> &'static str {
        match self {
            TableFormat::Parquet => "parquet",
            TableFormat::Jsonl => "jsonl",
        }
    }
}

/// What an export wrote and left out.
#[derive(Debug, Clone, PartialEq)]
pub struct TableReport {
    /// The file written.
    pub file: PathBuf,
    /// The table.
    pub table: Table,
    /// The format.
    pub format: TableFormat,
    /// Rows written.
    pub rows: usize,
    /// Preferences only: active tie / can't tell / skip labels left out.
    pub undecided: usize,
    /// Preferences only: active labels on creatives left out.
    pub on_creatives: usize,
    /// Preferences only: labels left out for a problem, with the reason.
    pub problems: Vec<(PreferenceId, String)>,
}

impl fmt::Display for TableReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} {} rows as {} to {}",
            self.rows,
            self.table.as_str(),
            self.format.as_str(),
            self.file.display()
        )?;
        if self.table == Table::Prefs {
            write!(
                f,
                "\nnot exported: {} tie/can't tell/skip labels, {} labels on creatives, {} with problems",
                self.undecided,
                self.on_creatives,
                self.problems.len()
            )?;
            for (id, problem) in &self.problems {
                write!(f, "\n  label {id}: {problem}")?;
            }
        }
        Ok(())
    }
}

/// Reads `table` from the store and writes it to `out` in `format`
/// (atomically; an empty table gives a valid, empty file).
pub fn export_table(
    store: &Store,
    images: &ImageStore,
    table: Table,
    format: TableFormat,
    out: &Path,
) -> Result<TableReport, DatasetError> {
    let mut report = TableReport {
        file: out.to_path_buf(),
        table,
        format,
        rows: 0,
        undecided: 0,
        on_creatives: 0,
        problems: Vec::new(),
    };
    match table {
        Table::Prefs => {
            let pairs = pair_rows(store, images)?;
            match format {
                TableFormat::Parquet => write_parquet(out, "prefs", &pair_columns(&pairs.rows))?,
                TableFormat::Jsonl => write_jsonl(out, &pairs.rows)?,
            }
            report.rows = pairs.rows.len();
            report.undecided = pairs.undecided;
            report.on_creatives = pairs.on_creatives;
            report.problems = pairs.problems;
        }
        Table::Clicks => {
            let rows = click_rows(store, images)?;
            match format {
                TableFormat::Parquet => write_parquet(out, "clicks", &click_columns(&rows))?,
                TableFormat::Jsonl => write_jsonl(out, &rows)?,
            }
            report.rows = rows.len();
        }
    }
    Ok(report)
}
