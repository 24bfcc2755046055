//! The `click_imports` and `creatives` tables: click logs imported into the
//! store, one transaction per file.
//!
//! Rule for repeated creative ids: the first import wins. A row whose
//! creative id is already stored (from an earlier import) or appears on an
//! earlier line of the same import is rejected with its line number; stored
//! rows are never updated by a later import.
//!
//! An import is all-or-nothing at the database level: the `click_imports`
//! row and every kept creative are written in ONE transaction, so a failure
//! or a cancel mid-import leaves no trace in the tables. Image files copied
//! into the [`ImageStore`] before the failure may remain: they are
//! content-addressed, unreferenced and harmless (a later import of the same
//! image reuses them).

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::backend::vals;
use super::connection::Store;
use super::error::StoreError;
use super::ids::ClickImportId;
use super::images::ImageStore;
use super::sql_types::text_enum;

const IMPORTS: &str = "click_imports";
const CREATIVES: &str = "creatives";

text_enum!(
    /// The file format of an imported click log.
    ClickLogKind, "click log format" {
        /// Comma-separated values with a header line.
        Csv => "csv",
        /// One JSON object per line.
        Jsonl => "jsonl",
    }
);

/// One parsed click-log row to import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCreative {
    /// 1-based line of the row in its file (for the report).
    pub line: usize,
    /// Unique creative id.
    pub creative_id: String,
    /// Product the creative advertises (the log's product id).
    pub product_key: String,
    /// The ad image file to copy into the image store (resolved path).
    pub image_source: PathBuf,
    /// Impressions (> 0).
    pub impressions: u64,
    /// Clicks (<= impressions).
    pub clicks: u64,
}

/// A click-log file to import: its name, format, the rows that parsed, and
/// how many rows the parser already rejected (counted in the import record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewClickImport {
    /// The file as the user named it.
    pub file: String,
    /// Its format.
    pub format: ClickLogKind,
    /// The parsed rows, in file order.
    pub rows: Vec<NewCreative>,
    /// Rows rejected while parsing (not passed in `rows`).
    pub rejected_while_parsing: usize,
}

/// Why the store refused a parsed row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ImportProblem {
    /// The creative id is already stored by an earlier import.
    AlreadyImported {
        /// The earlier import.
        import_id: ClickImportId,
    },
    /// The creative id appears on an earlier line of this import.
    DuplicateInFile {
        /// The line that was kept.
        first_line: usize,
    },
    /// The image file does not exist or cannot be read.
    MissingImage(PathBuf),
    /// The file exists but is not an image format the studio reads.
    NotAnImage(PathBuf),
    /// Counts outside the valid range (0 impressions, clicks > impressions,
    /// or larger than SQLite integers).
    BadCounts {
        /// Impressions given.
        impressions: u64,
        /// Clicks given.
        clicks: u64,
    },
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportProblem::AlreadyImported { import_id } => {
                write!(f, "creative id already imported (import #{import_id})")
            }
            ImportProblem::DuplicateInFile { first_line } => {
                write!(f, "duplicate creative id (first on line {first_line})")
            }
            ImportProblem::MissingImage(path) => write!(f, "image not found: {}", path.display()),
            ImportProblem::NotAnImage(path) => {
                write!(f, "not a readable image format: {}", path.display())
            }
            ImportProblem::BadCounts {
                impressions,
                clicks,
            } => write!(
                f,
                "invalid counts: {clicks} clicks for {impressions} impressions"
            ),
        }
    }
}

/// A row the store refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRejection {
    /// 1-based line in the file.
    pub line: usize,
    /// The row's creative id.
    pub creative_id: String,
    /// Why.
    pub problem: ImportProblem,
}

impl fmt::Display for ImportRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} ({}): {}",
            self.line, self.creative_id, self.problem
        )
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    /// The `click_imports` row.
    pub import_id: ClickImportId,
    /// Creatives stored, as (line, creative id), in file order.
    pub kept: Vec<(usize, String)>,
    /// Rows refused by the store, in file order.
    pub rejected: Vec<ImportRejection>,
    /// Rows the parser had already rejected.
    pub rejected_while_parsing: usize,
}

/// The image extension to store `bytes` under: the format detected from
/// the content (so a PNG named `.jpg` is stored as `.png`).
fn image_ext(bytes: &[u8]) -> Option<&'static str> {
    let format = image::guess_format(bytes).ok()?;
    format.extensions_str().first().copied()
}

/// Outcome of checking one row inside the import transaction.
enum RowOutcome {
    Keep { hash: String, ext: &'static str },
    Reject(ImportProblem),
}

impl Store {
    /// Imports a parsed click log (see [`Store::import_click_log_with`]).
    pub fn import_click_log(
        &self,
        images: &ImageStore,
        import: &NewClickImport,
    ) -> Result<ImportSummary, StoreError> {
        self.import_click_log_with(images, import, &mut |_, _| ControlFlow::Continue(()))
    }

    /// Imports a parsed click log in ONE transaction: good rows become
    /// `creatives` (their images copied into `images`), refused rows are
    /// reported with their line (repeated ids, missing or unreadable images,
    /// invalid counts), and a `click_imports` row records the file and the
    /// counts. `on_row(done, total)` is called before each row; `Break`
    /// cancels with [`StoreError::Cancelled`] and, like any error, rolls the
    /// whole import back (nothing of it stays in the tables).
    pub fn import_click_log_with(
        &self,
        images: &ImageStore,
        import: &NewClickImport,
        on_row: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> Result<ImportSummary, StoreError> {
        if import.file.is_empty() {
            return Err(StoreError::InvalidArgument {
                table: IMPORTS,
                message: "the click-log file name is empty".to_string(),
            });
        }
        self.transaction(IMPORTS, || self.import_rows(images, import, on_row))
    }

    /// The body of [`Store::import_click_log_with`], inside its transaction.
    fn import_rows(
        &self,
        images: &ImageStore,
        import: &NewClickImport,
        on_row: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> Result<ImportSummary, StoreError> {
        let import_id = ClickImportId(self.insert_returning_id(
            IMPORTS,
            "INSERT INTO click_imports (file, format, rows_ok, rows_rejected) \
             VALUES (?1, ?2, 0, 0)",
            &vals![import.file, import.format],
        )?);
        let mut summary = ImportSummary {
            import_id,
            kept: Vec::new(),
            rejected: Vec::new(),
            rejected_while_parsing: import.rejected_while_parsing,
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let total = import.rows.len();
        for (done, row) in import.rows.iter().enumerate() {
            if on_row(done, total).is_break() {
                return Err(StoreError::Cancelled {
                    table: CREATIVES,
                    done,
                    total,
                });
            }
            let outcome = if let Some(&first_line) = seen.get(row.creative_id.as_str()) {
                RowOutcome::Reject(ImportProblem::DuplicateInFile { first_line })
            } else {
                self.check_row(images, row)?
            };
            match outcome {
                RowOutcome::Reject(problem) => summary.rejected.push(ImportRejection {
                    line: row.line,
                    creative_id: row.creative_id.clone(),
                    problem,
                }),
                RowOutcome::Keep { hash, ext } => {
                    self.exec(
                        CREATIVES,
                        "INSERT INTO creatives (creative_id, product_key, image_hash, image_ext, \
                         source_path, impressions, clicks, import_id, line) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        &vals![
                            row.creative_id,
                            row.product_key,
                            hash,
                            ext,
                            row.image_source.to_string_lossy().as_ref(),
                            row.impressions as i64,
                            row.clicks as i64,
                            import_id,
                            row.line,
                        ],
                    )?;
                    seen.insert(&row.creative_id, row.line);
                    summary.kept.push((row.line, row.creative_id.clone()));
                }
            }
        }
        let rejected = summary.rejected.len() + import.rejected_while_parsing;
        self.exec(
            IMPORTS,
            "UPDATE click_imports SET rows_ok = ?1, rows_rejected = ?2 WHERE id = ?3",
            &vals![summary.kept.len(), rejected, import_id],
        )?;
        Ok(summary)
    }

    /// Checks counts, the stored ids and the image of one row; copies the
    /// image into the image store when the row is good.
    fn check_row(&self, images: &ImageStore, row: &NewCreative) -> Result<RowOutcome, StoreError> {
        let counts_fit = row.impressions > 0
            && row.clicks <= row.impressions
            && i64::try_from(row.impressions).is_ok();
        if !counts_fit {
            return Ok(RowOutcome::Reject(ImportProblem::BadCounts {
                impressions: row.impressions,
                clicks: row.clicks,
            }));
        }
        let stored: Option<ClickImportId> = self.query_opt(
            CREATIVES,
            "SELECT import_id FROM creatives WHERE creative_id = ?1",
            &vals![row.creative_id],
            |r| r.get(0),
        )?;
        if let Some(import_id) = stored {
            return Ok(RowOutcome::Reject(ImportProblem::AlreadyImported {
                import_id,
            }));
        }
        let Ok(bytes) = std::fs::read(&row.image_source) else {
            return Ok(RowOutcome::Reject(ImportProblem::MissingImage(
                row.image_source.clone(),
            )));
        };
        let Some(ext) = image_ext(&bytes) else {
            return Ok(RowOutcome::Reject(ImportProblem::NotAnImage(
                row.image_source.clone(),
            )));
        };
        let stored = images.put_bytes(&bytes, ext)?;
        Ok(RowOutcome::Keep {
            hash: stored.hash,
            ext,
        })
    }
}

/// The path a click log names for an image, resolved against the log's
/// directory when relative.
pub fn resolve_image_path(log_file: &Path, image: &Path) -> PathBuf {
    if image.is_absolute() {
        image.to_path_buf()
    } else {
        log_file
            .parent()
            .map(|dir| dir.join(image))
            .unwrap_or_else(|| image.to_path_buf())
    }
}
