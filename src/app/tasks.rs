//! The studio's jobs: what runs on the worker thread, and what it returns.
//!
//! Each function here is pure worker-side code: it decodes, masks, places
//! and talks to the store, and returns ready-to-show images so that the UI
//! thread only uploads textures.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use image::{GrayImage, RgbImage, RgbaImage};

use crate::jobs::JobContext;
use crate::ml::saliency::LazySaliency;
use crate::product::{
    base_mask_with, build_mask_with, load_product_bytes, load_product_file, prepare_canvas,
    refine_base, BuiltMask, CanvasSettings, MaskEdits, MaskSettings, MaskSource, MaskSourceChoice,
    PreparedCanvas, ProductError, ProductImage,
};
use crate::store::{ImageStore, NewProduct, ProductId, ProductRow, ProductSettings, Store};

/// What the worker owns: the store, the image files and caches.
pub struct StudioResources {
    /// The SQLite store.
    pub store: Store,
    /// Content-addressed image files.
    pub images: ImageStore,
    /// The salient-object model, loaded the first time a mask needs it.
    pub saliency: LazySaliency,
    /// The last base mask (alpha, keyed or salient), the slow step of a
    /// mask build.
    pub mask_cache: Option<BaseMaskCache>,
}

impl StudioResources {
    /// Resources with an empty cache.
    pub fn new(store: Store, images: ImageStore, saliency: LazySaliency) -> Self {
        Self {
            store,
            images,
            saliency,
            mask_cache: None,
        }
    }
}

/// A cached base mask and what it was computed from.
pub struct BaseMaskCache {
    product: ProductId,
    source: MaskSourceChoice,
    tolerance_bits: u32,
    base: Arc<BuiltMask>,
}

/// What a studio job returns.
pub enum StudioOutput {
    /// A product was opened (new or from the store), with its first mask.
    Opened(Box<OpenedProduct>, Box<MaskOutcome>),
    /// The mask and canvas were rebuilt after a settings change or edit.
    MaskRebuilt(Box<MaskOutcome>),
    /// The stored products, newest first.
    Products(Vec<ProductRow>),
    /// A change was saved; nothing to show.
    Saved,
    /// The stored renders of the open product, for the gallery.
    Gallery(Box<super::render_jobs::GalleryLoad>),
    /// A dropped PNG written by adstudio: shown in the gallery, its
    /// parameters recalled.
    DroppedRender(Box<super::gallery::LoadedVariant>),
}

/// A product as the studio holds it.
pub struct OpenedProduct {
    /// Its row in the store.
    pub id: ProductId,
    /// The product title (used by the prompt model later).
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
    /// The source image, ready to upload as a texture.
    pub source_view: egui::ColorImage,
}

/// The result of one mask build, tagged with the request's generation.
pub struct MaskOutcome {
    /// The product it belongs to.
    pub product: ProductId,
    /// Increases with every request, so stale results can be dropped.
    pub generation: u64,
    /// The views, or why the mask could not be built.
    pub views: Result<MaskViews, String>,
}

/// Everything the canvas view shows for one mask.
pub struct MaskViews {
    /// The refined mask in source coordinates (255 = product).
    pub mask: Arc<GrayImage>,
    /// Which source the base mask came from.
    pub source: MaskSource,
    /// The placed product, inpaint mask and control image.
    pub prepared: Arc<PreparedCanvas>,
    /// Mask overlay for the product view (background tinted).
    pub overlay_view: egui::ColorImage,
    /// The placed product on a checkerboard.
    pub canvas_view: egui::ColorImage,
    /// The inpaint mask.
    pub inpaint_view: egui::ColorImage,
    /// The ControlNet image.
    pub control_view: egui::ColorImage,
}

/// A mask-build request.
#[derive(Clone)]
pub struct MaskRequest {
    /// The product.
    pub product: ProductId,
    /// Request generation.
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

type JobResult = anyhow::Result<StudioOutput>;

/// Opens a product file: decodes it, keeps a copy in the image store, adds
/// a product row and builds its first mask.
pub fn open_path(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    path: &Path,
    defaults: (MaskSettings, CanvasSettings),
) -> JobResult {
    ctx.progress(0, 3, "decoding");
    let image = load_product_file(path).with_context(|| format!("opening {}", path.display()))?;
    ctx.checkpoint()?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("img")
        .to_ascii_lowercase();
    let stored = res.images.put_bytes(&bytes, &ext)?;
    ctx.progress(1, 3, "saving");
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
    let id = res.store.insert_product(&NewProduct {
        title: title.clone(),
        source_name: source_name.clone(),
        image_hash: stored.hash.clone(),
        image_ext: ext,
        width: image.rgba.width(),
        height: image.rgba.height(),
        has_transparency: image.has_transparency,
        settings: settings_json(&mask_settings, &edits, &canvas_settings)?,
    })?;
    finish_open(
        res,
        ctx,
        OpenedProduct {
            id,
            title,
            source_name,
            source_view: to_color_image(&image.rgba),
            image: Arc::new(image),
            mask_settings,
            edits,
            canvas_settings,
        },
    )
}

/// Reopens a product from the store with its saved settings and edits.
pub fn open_stored(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    id: ProductId,
) -> JobResult {
    ctx.progress(0, 3, "loading");
    let row = res
        .store
        .product(id)?
        .with_context(|| format!("product {} is not in the store", id.0))?;
    let bytes = res
        .images
        .read(&row.image_hash, &row.image_ext)
        .with_context(|| format!("reading the image of product {:?}", row.title))?;
    let image = load_product_bytes(&bytes)?;
    ctx.checkpoint()?;
    let mask_settings = parse_or_default(&row.settings.mask_settings_json, "mask settings");
    let edits = parse_or_default(&row.settings.mask_edits_json, "mask edits");
    let canvas_settings = parse_or_default(&row.settings.canvas_settings_json, "canvas settings");
    finish_open(
        res,
        ctx,
        OpenedProduct {
            id,
            title: row.title,
            source_name: row.source_name,
            source_view: to_color_image(&image.rgba),
            image: Arc::new(image),
            mask_settings,
            edits,
            canvas_settings,
        },
    )
}

fn finish_open(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    product: OpenedProduct,
) -> JobResult {
    ctx.progress(2, 3, "masking");
    let request = MaskRequest {
        product: product.id,
        generation: 0,
        image: Arc::clone(&product.image),
        mask_settings: product.mask_settings,
        edits: product.edits.clone(),
        canvas_settings: product.canvas_settings,
    };
    let outcome = build_views(res, ctx, &request)?;
    ctx.progress(3, 3, "done");
    Ok(StudioOutput::Opened(Box::new(product), Box::new(outcome)))
}

/// Rebuilds the mask and canvas for new settings or edits, and saves them.
pub fn rebuild_mask(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    request: &MaskRequest,
) -> JobResult {
    res.store.update_product_settings(
        request.product,
        &settings_json(
            &request.mask_settings,
            &request.edits,
            &request.canvas_settings,
        )?,
    )?;
    let outcome = build_views(res, ctx, request)?;
    Ok(StudioOutput::MaskRebuilt(Box::new(outcome)))
}

/// Saves a product's new title.
pub fn save_title(res: &mut StudioResources, id: ProductId, title: &str) -> JobResult {
    res.store.update_product_title(id, title)?;
    Ok(StudioOutput::Saved)
}

/// Lists the stored products.
pub fn list_products(res: &mut StudioResources) -> JobResult {
    Ok(StudioOutput::Products(res.store.list_products()?))
}

/// Builds the refined mask, reusing the cached base mask when the product,
/// source and tolerance are unchanged (only grow, feather or edits moved).
fn refined_mask(
    cache: &mut Option<BaseMaskCache>,
    saliency: &LazySaliency,
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
    match base_mask_with(&request.image, settings, Some(saliency)) {
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
        Err(_) => build_mask_with(&request.image, settings, &request.edits, Some(saliency)),
    }
}

fn build_views(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    request: &MaskRequest,
) -> anyhow::Result<MaskOutcome> {
    let views = match refined_mask(&mut res.mask_cache, &res.saliency, request) {
        Err(err) => Err(err.to_string()),
        Ok(built) => {
            ctx.checkpoint()?;
            res.store
                .set_product_mask_source(request.product, built.source.as_str())?;
            match prepare_canvas(&request.image.rgba, &built.mask, &request.canvas_settings) {
                Err(err) => Err(err.to_string()),
                Ok(prepared) => {
                    ctx.checkpoint()?;
                    Ok(MaskViews {
                        overlay_view: mask_overlay(&built.mask),
                        canvas_view: on_checkerboard(&prepared.placed.rgba),
                        inpaint_view: gray_view(&prepared.inpaint_mask),
                        control_view: rgb_view(&prepared.control),
                        mask: Arc::new(built.mask),
                        source: built.source,
                        prepared: Arc::new(prepared),
                    })
                }
            }
        }
    };
    Ok(MaskOutcome {
        product: request.product,
        generation: request.generation,
        views,
    })
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

/// Converts an RGBA image to an egui image.
pub fn to_color_image(rgba: &RgbaImage) -> egui::ColorImage {
    egui::ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    )
}

fn gray_view(gray: &GrayImage) -> egui::ColorImage {
    egui::ColorImage::from_gray(
        [gray.width() as usize, gray.height() as usize],
        gray.as_raw(),
    )
}

fn rgb_view(rgb: &RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb([rgb.width() as usize, rgb.height() as usize], rgb.as_raw())
}

/// The mask as an overlay: background tinted, product clear.
fn mask_overlay(mask: &GrayImage) -> egui::ColorImage {
    let [r, g, b] = crate::ui::theme::MASK_OVERLAY_RGB;
    let pixels = mask
        .pixels()
        .map(|p| {
            let background = 255 - p.0[0];
            // Half-strength tint so the image stays readable beneath it.
            egui::Color32::from_rgba_unmultiplied(r, g, b, background / 2)
        })
        .collect();
    egui::ColorImage::new([mask.width() as usize, mask.height() as usize], pixels)
}

/// The placed product over a checkerboard, so transparency is visible.
fn on_checkerboard(rgba: &RgbaImage) -> egui::ColorImage {
    let [light, dark] = crate::ui::theme::CHECKER_GREYS;
    let pixels = rgba
        .enumerate_pixels()
        .map(|(x, y, p)| {
            let back = if ((x / 16) + (y / 16)) % 2 == 0 {
                light
            } else {
                dark
            };
            let a = u16::from(p.0[3]);
            let mix = |c: u8| ((u16::from(c) * a + u16::from(back) * (255 - a) + 127) / 255) as u8;
            egui::Color32::from_rgb(mix(p.0[0]), mix(p.0[1]), mix(p.0[2]))
        })
        .collect();
    egui::ColorImage::new([rgba.width() as usize, rgba.height() as usize], pixels)
}
