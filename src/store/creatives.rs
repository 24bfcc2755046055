//! Reading the `creatives` and `click_imports` tables back (for pairing,
//! training and reports).

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row};
use serde::Serialize;

use super::clicklog::ClickLogKind;
use super::connection::Store;
use super::error::StoreError;
use super::ids::{ClickImportId, CreativeRowId};
use super::images::ImageStore;

const IMPORTS: &str = "click_imports";
const CREATIVES: &str = "creatives";

/// A row of `creatives`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreativeRow {
    /// Row id.
    pub id: CreativeRowId,
    /// Creative id from the click log.
    pub creative_id: String,
    /// Product key from the click log.
    pub product_key: String,
    /// SHA-256 of the stored image file.
    pub image_hash: String,
    /// Extension of the stored image file.
    pub image_ext: String,
    /// Where the image was imported from.
    pub source_path: String,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// The import that brought it in.
    pub import_id: ClickImportId,
    /// Its line in that import's file.
    pub line: usize,
}

impl CreativeRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<CreativeRow> {
        Ok(CreativeRow {
            id: row.get(0)?,
            creative_id: row.get(1)?,
            product_key: row.get(2)?,
            image_hash: row.get(3)?,
            image_ext: row.get(4)?,
            source_path: row.get(5)?,
            impressions: row.get::<_, i64>(6)?.unsigned_abs(),
            clicks: row.get::<_, i64>(7)?.unsigned_abs(),
            import_id: row.get(8)?,
            line: row.get::<_, i64>(9)?.unsigned_abs() as usize,
        })
    }

    /// Click-through rate = clicks / impressions.
    pub fn ctr(&self) -> f64 {
        self.clicks as f64 / self.impressions.max(1) as f64
    }

    /// The stored image file in `images`.
    pub fn image_path(&self, images: &ImageStore) -> Result<PathBuf, StoreError> {
        images.path_for(&self.image_hash, &self.image_ext)
    }
}

/// A row of `click_imports`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClickImportRow {
    /// Row id.
    pub id: ClickImportId,
    /// The imported file.
    pub file: String,
    /// Its format.
    pub format: ClickLogKind,
    /// Creatives stored.
    pub rows_ok: u64,
    /// Rows rejected (by the parser and the store).
    pub rows_rejected: u64,
    /// Import time, UTC, ISO 8601 with milliseconds.
    pub imported_at: String,
}

const SELECT_CREATIVES: &str = "SELECT id, creative_id, product_key, image_hash, image_ext, \
     source_path, impressions, clicks, import_id, line FROM creatives";

impl Store {
    /// Every stored creative, grouped by product key (then import order).
    pub fn creatives(&self) -> Result<Vec<CreativeRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT_CREATIVES} ORDER BY product_key, id"))
            .map_err(|e| self.sql_err(CREATIVES, e))?;
        stmt.query_map([], CreativeRow::from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(CREATIVES, e))
    }

    /// The creative with this click-log id, if stored.
    pub fn creative(&self, creative_id: &str) -> Result<Option<CreativeRow>, StoreError> {
        self.conn
            .query_row(
                &format!("{SELECT_CREATIVES} WHERE creative_id = ?1"),
                [creative_id],
                CreativeRow::from_row,
            )
            .optional()
            .map_err(|e| self.sql_err(CREATIVES, e))
    }

    /// Number of stored creatives.
    pub fn creative_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM creatives", [], |r| r.get::<_, i64>(0))
            .map(i64::unsigned_abs)
            .map_err(|e| self.sql_err(CREATIVES, e))
    }

    /// Every click-log import, oldest first.
    pub fn click_imports(&self) -> Result<Vec<ClickImportRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, file, format, rows_ok, rows_rejected, imported_at \
                 FROM click_imports ORDER BY id",
            )
            .map_err(|e| self.sql_err(IMPORTS, e))?;
        stmt.query_map([], |r| {
            Ok(ClickImportRow {
                id: r.get(0)?,
                file: r.get(1)?,
                format: r.get(2)?,
                rows_ok: r.get::<_, i64>(3)?.unsigned_abs(),
                rows_rejected: r.get::<_, i64>(4)?.unsigned_abs(),
                imported_at: r.get(5)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(IMPORTS, e))
    }
}
