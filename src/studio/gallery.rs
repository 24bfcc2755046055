//! Reading renders back: a product's stored renders, and PNG files written
//! by adstudio (their parameters are in the file).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize as _;

use crate::render::{read_png_params, PngParams};
use crate::store::{ImageStore, ProductId, Store};

use super::render::RenderedImage;

/// A product's stored renders, oldest first, and the ones that could not
/// be read.
pub struct StoredRenders {
    /// The product.
    pub product: ProductId,
    /// Readable renders, oldest first.
    pub variants: Vec<RenderedImage>,
    /// Why some renders could not be shown.
    pub problems: Vec<String>,
}

/// Reads every stored render of `product` (image and parameters).
pub fn load_renders(
    store: &Store,
    images: &ImageStore,
    product: ProductId,
) -> anyhow::Result<StoredRenders> {
    let rows = store
        .renders_for_product(product)
        .with_context(|| format!("listing the renders of product {}", product.0))?;
    let mut variants = Vec::new();
    let mut problems = Vec::new();
    for row in rows.into_iter().rev() {
        let loaded = (|| -> anyhow::Result<RenderedImage> {
            let params = PngParams::deserialize(&row.params_json)
                .context("its stored parameters are not readable")?;
            let bytes = images.read(&row.image_hash, "png")?;
            let image = image::load_from_memory(&bytes)
                .context("its PNG does not decode")?
                .to_rgba8();
            Ok(RenderedImage {
                render_id: Some(row.id),
                product: Some(product),
                params,
                // Read above by hash: here (or in a bucket's cache) now.
                path: images.file_of(&row.image_path, &row.image_hash)?,
                image: Arc::new(image),
                notice: None,
            })
        })();
        match loaded {
            Ok(v) => variants.push(v),
            Err(e) => problems.push(format!("render {}: {e:#}", row.id.0)),
        }
    }
    Ok(StoredRenders {
        product,
        variants,
        problems,
    })
}

/// The image and parameters of a PNG written by adstudio; `None` for any
/// other file (including PNGs without the chunk, and files that are not
/// PNGs).
pub fn read_adstudio_png(path: &Path) -> anyhow::Result<Option<RenderedImage>> {
    let is_png = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let Ok(params) = read_png_params(&bytes) else {
        return Ok(None);
    };
    let image = image::load_from_memory(&bytes)
        .with_context(|| format!("decoding {}", path.display()))?
        .to_rgba8();
    Ok(Some(RenderedImage {
        render_id: None,
        product: None,
        params,
        path: path.to_path_buf(),
        image: Arc::new(image),
        notice: None,
    }))
}
