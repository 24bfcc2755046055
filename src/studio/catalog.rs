//! The catalog: every stored product with what a marketer picks by
//! (thumbnail, title, variant count, best predicted CTR, labelled pairs).

use std::sync::Arc;

use image::RgbaImage;

use crate::jobs::Reporter;
use crate::product::load_product_bytes;
use crate::store::ProductId;

use super::progress::Progress;
use super::Studio;

/// Longest side of a catalog thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 96;

/// One product of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    /// The product.
    pub id: ProductId,
    /// Its title.
    pub title: String,
    /// Number of renders (variants).
    pub variants: u64,
    /// The best predicted CTR of its scored renders.
    pub best_ctr: Option<f64>,
    /// Distinct pairs of its renders with a human label.
    pub labelled_pairs: u64,
    /// A small picture of the original photo (none if it cannot be read).
    pub thumbnail: Option<Arc<RgbaImage>>,
}

/// Lists the catalog, newest product first, with thumbnails; a photo that
/// cannot be read gets no thumbnail (the entry stays).
pub fn list_catalog(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
) -> anyhow::Result<Vec<CatalogEntry>> {
    let rows = studio.store.list_products()?;
    let summaries = studio.store.product_summaries()?;
    let total = rows.len() as u64;
    let mut entries = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        rep.checkpoint()?;
        rep.steps(i as u64, total, "reading the catalog");
        let summary = summaries.iter().find(|s| s.product == row.id);
        let thumbnail = studio
            .images
            .read(&row.image_hash, &row.image_ext)
            .ok()
            .and_then(|bytes| load_product_bytes(&bytes).ok())
            .map(|img| {
                let rgba = image::DynamicImage::ImageRgba8(img.rgba)
                    .thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
                    .to_rgba8();
                Arc::new(rgba)
            });
        entries.push(CatalogEntry {
            id: row.id,
            title: row.title,
            variants: summary.map_or(0, |s| s.renders),
            best_ctr: summary.and_then(|s| s.best_ctr),
            labelled_pairs: summary.map_or(0, |s| s.labelled_pairs),
            thumbnail,
        });
    }
    Ok(entries)
}
