//! The click table: one row per creative imported with a click log, with
//! its counts, CTR and the import it came from.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::columns::Column;
use super::error::DatasetError;
use super::pref_rows::absolute;
use crate::store::{ClickImportRow, ImageStore, Store};

/// One exported creative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClickRow {
    /// The creative's row id in the store (what preference labels on
    /// creatives name).
    pub creative_row_id: i64,
    /// The creative id from the click log.
    pub creative_id: String,
    /// The product key from the click log.
    pub product_key: String,
    /// SHA-256 of the ad image.
    pub image_hash: String,
    /// The ad image's absolute path in the image store.
    pub image: String,
    /// Where the image was imported from.
    pub source_path: String,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Click-through rate, clicks / impressions.
    pub ctr: f64,
    /// The click-log import's row id.
    pub import_id: i64,
    /// The imported click-log file.
    pub import_file: String,
    /// When it was imported (ISO 8601 UTC, milliseconds).
    pub imported_at: String,
    /// The creative's line in that file.
    pub line: u64,
}

/// Every stored creative as a row, grouped by product key (then import
/// order).
pub fn click_rows(store: &Store, images: &ImageStore) -> Result<Vec<ClickRow>, DatasetError> {
    let imports: HashMap<i64, ClickImportRow> = store
        .click_imports()?
        .into_iter()
        .map(|import| (import.id.0, import))
        .collect();
    store
        .creatives()?
        .into_iter()
        .map(|c| -> Result<ClickRow, DatasetError> {
            let import = imports.get(&c.import_id.0);
            Ok(ClickRow {
                creative_row_id: c.id.0,
                image: absolute(c.image_path(images)?),
                ctr: c.ctr(),
                import_id: c.import_id.0,
                import_file: import.map(|i| i.file.clone()).unwrap_or_default(),
                imported_at: import.map(|i| i.imported_at.clone()).unwrap_or_default(),
                line: c.line as u64,
                creative_id: c.creative_id,
                product_key: c.product_key,
                image_hash: c.image_hash,
                source_path: c.source_path,
                impressions: c.impressions,
                clicks: c.clicks,
            })
        })
        .collect()
}

/// The Parquet columns of `rows`, in [`ClickRow`]'s field order.
pub fn click_columns(rows: &[ClickRow]) -> Vec<Column> {
    let text = |name, get: fn(&ClickRow) -> &str| Column::text(name, rows.iter().map(get));
    let int = |name, get: fn(&ClickRow) -> i64| Column::int(name, rows.iter().map(get));
    let uint = |name, get: fn(&ClickRow) -> u64| Column::uint(name, rows.iter().map(get));
    vec![
        int("creative_row_id", |r| r.creative_row_id),
        text("creative_id", |r| &r.creative_id),
        text("product_key", |r| &r.product_key),
        text("image_hash", |r| &r.image_hash),
        text("image", |r| &r.image),
        text("source_path", |r| &r.source_path),
        uint("impressions", |r| r.impressions),
        uint("clicks", |r| r.clicks),
        Column::float("ctr", rows.iter().map(|r| r.ctr)),
        int("import_id", |r| r.import_id),
        text("import_file", |r| &r.import_file),
        text("imported_at", |r| &r.imported_at),
        uint("line", |r| r.line),
    ]
}
