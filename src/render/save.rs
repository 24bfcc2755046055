//! Writing a rendered variant to the image store and the `renders` table.

use super::error::RenderError;
use super::png_meta::{encode_png, PngParams};
use super::request::RenderRequest;
use super::run::RenderedVariant;
use crate::store::{ImageStore, NewRender, ProductId, RenderId, Store, StoredImage};

/// A saved variant.
#[derive(Debug, Clone)]
pub struct SavedRender {
    /// The new `renders` row.
    pub id: RenderId,
    /// The PNG in the image store.
    pub image: StoredImage,
    /// What the row's `params_json` holds.
    pub params: PngParams,
}

/// Encodes the variant as a PNG with its parameters, stores it by content
/// hash and inserts a `renders` row whose `params_json` is the
/// [`PngParams`] JSON (the request reproduces the image alone).
pub fn save_variant(
    store: &Store,
    images: &ImageStore,
    product: ProductId,
    request: &RenderRequest,
    variant: &RenderedVariant,
) -> Result<SavedRender, RenderError> {
    let params = PngParams {
        request: request.for_variant(variant.index),
        variant: variant.index,
        batch_seed: request.seed,
    };
    let bytes = encode_png(&variant.image, &params)?;
    let stored = images.put_bytes(&bytes, "png")?;
    let params_json = serde_json::to_value(&params)
        .map_err(|e| RenderError::Metadata(format!("cannot serialise parameters: {e}")))?;
    let model_ids_json = serde_json::to_value(&request.models)
        .map_err(|e| RenderError::Metadata(format!("cannot serialise model ids: {e}")))?;
    let id = store.insert_render(&NewRender {
        product_id: product,
        params_json,
        seed: variant.seed,
        model_ids_json,
        image_hash: stored.hash.clone(),
        image_path: stored.path.display().to_string(),
        width: variant.image.width(),
        height: variant.image.height(),
    })?;
    Ok(SavedRender {
        id,
        image: stored,
        params,
    })
}
