//! The `batch_suggestions` table: the suggestions a catalog batch wrote for
//! a product under given settings, kept so that a rerun reuses them.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::ProductId;
use super::sql_types::json_text;

const TABLE: &str = "batch_suggestions";

/// A product's suggestions written under one set of settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewBatchSuggestions<'a> {
    /// The product.
    pub product_id: ProductId,
    /// What they were written with (compared as canonical JSON text).
    pub settings_json: &'a Value,
    /// The suggestions, in order.
    pub texts: &'a [String],
    /// The prompt model that wrote them.
    pub prompt_model: &'a str,
    /// Its adapter, if any.
    pub adapter: Option<&'a str>,
}

/// A row of `batch_suggestions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchSuggestionRow {
    /// The product.
    pub product_id: ProductId,
    /// The settings they were written with.
    pub settings_json: Value,
    /// 0-based position.
    pub index: usize,
    /// The suggestion.
    pub text: String,
    /// The prompt model that wrote it.
    pub prompt_model: String,
    /// Its adapter, if any.
    pub adapter: Option<String>,
}

impl BatchSuggestionRow {
    fn from_row(row: &DbRow) -> Result<BatchSuggestionRow, ConvertError> {
        Ok(BatchSuggestionRow {
            product_id: row.get(0)?,
            settings_json: row.get(1)?,
            index: row.get(2)?,
            text: row.get(3)?,
            prompt_model: row.get(4)?,
            adapter: row.get(5)?,
        })
    }
}

impl Store {
    /// Stores a product's batch suggestions in one transaction (all or
    /// none). Fails with [`StoreError::Constraint`] when suggestions with
    /// the same product and settings are already stored.
    pub fn insert_batch_suggestions(
        &self,
        new: &NewBatchSuggestions<'_>,
    ) -> Result<(), StoreError> {
        let settings = json_text(new.settings_json);
        self.transaction(TABLE, || {
            for (i, text) in new.texts.iter().enumerate() {
                self.exec(
                    TABLE,
                    "INSERT INTO batch_suggestions (product_id, settings_json, idx, text, \
                     prompt_model, adapter) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    &vals![
                        new.product_id,
                        settings,
                        i,
                        text,
                        new.prompt_model,
                        new.adapter
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// The suggestions stored for `product` under exactly these settings,
    /// in order (empty when there are none).
    pub fn batch_suggestions(
        &self,
        product: ProductId,
        settings_json: &Value,
    ) -> Result<Vec<BatchSuggestionRow>, StoreError> {
        self.query_rows(
            TABLE,
            "SELECT product_id, settings_json, idx, text, prompt_model, adapter \
             FROM batch_suggestions WHERE product_id = ?1 AND settings_json = ?2 \
             ORDER BY idx",
            &vals![product, json_text(settings_json)],
            BatchSuggestionRow::from_row,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{NewProduct, ProductSettings};

    fn product(store: &Store) -> ProductId {
        store
            .insert_product(&NewProduct {
                title: "mug".into(),
                source_name: "mug.png".into(),
                image_hash: "a".repeat(64),
                image_ext: "png".into(),
                width: 8,
                height: 8,
                has_transparency: false,
                settings: ProductSettings {
                    mask_settings_json: json!({}),
                    mask_edits_json: json!([]),
                    canvas_settings_json: json!({}),
                },
            })
            .unwrap()
    }

    #[test]
    fn suggestions_are_found_by_product_and_exact_settings() {
        let store = Store::open_in_memory().unwrap();
        let p = product(&store);
        let settings = json!({"k": 2, "seed": 7, "title": "mug"});
        let texts = vec!["a beach".to_string(), "a kitchen".to_string()];
        let new = NewBatchSuggestions {
            product_id: p,
            settings_json: &settings,
            texts: &texts,
            prompt_model: "tiny",
            adapter: Some("warm"),
        };
        store.insert_batch_suggestions(&new).unwrap();
        let rows = store.batch_suggestions(p, &settings).unwrap();
        let got: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(got, ["a beach", "a kitchen"]);
        assert_eq!(rows[1].index, 1);
        assert_eq!(rows[0].adapter.as_deref(), Some("warm"));
        let other = json!({"k": 2, "seed": 8, "title": "mug"});
        assert!(store.batch_suggestions(p, &other).unwrap().is_empty());
        // The same settings twice is refused, and nothing half-written stays.
        assert!(store.insert_batch_suggestions(&new).is_err());
        assert_eq!(store.batch_suggestions(p, &settings).unwrap().len(), 2);
    }
}
