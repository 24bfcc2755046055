//! Rendering variants: the diffusion models from the hub, one variant at a
//! time with typed step progress and previews, then saved as a PNG with its
//! parameters in the image store and a `renders` row. `adstudio render`
//! uses [`render_variant`] and writes files instead of saving.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use image::{GrayImage, RgbaImage};

use crate::jobs::{Cancelled, Reporter};
use crate::product::PreparedCanvas;
use crate::render::{encode_png, PngParams, RenderError, RenderRequest, RenderedVariant};
use crate::store::{ImageStore, NewRender, ProductId, RenderId, Store, StoredImage};

use super::hub::ModelHub;
use super::progress::{Progress, RenderStep};
use super::Studio;

/// One variant of a batch, as a job renders it.
#[derive(Clone)]
pub struct VariantJob {
    /// The product it belongs to.
    pub product: ProductId,
    /// The placed product, inpaint mask and edges.
    pub canvas: Arc<PreparedCanvas>,
    /// The batch request (variant `index` uses `seed + index`; its model
    /// ids are filled in from the models that render it).
    pub request: RenderRequest,
    /// The variant's index in the batch.
    pub index: usize,
}

/// A rendered image with its parameters, ready to show.
pub struct RenderedImage {
    /// Its `renders` row (none for a dropped file).
    pub render_id: Option<RenderId>,
    /// Its product (none for a dropped file).
    pub product: Option<ProductId>,
    /// Its parameters.
    pub params: PngParams,
    /// The PNG file.
    pub path: PathBuf,
    /// The pixels.
    pub image: Arc<RgbaImage>,
    /// Something the user should know (e.g. a prompt was cut at 77 tokens).
    pub notice: Option<String>,
}

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

/// Renders variant `index` of `request` with the hub's diffusion models;
/// returns it with the request as rendered (model ids filled in). Step
/// progress (with a preview every few steps) goes to `rep`; a cancel takes
/// effect within one step. A draft request (`params.draft`) renders with
/// the hub's draft models (LCM-LoRA merged, TAESD when installed).
pub fn render_variant(
    models: &ModelHub,
    rep: &dyn Reporter<Progress>,
    canvas: &PreparedCanvas,
    request: &RenderRequest,
    index: usize,
) -> anyhow::Result<(RenderedVariant, RenderRequest)> {
    rep.steps(0, request.params.steps as u64, "loading models");
    rep.checkpoint()?;
    let draft = request.params.draft;
    let rendered = if draft {
        models.with_draft_diffusion(|e| render_with(e, rep, canvas, request, index))
    } else {
        models.with_diffusion(|e| render_with(e, rep, canvas, request, index))
    }?;
    match rendered {
        Ok(done) => Ok(done),
        Err(RenderError::Cancelled { .. }) => Err(Cancelled.into()),
        Err(err) => Err(anyhow::Error::new(err).context(format!(
            "rendering variant {} (seed {})",
            index + 1,
            request.variant_seed(index)
        ))),
    }
}

/// [`render_variant`] with loaded models.
fn render_with(
    engine: &super::engines::DiffusionEngine,
    rep: &dyn Reporter<Progress>,
    canvas: &PreparedCanvas,
    request: &RenderRequest,
    index: usize,
) -> Result<(RenderedVariant, RenderRequest), RenderError> {
    let mut request = request.clone();
    request.models = engine.model_ids();
    let result =
        crate::render::render_variant(&engine.render_models(), canvas, &request, index, &mut |p| {
            rep.report(Progress::Render(RenderStep {
                variant: p.variant,
                n_variants: p.n_variants,
                step: p.step,
                total: p.total,
                preview: p
                    .preview
                    .as_ref()
                    .map(|rgb| Arc::new(image::DynamicImage::ImageRgb8(rgb.clone()).to_rgba8())),
            }));
            if rep.checkpoint().is_err() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    result.map(|variant| (variant, request))
}

/// Renders one variant and saves it (PNG with parameters + `renders` row).
/// Nothing is saved for a cancelled variant, even after its last step.
pub fn render_and_save(
    studio: &mut Studio,
    rep: &dyn Reporter<Progress>,
    job: &VariantJob,
) -> anyhow::Result<RenderedImage> {
    let (variant, request) =
        render_variant(&studio.models, rep, &job.canvas, &job.request, job.index)?;
    rep.checkpoint()?;
    let saved = save_variant(
        &studio.store,
        &studio.images,
        job.product,
        &request,
        &variant,
    )
    .with_context(|| format!("saving variant {}", job.index + 1))?;
    record_render_mask(
        &studio.store,
        &studio.images,
        saved.id,
        &job.canvas.source_mask,
    )
    .with_context(|| format!("saving the mask of variant {}", job.index + 1))?;
    let notice = truncation_notice(&variant);
    Ok(RenderedImage {
        render_id: Some(saved.id),
        product: Some(job.product),
        params: saved.params,
        path: saved.image.path,
        image: Arc::new(image::DynamicImage::ImageRgb8(variant.image).to_rgba8()),
        notice,
    })
}

/// Stores the mask a render was placed with (a grey PNG in the image
/// store, shared by every render of the same mask) and links it to the
/// render, so exports at other sizes place the product exactly as here.
pub fn record_render_mask(
    store: &Store,
    images: &ImageStore,
    render: RenderId,
    mask: &GrayImage,
) -> anyhow::Result<()> {
    let stored = images.put_png(&image::DynamicImage::ImageLuma8(mask.clone()))?;
    store.set_render_mask(render, &stored.hash)?;
    Ok(())
}

/// A message when the prompt or negative prompt was cut at 77 tokens.
pub fn truncation_notice(variant: &RenderedVariant) -> Option<String> {
    let cut = |what: &str, n: usize| {
        (n > 0).then(|| format!("the {what} is longer than 77 tokens; {n} tokens were cut off"))
    };
    cut("prompt", variant.prompt_truncated_tokens)
        .or_else(|| cut("negative prompt", variant.negative_truncated_tokens))
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
) -> anyhow::Result<SavedRender> {
    let params = PngParams {
        request: request.for_variant(variant.index),
        variant: variant.index,
        batch_seed: request.params.seed,
    };
    let bytes = encode_png(&variant.image, &params)?;
    let stored = images.put_bytes(&bytes, "png")?;
    let params_json = serde_json::to_value(&params).context("serialising the parameters")?;
    let model_ids_json =
        serde_json::to_value(&request.models).context("serialising the model ids")?;
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
