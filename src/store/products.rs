//! The `products` table: imported product photos and their editing settings.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::ProductId;
use super::sql_types::json_text;

const TABLE: &str = "products";

const COLUMNS: &str = "id, title, source_name, image_hash, image_ext, width, height, \
     has_transparency, mask_settings_json, mask_edits_json, canvas_settings_json, \
     created_at, updated_at, mask_source";

/// The user-editable settings of a product, serialised by the product
/// module (the store only checks that they are valid JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSettings {
    /// How the mask is computed (method, tolerance, ...).
    pub mask_settings_json: Value,
    /// Manual brush edits applied on top of the computed mask.
    pub mask_edits_json: Value,
    /// Placement of the product on the ad canvas.
    pub canvas_settings_json: Value,
}

/// A product to insert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewProduct {
    /// Product title, used in the prompt model's instruction.
    pub title: String,
    /// Name of the imported file (or catalog entry) it came from.
    pub source_name: String,
    /// SHA-256 (hex) of the original file's bytes in the image store.
    pub image_hash: String,
    /// Extension of the stored original ("png", "jpg", ...).
    pub image_ext: String,
    /// Width of the original image in pixels.
    pub width: u32,
    /// Height of the original image in pixels.
    pub height: u32,
    /// Whether the original has a meaningful alpha channel.
    pub has_transparency: bool,
    /// Initial editing settings.
    pub settings: ProductSettings,
}

/// A row of `products`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRow {
    /// Row id.
    pub id: ProductId,
    /// Product title.
    pub title: String,
    /// Name of the imported file it came from.
    pub source_name: String,
    /// SHA-256 (hex) of the original file's bytes.
    pub image_hash: String,
    /// Extension of the stored original.
    pub image_ext: String,
    /// Width of the original in pixels.
    pub width: u32,
    /// Height of the original in pixels.
    pub height: u32,
    /// Whether the original has a meaningful alpha channel.
    pub has_transparency: bool,
    /// Current editing settings.
    pub settings: ProductSettings,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
    /// Last settings update, UTC, ISO 8601 with milliseconds.
    pub updated_at: String,
    /// Where the current base mask came from ("alpha", "key", "saliency"),
    /// once the studio has built one.
    pub mask_source: Option<String>,
}

impl ProductRow {
    fn from_row(row: &DbRow) -> Result<ProductRow, ConvertError> {
        Ok(ProductRow {
            id: row.get(0)?,
            title: row.get(1)?,
            source_name: row.get(2)?,
            image_hash: row.get(3)?,
            image_ext: row.get(4)?,
            width: row.get(5)?,
            height: row.get(6)?,
            has_transparency: row.get(7)?,
            settings: ProductSettings {
                mask_settings_json: row.get(8)?,
                mask_edits_json: row.get(9)?,
                canvas_settings_json: row.get(10)?,
            },
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            mask_source: row.get(13)?,
        })
    }
}

impl Store {
    /// Inserts a product and returns its id.
    pub fn insert_product(&self, product: &NewProduct) -> Result<ProductId, StoreError> {
        let s = &product.settings;
        self.insert_returning_id(
            TABLE,
            "INSERT INTO products (title, source_name, image_hash, image_ext, width, height, \
             has_transparency, mask_settings_json, mask_edits_json, canvas_settings_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &vals![
                product.title,
                product.source_name,
                product.image_hash,
                product.image_ext,
                product.width,
                product.height,
                product.has_transparency,
                json_text(&s.mask_settings_json),
                json_text(&s.mask_edits_json),
                json_text(&s.canvas_settings_json),
            ],
        )
        .map(ProductId)
    }

    /// Replaces a product's editing settings and bumps `updated_at`.
    /// Fails with [`StoreError::NotFound`] for an unknown id.
    pub fn update_product_settings(
        &self,
        id: ProductId,
        settings: &ProductSettings,
    ) -> Result<(), StoreError> {
        let changed = self.exec(
            TABLE,
            "UPDATE products SET mask_settings_json = ?2, mask_edits_json = ?3, \
             canvas_settings_json = ?4, updated_at = @NOW WHERE id = ?1",
            &vals![
                id,
                json_text(&settings.mask_settings_json),
                json_text(&settings.mask_edits_json),
                json_text(&settings.canvas_settings_json),
            ],
        )?;
        self.require_changed(changed, TABLE, id.0)
    }

    /// Records where the product's base mask came from ("alpha", "key" or
    /// "saliency"). Fails with [`StoreError::NotFound`] for an unknown id.
    pub fn set_product_mask_source(&self, id: ProductId, source: &str) -> Result<(), StoreError> {
        let changed = self.exec(
            TABLE,
            "UPDATE products SET mask_source = ?2 WHERE id = ?1",
            &vals![id, source],
        )?;
        self.require_changed(changed, TABLE, id.0)
    }

    /// Renames a product and bumps `updated_at`.
    /// Fails with [`StoreError::NotFound`] for an unknown id.
    pub fn update_product_title(&self, id: ProductId, title: &str) -> Result<(), StoreError> {
        let changed = self.exec(
            TABLE,
            "UPDATE products SET title = ?2, updated_at = @NOW WHERE id = ?1",
            &vals![id, title],
        )?;
        self.require_changed(changed, TABLE, id.0)
    }

    /// The product with this id, if any.
    pub fn product(&self, id: ProductId) -> Result<Option<ProductRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!("SELECT {COLUMNS} FROM products WHERE id = ?1"),
            &vals![id],
            ProductRow::from_row,
        )
    }

    /// All products, newest first.
    pub fn list_products(&self) -> Result<Vec<ProductRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!("SELECT {COLUMNS} FROM products ORDER BY created_at DESC, id DESC"),
            &[],
            ProductRow::from_row,
        )
    }

    /// The oldest product with this image (by content hash) and title, if
    /// any: a catalog batch reuses it instead of importing the row again.
    pub fn product_by_image_and_title(
        &self,
        image_hash: &str,
        title: &str,
    ) -> Result<Option<ProductRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!(
                "SELECT {COLUMNS} FROM products WHERE image_hash = ?1 AND title = ?2 \
                 ORDER BY id LIMIT 1"
            ),
            &vals![image_hash, title],
            ProductRow::from_row,
        )
    }
}
