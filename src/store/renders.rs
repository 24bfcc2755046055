//! The `renders` table: generated ad images and how they were made.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::{ProductId, RenderId};
use super::sql_types::{json_text, seed_from_sql, seed_to_sql};

const TABLE: &str = "renders";

const COLUMNS: &str = "id, product_id, params_json, seed, model_ids_json, image_hash, \
     image_path, width, height, created_at";

/// A render to insert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewRender {
    /// The product it shows.
    pub product_id: ProductId,
    /// Every generation parameter (prompt, steps, CFG, ...), enough to redo it.
    pub params_json: Value,
    /// The sampler seed (all 64 bits are kept).
    pub seed: u64,
    /// Ids of the models used (checkpoint, ControlNet, adapters, ...).
    pub model_ids_json: Value,
    /// SHA-256 (hex) of the stored image file.
    pub image_hash: String,
    /// Path of the stored image file.
    pub image_path: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A row of `renders`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderRow {
    /// Row id.
    pub id: RenderId,
    /// The product it shows.
    pub product_id: ProductId,
    /// Every generation parameter.
    pub params_json: Value,
    /// The sampler seed.
    pub seed: u64,
    /// Ids of the models used.
    pub model_ids_json: Value,
    /// SHA-256 (hex) of the stored image file.
    pub image_hash: String,
    /// Path of the stored image file.
    pub image_path: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
}

impl RenderRow {
    fn from_row(row: &DbRow) -> Result<RenderRow, ConvertError> {
        Ok(RenderRow {
            id: row.get(0)?,
            product_id: row.get(1)?,
            params_json: row.get(2)?,
            seed: seed_from_sql(row.get(3)?),
            model_ids_json: row.get(4)?,
            image_hash: row.get(5)?,
            image_path: row.get(6)?,
            width: row.get(7)?,
            height: row.get(8)?,
            created_at: row.get(9)?,
        })
    }
}

impl Store {
    /// Inserts a render and returns its id. Fails with
    /// [`StoreError::Constraint`] if the product does not exist.
    pub fn insert_render(&self, render: &NewRender) -> Result<RenderId, StoreError> {
        self.insert_returning_id(
            TABLE,
            "INSERT INTO renders (product_id, params_json, seed, model_ids_json, image_hash, \
             image_path, width, height) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &vals![
                render.product_id,
                json_text(&render.params_json),
                seed_to_sql(render.seed),
                json_text(&render.model_ids_json),
                render.image_hash,
                render.image_path,
                render.width,
                render.height,
            ],
        )
        .map(RenderId)
    }

    /// The render with this id, if any.
    pub fn render(&self, id: RenderId) -> Result<Option<RenderRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!("SELECT {COLUMNS} FROM renders WHERE id = ?1"),
            &vals![id],
            RenderRow::from_row,
        )
    }

    /// The renders of one product, newest first.
    pub fn renders_for_product(&self, product: ProductId) -> Result<Vec<RenderRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!(
                "SELECT {COLUMNS} FROM renders WHERE product_id = ?1 \
                 ORDER BY created_at DESC, id DESC"
            ),
            &vals![product],
            RenderRow::from_row,
        )
    }

    /// The renders of `product` made with `seed`, oldest first (a catalog
    /// batch looks here for a render it already made).
    pub fn renders_with_seed(
        &self,
        product: ProductId,
        seed: u64,
    ) -> Result<Vec<RenderRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!(
                "SELECT {COLUMNS} FROM renders WHERE product_id = ?1 AND seed = ?2 ORDER BY id"
            ),
            &vals![product, seed_to_sql(seed)],
            RenderRow::from_row,
        )
    }
}
