//! Opening and preparing products: decode, store, mask, place on the ad
//! canvas. Used by the studio's worker, `adstudio prepare`, `render` and
//! `suggest`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use image::{GrayImage, RgbaImage};

use crate::jobs::Reporter;
use crate::product::{
    base_mask_with, build_mask_with, load_product_bytes, load_product_file, prepare_canvas,
    refine_base, BuiltMask, CanvasSettings, MaskEdits, MaskSettings, MaskSource, MaskSourceChoice,
    PreparedCanvas, ProductError, ProductImage,
};
use crate::store::{NewProduct, ProductId, ProductRow, ProductSettings};

use super::hub::ModelHub;
use super::progress::Progress;
use super::Studio;

/// A product as the studio holds it.
#[derive(Clone)]
pub struct OpenedProduct {
    /// Its row in the store.
    pub id: ProductId,
    /// The product title (used by the prompt model).
    pub title: String,
    /// The file name it came from.
    pub source_name: String,
    /// The decoded image.
    pub image: Arc<ProductImage>,
    /// Mask settings.
    pub mask_settings: MaskSettings,
    /// Brush edits.
    pub edits: MaskEdits,
    /// Canvas settings.
    pub canvas_settings: CanvasSettings,
}

impl OpenedProduct {
    /// The request that builds this product's mask with its own settings.
    pub fn mask_request(&self, generation: u64) -> MaskRequest {
        MaskRequest {
            product: self.id,
            generation,
            image: Arc::clone(&self.image),
            mask_settings: self.mask_settings,
            edits: self.edits.clone(),
            canvas_settings: self.canvas_settings,
        }
    }
}

/// A mask-build request.
#[derive(Clone)]
pub struct MaskRequest {
    /// The product.
    pub product: ProductId,
    /// Increases with every request, so stale results can be dropped.
    pub generation: u64,
    /// The decoded image.
    pub image: Arc<ProductImage>,
    /// Mask settings.
    pub mask_settings: MaskSettings,
    /// Brush edits.
    pub edits: MaskEdits,
    /// Canvas settings.
    pub canvas_settings: CanvasSettings,
}

/// A built mask and the canvas placed with it.
#[derive(Clone)]
pub struct MaskedProduct {
    /// The refined mask in source coordinates (255 = product).
    pub mask: Arc<GrayImage>,
    /// Which source the base mask came from.
    pub source: MaskSource,
    /// The placed product, inpaint mask and control image.
    pub prepared: Arc<PreparedCanvas>,
}

/// The result of one mask build, tagged with its request's generation.
pub struct MaskBuild {
    /// The product it belongs to.
    pub product: ProductId,
    /// The request's generation.
    pub generation: u64,
    /// The mask and canvas, or why they could not be built (a user-facing
    /// message: the product stays open).
    pub result: Result<MaskedProduct, String>,
}

/// The last base mask (alpha, keyed or salient): the slow step of a mask
/// build, reused while only grow, feather or edits change.
pub struct BaseMaskCache {
    product: ProductId,
    source: MaskSourceChoice,
    tolerance_bits: u32,
    base: Arc<BuiltMask>,
}

/// Opens a product file: decodes it, keeps a copy in the image store and
/// adds a product row (title from the file name).
pub fn open_file(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    path: &Path,
    defaults: (MaskSettings, CanvasSettings),
) -> anyhow::Result<OpenedProduct> {
    rep.steps(0, 2, "decoding");
    let image = load_product_file(path).with_context(|| format!("opening {}", path.display()))?;
    rep.checkpoint()?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("img")
        .to_ascii_lowercase();
    let stored = studio.images.put_bytes(&bytes, &ext)?;
    rep.steps(1, 2, "saving");
    let source_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = path
        .file_stem()
        .map(|n| n.to_string_lossy().replace(['_', '-'], " "))
        .unwrap_or_default();
    let (mask_settings, canvas_settings) = defaults;
    let edits = MaskEdits::default();
    let id = studio.store.insert_product(&NewProduct {
        title: title.clone(),
        source_name: source_name.clone(),
        image_hash: stored.hash.clone(),
        image_ext: ext,
        width: image.rgba.width(),
        height: image.rgba.height(),
        has_transparency: image.has_transparency,
        settings: settings_json(&mask_settings, &edits, &canvas_settings)?,
    })?;
    Ok(OpenedProduct {
        id,
        title,
        source_name,
        image: Arc::new(image),
        mask_settings,
        edits,
        canvas_settings,
    })
}

/// Reopens a product from the store with its saved settings and edits.
pub fn open_stored(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    id: ProductId,
) -> anyhow::Result<OpenedProduct> {
    rep.steps(0, 2, "loading");
    let row = studio
        .store
        .product(id)?
        .with_context(|| format!("product {} is not in the store", id.0))?;
    let bytes = studio
        .images
        .read(&row.image_hash, &row.image_ext)
        .with_context(|| format!("reading the image of product {:?}", row.title))?;
    let image = load_product_bytes(&bytes)?;
    rep.checkpoint()?;
    Ok(OpenedProduct {
        id,
        title: row.title,
        source_name: row.source_name,
        image: Arc::new(image),
        mask_settings: parse_or_default(&row.settings.mask_settings_json, "mask settings"),
        edits: parse_or_default(&row.settings.mask_edits_json, "mask edits"),
        canvas_settings: parse_or_default(&row.settings.canvas_settings_json, "canvas settings"),
    })
}

/// Saves the request's settings with the product, then builds its mask and
/// canvas (reusing the cached base mask where it can) and records the mask
/// source.
pub fn rebuild_mask(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    request: &MaskRequest,
) -> anyhow::Result<MaskBuild> {
    studio.store.update_product_settings(
        request.product,
        &settings_json(
            &request.mask_settings,
            &request.edits,
            &request.canvas_settings,
        )?,
    )?;
    build_mask(studio, rep, request)
}

/// Builds the mask and canvas of a request (see [`rebuild_mask`]), without
/// saving the settings.
pub fn build_mask(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    request: &MaskRequest,
) -> anyhow::Result<MaskBuild> {
    let built = refined_mask(&mut studio.mask_cache, &studio.models, request);
    let result = match built {
        Err(err) => Err(err.to_string()),
        Ok(built) => {
            rep.checkpoint()?;
            studio
                .store
                .set_product_mask_source(request.product, built.source.as_str())?;
            match prepare_canvas(&request.image.rgba, &built.mask, &request.canvas_settings) {
                Err(err) => Err(err.to_string()),
                Ok(prepared) => Ok(MaskedProduct {
                    mask: Arc::new(built.mask),
                    source: built.source,
                    prepared: Arc::new(prepared),
                }),
            }
        }
    };
    rep.checkpoint()?;
    Ok(MaskBuild {
        product: request.product,
        generation: request.generation,
        result,
    })
}

/// Saves a product's new title.
pub fn save_title(studio: &mut Studio, id: ProductId, title: &str) -> anyhow::Result<()> {
    Ok(studio.store.update_product_title(id, title)?)
}

/// The stored products, newest first.
pub fn list_products(studio: &mut Studio) -> anyhow::Result<Vec<ProductRow>> {
    Ok(studio.store.list_products()?)
}

/// A product prepared without the store (the command line): the decoded
/// image, its mask and the ad canvas.
pub struct PreparedProduct {
    /// The decoded image.
    pub image: ProductImage,
    /// The refined mask and its source.
    pub mask: BuiltMask,
    /// The placed product, inpaint mask and control image.
    pub canvas: PreparedCanvas,
}

/// Decodes, masks and places a product file (U²-Net-p through `models`
/// when the mask source needs it).
pub fn prepare_file(
    models: &ModelHub,
    path: &Path,
    mask_settings: &MaskSettings,
    canvas_settings: &CanvasSettings,
) -> anyhow::Result<PreparedProduct> {
    let image = load_product_file(path).with_context(|| format!("opening {}", path.display()))?;
    let saliency = models.saliency();
    let mask = build_mask_with(
        &image,
        mask_settings,
        &MaskEdits::default(),
        Some(&saliency),
    )
    .with_context(|| format!("masking {}", path.display()))?;
    let canvas = prepare_canvas(&image.rgba, &mask.mask, canvas_settings)
        .with_context(|| format!("placing {} on the canvas", path.display()))?;
    Ok(PreparedProduct {
        image,
        mask,
        canvas,
    })
}

/// The product image with `mask` as alpha when the photo is opaque and the
/// mask has its size (so measurements describe the product, not its
/// backdrop).
pub fn masked_rgba(image: &ProductImage, mask: Option<&GrayImage>) -> RgbaImage {
    let mut rgba = image.rgba.clone();
    if let Some(mask) =
        mask.filter(|m| !image.has_transparency && m.dimensions() == rgba.dimensions())
    {
        for (pixel, m) in rgba.pixels_mut().zip(mask.pixels()) {
            pixel.0[3] = m.0[0];
        }
    }
    rgba
}

fn refined_mask(
    cache: &mut Option<BaseMaskCache>,
    models: &ModelHub,
    request: &MaskRequest,
) -> Result<BuiltMask, ProductError> {
    let settings = &request.mask_settings;
    let fits = |c: &&BaseMaskCache| {
        c.product == request.product
            && c.source == settings.source
            && c.tolerance_bits == settings.key.tolerance.to_bits()
    };
    if let Some(cached) = cache.as_ref().filter(fits) {
        return refine_base(&cached.base, settings, &request.edits);
    }
    let saliency = models.saliency();
    match base_mask_with(&request.image, settings, Some(&saliency)) {
        Ok(base) => {
            let base = Arc::new(base);
            *cache = Some(BaseMaskCache {
                product: request.product,
                source: settings.source,
                tolerance_bits: settings.key.tolerance.to_bits(),
                base: Arc::clone(&base),
            });
            refine_base(&base, settings, &request.edits)
        }
        // The full build knows how to recover (e.g. painted product on an
        // unkeyable photo) and reports the error otherwise.
        Err(_) => build_mask_with(&request.image, settings, &request.edits, Some(&saliency)),
    }
}

fn settings_json(
    mask: &MaskSettings,
    edits: &MaskEdits,
    canvas: &CanvasSettings,
) -> serde_json::Result<ProductSettings> {
    Ok(ProductSettings {
        mask_settings_json: serde_json::to_value(mask)?,
        mask_edits_json: serde_json::to_value(edits)?,
        canvas_settings_json: serde_json::to_value(canvas)?,
    })
}

fn parse_or_default<T: serde::de::DeserializeOwned + Default>(
    json: &serde_json::Value,
    what: &str,
) -> T {
    T::deserialize(json).unwrap_or_else(|err| {
        log::warn!("stored {what} unreadable ({err}); using defaults");
        T::default()
    })
}
