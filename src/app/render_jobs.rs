//! Jobs of rendering and the gallery: render one variant (model worker),
//! load a product's stored renders and read dropped PNGs (studio worker).

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use image::RgbaImage;

use crate::jobs::JobContext;
use crate::product::{CanvasSettings, MaskSettings, PreparedCanvas};
use crate::render::{read_png_params, render_variant, save_variant, PngParams, RenderRequest};
use crate::store::{ImageStore, ProductId, Store};

use super::gallery::LoadedVariant;
use super::models::{locate_diffusion, DiffusionPaths, ModelOutput, ModelResources};
use super::tasks::{self, to_color_image, StudioOutput, StudioResources};

/// One variant of a batch, as a model job renders it.
#[derive(Clone)]
pub struct VariantJob {
    /// The product it belongs to.
    pub product: ProductId,
    /// The placed product, inpaint mask and edges.
    pub canvas: Arc<PreparedCanvas>,
    /// The batch request (variant `index` uses `seed + index`).
    pub request: RenderRequest,
    /// The variant's index in the batch.
    pub index: usize,
    /// The models to render with.
    pub models: DiffusionPaths,
}

/// Searches the models folders.
pub fn check_models(res: &mut ModelResources) -> anyhow::Result<ModelOutput> {
    Ok(ModelOutput::Diffusion(locate_diffusion(&res.model_dirs)))
}

/// Renders one variant and saves it (PNG with parameters + `renders` row).
/// Progress is reported every step with a preview every few steps; cancel
/// takes effect within one step, and nothing is saved for a cancelled
/// variant.
pub fn render_one(
    res: &mut ModelResources,
    ctx: &JobContext<'_, ModelOutput>,
    job: &VariantJob,
) -> anyhow::Result<ModelOutput> {
    let total = job.request.steps as u64;
    ctx.progress(0, total, "loading models");
    ctx.checkpoint()?;
    let engine = res.diffusion_engine(&job.models)?;
    ctx.checkpoint()?;
    let mut request = job.request.clone();
    request.models = engine.paths.model_ids();
    let label = format!("variant {}/{}", job.index + 1, request.n_variants);
    ctx.progress(0, total, label.clone());
    let variant = render_variant(
        &engine.render_models(),
        &job.canvas,
        &request,
        job.index,
        &mut |p| {
            ctx.progress(p.step as u64, p.total as u64, label.clone());
            if let Some(preview) = &p.preview {
                ctx.preview(Arc::new(
                    image::DynamicImage::ImageRgb8(preview.clone()).to_rgba8(),
                ));
            }
            if ctx.checkpoint().is_err() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .with_context(|| {
        format!(
            "rendering variant {} (seed {})",
            job.index + 1,
            request.variant_seed(job.index)
        )
    })?;
    // A cancel after the last step still wins: nothing is saved.
    ctx.checkpoint()?;
    let saved = save_variant(&res.store, &res.images, job.product, &request, &variant)
        .with_context(|| format!("saving variant {}", job.index + 1))?;
    let cut = |what: &str, n: usize| {
        (n > 0).then(|| format!("the {what} is longer than 77 tokens; {n} tokens were cut off"))
    };
    let notice = cut("prompt", variant.prompt_truncated_tokens)
        .or_else(|| cut("negative prompt", variant.negative_truncated_tokens));
    Ok(ModelOutput::Rendered(Box::new(LoadedVariant {
        render_id: Some(saved.id),
        product: Some(job.product),
        params: saved.params,
        path: saved.image.path,
        image: rgb_color_image(&variant.image),
        notice,
    })))
}

fn rgb_color_image(rgb: &image::RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb([rgb.width() as usize, rgb.height() as usize], rgb.as_raw())
}

/// A product's stored renders, oldest first, and the ones that could not
/// be read.
pub struct GalleryLoad {
    /// The product.
    pub product: ProductId,
    /// Readable renders, oldest first.
    pub variants: Vec<LoadedVariant>,
    /// Why some renders could not be shown.
    pub problems: Vec<String>,
}

/// Reads every stored render of `product` (image and parameters).
pub fn load_renders(
    store: &Store,
    images: &ImageStore,
    product: ProductId,
) -> anyhow::Result<GalleryLoad> {
    let rows = store
        .renders_for_product(product)
        .with_context(|| format!("listing the renders of product {}", product.0))?;
    let mut variants = Vec::new();
    let mut problems = Vec::new();
    for row in rows.into_iter().rev() {
        let loaded = (|| -> anyhow::Result<LoadedVariant> {
            let params = PngParams::deserialize(&row.params_json)
                .context("its stored parameters are not readable")?;
            let bytes = images.read(&row.image_hash, "png")?;
            let image = image::load_from_memory(&bytes)
                .context("its PNG does not decode")?
                .to_rgba8();
            Ok(LoadedVariant {
                render_id: Some(row.id),
                product: Some(product),
                params,
                path: row.image_path.clone().into(),
                image: to_color_image(&image),
                notice: None,
            })
        })();
        match loaded {
            Ok(v) => variants.push(v),
            Err(e) => problems.push(format!("render {}: {e:#}", row.id.0)),
        }
    }
    Ok(GalleryLoad {
        product,
        variants,
        problems,
    })
}

use serde::Deserialize as _;

/// A dropped file: a PNG written by adstudio (with its `adstudio` chunk)
/// becomes a gallery image whose parameters are recalled; anything else is
/// opened as a product image.
pub fn open_dropped(
    res: &mut StudioResources,
    ctx: &JobContext<'_, StudioOutput>,
    path: &Path,
    defaults: (MaskSettings, CanvasSettings),
) -> anyhow::Result<StudioOutput> {
    if let Some(variant) = read_adstudio_png(path)? {
        return Ok(StudioOutput::DroppedRender(Box::new(variant)));
    }
    tasks::open_path(res, ctx, path, defaults)
}

/// The image and parameters of an adstudio PNG; `None` for any other file
/// (including PNGs without the chunk, and files that are not PNGs).
fn read_adstudio_png(path: &Path) -> anyhow::Result<Option<LoadedVariant>> {
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
    let image: RgbaImage = image::load_from_memory(&bytes)
        .with_context(|| format!("decoding {}", path.display()))?
        .to_rgba8();
    Ok(Some(LoadedVariant {
        render_id: None,
        product: None,
        params,
        path: path.to_path_buf(),
        image: to_color_image(&image),
        notice: None,
    }))
}
