//! `adstudio rm import FILE`: parse a CSV/JSONL click log and store its good
//! rows (one transaction), with a per-row report.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;

use crate::ml::reward::clicklog::{parse_click_log, ClickLogFormat, RowRejection};
use crate::store::{
    resolve_image_path, ClickLogKind, ImageStore, ImportRejection, ImportSummary, NewClickImport,
    NewCreative, Store,
};

/// One line of the import report.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportLine {
    /// Refused by the parser (malformed, missing field, bad counts...).
    Parse(RowRejection),
    /// Refused by the store (repeated id, missing image...).
    Store(ImportRejection),
}

impl ReportLine {
    /// 1-based line in the file.
    pub fn line(&self) -> usize {
        match self {
            ReportLine::Parse(r) => r.line,
            ReportLine::Store(r) => r.line,
        }
    }
}

impl fmt::Display for ReportLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportLine::Parse(r) => write!(f, "rejected {r}"),
            ReportLine::Store(r) => write!(f, "rejected {r}"),
        }
    }
}

/// The result of importing one click-log file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The store's summary (kept rows, store rejections, import id).
    pub summary: ImportSummary,
    /// Every rejected row, parser and store, sorted by line.
    pub rejections: Vec<ReportLine>,
}

impl ImportReport {
    /// Lines of the rejected rows, ascending.
    pub fn rejected_lines(&self) -> Vec<usize> {
        self.rejections.iter().map(ReportLine::line).collect()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.rejections {
            writeln!(f, "{r}")?;
        }
        write!(
            f,
            "import #{}: {} creatives stored, {} rows rejected",
            self.summary.import_id,
            self.summary.kept.len(),
            self.rejections.len()
        )
    }
}

/// Reads, parses and imports `file` (format from the extension, else
/// sniffed from the content). Image paths in the log are resolved against
/// the log's directory. A file that is not a click log at all is an error;
/// bad rows are reported and skipped.
pub fn import_click_file(
    store: &Store,
    images: &ImageStore,
    file: &Path,
) -> anyhow::Result<ImportReport> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading click log {}", file.display()))?;
    let format = ClickLogFormat::from_path(file).unwrap_or_else(|| ClickLogFormat::sniff(&text));
    let log = parse_click_log(&text, format)
        .with_context(|| format!("{} is not a click log", file.display()))?;
    let rows = log
        .rows
        .iter()
        .zip(&log.lines)
        .map(|(row, &line)| NewCreative {
            line,
            creative_id: row.creative_id.clone(),
            product_key: row.product_id.clone(),
            image_source: resolve_image_path(file, &row.image_path),
            impressions: row.impressions,
            clicks: row.clicks,
        })
        .collect();
    let import = NewClickImport {
        file: file.display().to_string(),
        format: match format {
            ClickLogFormat::Csv => ClickLogKind::Csv,
            ClickLogFormat::Jsonl => ClickLogKind::Jsonl,
        },
        rows,
        rejected_while_parsing: log.rejections.len(),
    };
    let summary = store.import_click_log(images, &import).with_context(|| {
        format!(
            "importing {} into {}",
            file.display(),
            store.path().display()
        )
    })?;
    let mut rejections: Vec<ReportLine> = log
        .rejections
        .into_iter()
        .map(ReportLine::Parse)
        .chain(summary.rejected.iter().cloned().map(ReportLine::Store))
        .collect();
    rejections.sort_by_key(ReportLine::line);
    Ok(ImportReport {
        summary,
        rejections,
    })
}
