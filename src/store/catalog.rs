//! Catalog queries: per-product summaries for the studio's Catalog view
//! and the masks renders were placed with (the `render_masks` table).

use serde::Serialize;

use super::backend::vals;
use super::connection::Store;
use super::error::StoreError;
use super::ids::{ProductId, RenderId};

/// What the catalog shows of one product besides its title and image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSummary {
    /// The product.
    pub product: ProductId,
    /// Number of renders (variants).
    pub renders: u64,
    /// The best predicted CTR among its renders (each render's latest
    /// score that has one), if any render was scored.
    pub best_ctr: Option<f64>,
    /// Distinct pairs of its renders with an active human label other than
    /// "skip".
    pub labelled_pairs: u64,
}

const SUMMARY_SQL: &str = "\
SELECT p.id,
  (SELECT count(*) FROM renders r WHERE r.product_id = p.id),
  (SELECT max(s.ctr) FROM scores s JOIN renders r ON r.id = s.render_id
     WHERE r.product_id = p.id
       AND s.id = (SELECT max(s2.id) FROM scores s2
                   WHERE s2.render_id = s.render_id AND s2.ctr IS NOT NULL)),
  (SELECT count(DISTINCT CASE WHEN q.render_a < q.render_b
                             THEN q.render_a || ':' || q.render_b
                             ELSE q.render_b || ':' || q.render_a END)
     FROM preferences q JOIN renders r ON r.id = q.render_a
     WHERE r.product_id = p.id AND q.source = 'human' AND q.outcome <> 'skip'
       AND NOT EXISTS (SELECT 1 FROM preference_retractions x WHERE x.preference_id = q.id))
FROM products p ORDER BY p.created_at DESC, p.id DESC";

impl Store {
    /// A summary of every product, newest first (the order of
    /// [`Store::list_products`]).
    pub fn product_summaries(&self) -> Result<Vec<ProductSummary>, StoreError> {
        self.query_rows("products", SUMMARY_SQL, &[], |r| {
            Ok(ProductSummary {
                product: r.get(0)?,
                renders: r.get(1)?,
                best_ctr: r.get(2)?,
                labelled_pairs: r.get(3)?,
            })
        })
    }

    /// Records the hash of the mask (a PNG in the image store) a render was
    /// placed with; a second call for the same render replaces it.
    pub fn set_render_mask(&self, render: RenderId, mask_hash: &str) -> Result<(), StoreError> {
        self.exec(
            "render_masks",
            "INSERT INTO render_masks (render_id, mask_hash) VALUES (?1, ?2) \
             ON CONFLICT (render_id) DO UPDATE SET mask_hash = excluded.mask_hash",
            &vals![render, mask_hash],
        )?;
        Ok(())
    }

    /// The hash of the mask a render was placed with, when it was recorded.
    pub fn render_mask(&self, render: RenderId) -> Result<Option<String>, StoreError> {
        self.query_opt(
            "render_masks",
            "SELECT mask_hash FROM render_masks WHERE render_id = ?1",
            &vals![render],
            |r| r.get(0),
        )
    }
}
