//! Importing one preference label on two renders together with the
//! product and renders it needs, in a single transaction (used by
//! `adstudio prefs import`): a row is stored whole or not at all.

use serde_json::Value;

use super::backend::vals;
use super::connection::Store;
use super::error::StoreError;
use super::ids::{PreferenceId, ProductId, RenderId};
use super::preferences::{Outcome, PreferenceSource};
use super::products::NewProduct;
use super::renders::NewRender;

const TABLE: &str = "preferences";

/// A render named by an imported label; its image is already in the image
/// store.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRender {
    /// Every generation parameter (the prompt is in it).
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
}

/// An imported label on two renders of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPreference {
    /// The product; an existing product with the same image hash is used
    /// instead when there is one.
    pub product: NewProduct,
    /// Item A; an existing render of the product with the same image hash
    /// is used instead when there is one.
    pub a: ImportedRender,
    /// Item B (same rule).
    pub b: ImportedRender,
    /// The judgement on (A, B).
    pub outcome: Outcome,
    /// Human or model.
    pub source: PreferenceSource,
    /// Who labeled it.
    pub labeler: String,
    /// Whether A was shown on the left, if it was shown.
    pub left_is_a: Option<bool>,
    /// The model's probability that A is better, if recorded.
    pub model_p_a: Option<f64>,
    /// The original creation time (ISO 8601 UTC); now when `None`.
    pub created_at: Option<String>,
}

/// What importing one label did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedIds {
    /// The product used.
    pub product: ProductId,
    /// Whether the product row was created.
    pub product_created: bool,
    /// Render A.
    pub a: RenderId,
    /// Render B.
    pub b: RenderId,
    /// How many of the two render rows were created.
    pub renders_created: usize,
    /// The label.
    pub preference: PreferenceId,
    /// True when the same active label (same renders, outcome, source,
    /// labeler and creation time) was already stored: nothing was added.
    pub already_present: bool,
}

impl Store {
    /// Stores an imported label with its product and renders in one
    /// transaction, creating the product and renders that are missing
    /// (found by image hash). Importing the same label twice stores it
    /// once. Fails with [`StoreError::InvalidArgument`] when a render's
    /// image is already a render of another product or both items are the
    /// same render, and with [`StoreError::Constraint`] for values the
    /// schema refuses; nothing of the row is stored then.
    pub fn import_render_preference(
        &self,
        pref: &ImportedPreference,
    ) -> Result<ImportedIds, StoreError> {
        self.transaction(TABLE, || self.import_render_preference_in_tx(pref))
    }

    /// The body of [`Store::import_render_preference`], inside its
    /// transaction.
    fn import_render_preference_in_tx(
        &self,
        pref: &ImportedPreference,
    ) -> Result<ImportedIds, StoreError> {
        let existing: Option<ProductId> = self.query_opt(
            "products",
            "SELECT id FROM products WHERE image_hash = ?1 ORDER BY id LIMIT 1",
            &vals![pref.product.image_hash],
            |r| r.get(0),
        )?;
        let product = match existing {
            Some(id) => id,
            None => self.insert_product(&pref.product)?,
        };
        let (a, a_new) = self.find_or_insert_render(product, &pref.a)?;
        let (b, b_new) = self.find_or_insert_render(product, &pref.b)?;
        if a == b {
            return Err(StoreError::InvalidArgument {
                table: TABLE,
                message: format!("both items are the same image (render {a})"),
            });
        }
        let present = self.same_active_label(a, b, pref)?;
        let preference = match present {
            Some(id) => id,
            None => PreferenceId(self.insert_returning_id(
                TABLE,
                "INSERT INTO preferences (render_a, render_b, left_is_a, outcome, source, \
                     labeler, model_p_a, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                     COALESCE(?8, @NOW))",
                &vals![
                    a,
                    b,
                    pref.left_is_a,
                    pref.outcome,
                    pref.source,
                    pref.labeler,
                    pref.model_p_a,
                    pref.created_at
                ],
            )?),
        };
        Ok(ImportedIds {
            product,
            product_created: existing.is_none(),
            a,
            b,
            renders_created: usize::from(a_new) + usize::from(b_new),
            preference,
            already_present: present.is_some(),
        })
    }

    /// The render of `product` with this image, inserted when missing.
    fn find_or_insert_render(
        &self,
        product: ProductId,
        render: &ImportedRender,
    ) -> Result<(RenderId, bool), StoreError> {
        let found: Option<(RenderId, ProductId)> = self.query_opt(
            "renders",
            "SELECT id, product_id FROM renders WHERE image_hash = ?1 \
             ORDER BY product_id <> ?2, id LIMIT 1",
            &vals![render.image_hash, product],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match found {
            Some((id, owner)) if owner == product => Ok((id, false)),
            Some((id, owner)) => Err(StoreError::InvalidArgument {
                table: "renders",
                message: format!(
                    "image {} is already render {id} of product {owner}, not of product {product}",
                    render.image_hash
                ),
            }),
            None => {
                let id = self.insert_render(&NewRender {
                    product_id: product,
                    params_json: render.params_json.clone(),
                    seed: render.seed,
                    model_ids_json: render.model_ids_json.clone(),
                    image_hash: render.image_hash.clone(),
                    image_path: render.image_path.clone(),
                    width: render.width,
                    height: render.height,
                })?;
                Ok((id, true))
            }
        }
    }

    fn same_active_label(
        &self,
        a: RenderId,
        b: RenderId,
        pref: &ImportedPreference,
    ) -> Result<Option<PreferenceId>, StoreError> {
        let Some(created_at) = &pref.created_at else {
            return Ok(None);
        };
        self.query_opt(
            TABLE,
            "SELECT p.id FROM preferences p WHERE p.render_a = ?1 AND p.render_b = ?2 \
             AND p.outcome = ?3 AND p.source = ?4 AND p.labeler = ?5 AND p.created_at = ?6 \
             AND NOT EXISTS (SELECT 1 FROM preference_retractions r WHERE r.preference_id = p.id) \
             ORDER BY p.id LIMIT 1",
            &vals![a, b, pref.outcome, pref.source, pref.labeler, created_at],
            |r| r.get(0),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::store::products::ProductSettings;

    fn product(hash: char) -> NewProduct {
        NewProduct {
            title: format!("product {hash}"),
            source_name: "p.png".to_string(),
            image_hash: hash.to_string().repeat(64),
            image_ext: "png".to_string(),
            width: 8,
            height: 8,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        }
    }

    fn render(hash: char) -> ImportedRender {
        ImportedRender {
            params_json: json!({"prompt": format!("scene {hash}")}),
            seed: 1,
            model_ids_json: json!({}),
            image_hash: hash.to_string().repeat(64),
            image_path: format!("{hash}.png"),
            width: 8,
            height: 8,
        }
    }

    fn label(product_hash: char, a: char, b: char) -> ImportedPreference {
        ImportedPreference {
            product: product(product_hash),
            a: render(a),
            b: render(b),
            outcome: Outcome::B,
            source: PreferenceSource::Human,
            labeler: "ann".to_string(),
            left_is_a: Some(true),
            model_p_a: None,
            created_at: Some("2025-02-03T04:05:06.789Z".to_string()),
        }
    }

    #[test]
    fn creates_what_is_missing_reuses_what_exists_and_keeps_the_time() {
        let store = Store::open_in_memory().unwrap();
        let first = store
            .import_render_preference(&label('a', '1', '2'))
            .unwrap();
        assert!(first.product_created && !first.already_present);
        assert_eq!(first.renders_created, 2);
        let row = store.preference(first.preference).unwrap().unwrap();
        assert_eq!(row.created_at, "2025-02-03T04:05:06.789Z");
        assert_eq!(row.outcome, Outcome::B);
        let second = store
            .import_render_preference(&label('a', '2', '3'))
            .unwrap();
        assert!(!second.product_created);
        assert_eq!((second.product, second.a), (first.product, first.b));
        assert_eq!(second.renders_created, 1);
        let again = store
            .import_render_preference(&label('a', '1', '2'))
            .unwrap();
        assert!(again.already_present);
        assert_eq!(again.preference, first.preference);
        assert_eq!(store.active_preferences().unwrap().len(), 2);
    }

    /// A render image that belongs to another product, or the same image
    /// on both sides, fails and rolls the whole row back (the new product
    /// and render are not kept).
    #[test]
    fn a_conflicting_row_stores_nothing() {
        let store = Store::open_in_memory().unwrap();
        store
            .import_render_preference(&label('a', '1', '2'))
            .unwrap();
        let err = store
            .import_render_preference(&label('b', '3', '1'))
            .unwrap_err();
        assert!(err.to_string().contains("already render"), "{err}");
        let err = store
            .import_render_preference(&label('c', '4', '4'))
            .unwrap_err();
        assert!(err.to_string().contains("same image"), "{err}");
        assert_eq!(store.list_products().unwrap().len(), 1);
        let renders = store
            .query_opt("renders", "SELECT count(*) FROM renders", &[], |r| {
                r.get::<i64>(0)
            })
            .unwrap();
        assert_eq!(renders, Some(2));
        assert_eq!(store.preferences().unwrap().len(), 1);
    }
}
