//! Reading the `creatives` and `click_imports` tables back (for pairing,
//! training and reports).

use std::path::PathBuf;

use serde::Serialize;

use super::backend::{vals, ConvertError, DbRow};
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
    fn from_row(row: &DbRow) -> Result<CreativeRow, ConvertError> {
        Ok(CreativeRow {
            id: row.get(0)?,
            creative_id: row.get(1)?,
            product_key: row.get(2)?,
            image_hash: row.get(3)?,
            image_ext: row.get(4)?,
            source_path: row.get(5)?,
            impressions: row.get(6)?,
            clicks: row.get(7)?,
            import_id: row.get(8)?,
            line: row.get(9)?,
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
        self.query_rows(
            CREATIVES,
            &format!("{SELECT_CREATIVES} ORDER BY product_key, id"),
            &[],
            CreativeRow::from_row,
        )
    }

    /// The creative with this click-log id, if stored.
    pub fn creative(&self, creative_id: &str) -> Result<Option<CreativeRow>, StoreError> {
        self.query_opt(
            CREATIVES,
            &format!("{SELECT_CREATIVES} WHERE creative_id = ?1"),
            &vals![creative_id],
            CreativeRow::from_row,
        )
    }

    /// Number of stored creatives.
    pub fn creative_count(&self) -> Result<u64, StoreError> {
        let count = self.query_opt(CREATIVES, "SELECT count(*) FROM creatives", &[], |r| {
            r.get::<u64>(0)
        })?;
        Ok(count.unwrap_or(0))
    }

    /// Every click-log import, oldest first.
    pub fn click_imports(&self) -> Result<Vec<ClickImportRow>, StoreError> {
        self.query_rows(
            IMPORTS,
            "SELECT id, file, format, rows_ok, rows_rejected, imported_at \
             FROM click_imports ORDER BY id",
            &[],
            |r| {
                Ok(ClickImportRow {
                    id: r.get(0)?,
                    file: r.get(1)?,
                    format: r.get(2)?,
                    rows_ok: r.get(3)?,
                    rows_rejected: r.get(4)?,
                    imported_at: r.get(5)?,
                })
            },
        )
    }
}
