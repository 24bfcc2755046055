//! The `renders` table: generated ad images and how they were made.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use super::connection::Store;
use super::error::StoreError;
use super::ids::{ProductId, RenderId};
use super::sql_types::{json_column, json_text, seed_from_sql, seed_to_sql};

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
    fn from_row(row: &Row<'_>) -> rusqlite::Result<RenderRow> {
        Ok(RenderRow {
            id: row.get(0)?,
            product_id: row.get(1)?,
            params_json: json_column(row, 2)?,
            seed: seed_from_sql(row.get(3)?),
            model_ids_json: json_column(row, 4)?,
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
        self.conn
            .execute(
                "INSERT INTO renders (product_id, params_json, seed, model_ids_json, image_hash, \
                 image_path, width, height) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
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
            .map_err(|e| self.sql_err(TABLE, e))?;
        Ok(RenderId(self.conn.last_insert_rowid()))
    }

    /// The render with this id, if any.
    pub fn render(&self, id: RenderId) -> Result<Option<RenderRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM renders WHERE id = ?1"),
                [id],
                RenderRow::from_row,
            )
            .optional()
            .map_err(|e| self.sql_err(TABLE, e))
    }

    /// The renders of one product, newest first.
    pub fn renders_for_product(&self, product: ProductId) -> Result<Vec<RenderRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM renders WHERE product_id = ?1 \
                 ORDER BY created_at DESC, id DESC"
            ))
            .map_err(|e| self.sql_err(TABLE, e))?;
        stmt.query_map([product], RenderRow::from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(TABLE, e))
    }

    /// The renders of `product` made with `seed`, oldest first (a catalog
    /// batch looks here for a render it already made).
    pub fn renders_with_seed(
        &self,
        product: ProductId,
        seed: u64,
    ) -> Result<Vec<RenderRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM renders WHERE product_id = ?1 AND seed = ?2 ORDER BY id"
            ))
            .map_err(|e| self.sql_err(TABLE, e))?;
        stmt.query_map(params![product, seed_to_sql(seed)], RenderRow::from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(TABLE, e))
    }
}
