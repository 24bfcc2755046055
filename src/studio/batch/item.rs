//! A catalog row as a stored, prepared product: the photo is read (with
//! the size limits every command applies), kept in the image store, its
//! product row reused when the same image and title were imported before,
//! then masked (auto source, as `prepare` does) and placed on the canvas.

use std::sync::Arc;

use anyhow::Context as _;
use image::GrayImage;

use crate::jobs::Reporter;
use crate::product::{
    load_product_bytes, CanvasSettings, MaskEdits, MaskSettings, PreparedCanvas, ProductError,
    ProductImage, MAX_FILE_BYTES,
};
use crate::store::{NewProduct, ProductId, ProductSettings};

use super::super::product::{rebuild_mask, MaskRequest};
use super::super::progress::Progress;
use super::super::Studio;
use super::catalog::CatalogRow;

/// A product ready to suggest for and render.
pub struct PreparedRow {
    /// Its row in the store.
    pub product: ProductId,
    /// The decoded photo.
    pub image: Arc<ProductImage>,
    /// Its mask (255 = product).
    pub mask: Arc<GrayImage>,
    /// The placed product, inpaint mask and edges.
    pub canvas: Arc<PreparedCanvas>,
    /// The canvas settings it was placed with.
    pub canvas_settings: CanvasSettings,
}

/// Imports (or finds) the row's product and prepares it with
/// `canvas_settings` and the automatic mask. A photo that cannot be read
/// or masked is an error naming it.
pub fn prepare_row(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    row: &CatalogRow,
    canvas_settings: CanvasSettings,
) -> anyhow::Result<PreparedRow> {
    let shown = row.image.display();
    let meta = std::fs::metadata(&row.image).with_context(|| format!("image {shown}"))?;
    if meta.len() > MAX_FILE_BYTES {
        // Refused before a huge file is read into memory.
        return Err(ProductError::FileTooLarge {
            bytes: meta.len(),
            limit: MAX_FILE_BYTES,
        })
        .with_context(|| format!("image {shown}"));
    }
    let bytes = std::fs::read(&row.image).with_context(|| format!("reading image {shown}"))?;
    let image = load_product_bytes(&bytes).with_context(|| format!("image {shown}"))?;
    rep.checkpoint()?;
    let ext = row
        .image
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("img")
        .to_ascii_lowercase();
    let stored = studio.images.put_bytes(&bytes, &ext)?;
    let mask_settings = MaskSettings::default();
    let edits = MaskEdits::default();
    let product = match studio
        .store
        .product_by_image_and_title(&stored.hash, &row.title)?
    {
        Some(found) => found.id,
        None => studio.store.insert_product(&NewProduct {
            title: row.title.clone(),
            source_name: super::super::display_name(&row.image),
            image_hash: stored.hash.clone(),
            image_ext: ext,
            width: image.rgba.width(),
            height: image.rgba.height(),
            has_transparency: image.has_transparency,
            settings: ProductSettings {
                mask_settings_json: serde_json::to_value(mask_settings)?,
                mask_edits_json: serde_json::to_value(&edits)?,
                canvas_settings_json: serde_json::to_value(canvas_settings)?,
            },
        })?,
    };
    let image = Arc::new(image);
    let request = MaskRequest {
        product,
        generation: 0,
        image: Arc::clone(&image),
        mask_settings,
        edits,
        canvas_settings,
    };
    let built = rebuild_mask(studio, rep, &request)?;
    let masked = built
        .result
        .map_err(|e| anyhow::anyhow!("masking {shown}: {e}"))?;
    Ok(PreparedRow {
        product,
        image,
        mask: masked.mask,
        canvas: masked.prepared,
        canvas_settings,
    })
}
