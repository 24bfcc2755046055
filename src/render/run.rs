//! The render function: a prepared canvas and a request in, composited
//! variants out.

use std::ops::ControlFlow;

use candle_core::Device;
use image::{Rgb, RgbImage};

use super::error::RenderError;
use super::request::RenderRequest;
use crate::ml::diffusion::convert::{mask_to_tensor, rgb_to_tensor, tensor_to_rgb};
use crate::ml::diffusion::inpaint::{
    inpaint_with, InpaintModels, InpaintParams, LatentCodec, PromptInput,
};
use crate::ml::diffusion::preview::PreviewDecoder;
use crate::ml::diffusion::{DiffusionError, SchedulerConfig, Taesd};
use crate::product::{composite, PreparedCanvas};

/// A preview is made every this many steps (and after the last step); a
/// draft shows the cheap latent preview after every step instead.
pub const PREVIEW_EVERY: usize = 5;

/// The grey the product is placed on for the init image.
const NEUTRAL_GREY: u8 = 128;

/// The loaded models and the scheduler configuration.
#[derive(Debug, Clone, Copy)]
pub struct RenderModels<'a> {
    /// UNet, VAE, optional ControlNet and text encoder.
    pub models: InpaintModels<'a>,
    /// The checkpoint's scheduler configuration.
    pub scheduler_config: &'a SchedulerConfig,
    /// TAESD, when one is installed: full-size previews, and the draft's
    /// encoder and decoder.
    pub taesd: Option<&'a Taesd>,
}

impl RenderModels<'_> {
    /// The autoencoder a request encodes and decodes with: TAESD for a
    /// draft when there is one, else the VAE.
    fn codec(&self, draft: bool) -> LatentCodec<'_> {
        match (draft, self.taesd) {
            (true, Some(t)) => LatentCodec::Taesd(t),
            _ => LatentCodec::Vae,
        }
    }

    /// What makes the previews: the linear projection after every step of
    /// a draft (4 steps: a TAESD decode each would cost more than the
    /// draft's own decode), TAESD for full renders when there is one.
    fn previews(&self, draft: bool) -> (PreviewDecoder<'_>, usize) {
        if draft {
            (PreviewDecoder::Latent, 1)
        } else {
            (PreviewDecoder::new(self.taesd), PREVIEW_EVERY)
        }
    }
}

/// What the progress callback sees after each step.
#[derive(Debug, Clone)]
pub struct RenderProgress {
    /// 0-based variant index.
    pub variant: usize,
    /// Number of variants in the batch.
    pub n_variants: usize,
    /// 1-based finished step.
    pub step: usize,
    /// Steps per variant.
    pub total: usize,
    /// A preview of the denoised latents every [`PREVIEW_EVERY`] steps and
    /// after the last step: TAESD's decode at the canvas size when TAESD
    /// is installed, else a latent projection at 1/8 of the side (drafts:
    /// the projection, every step).
    pub preview: Option<RgbImage>,
}

/// One finished variant.
#[derive(Debug, Clone)]
pub struct RenderedVariant {
    /// 0-based index in the batch.
    pub index: usize,
    /// Its seed (`request.seed + index`).
    pub seed: u64,
    /// The final image: the generated background with the product pasted
    /// back (product pixels with alpha 255 are exact).
    pub image: RgbImage,
    /// The decoded image before compositing.
    pub generated: RgbImage,
    /// Tokens cut off the prompt (77-token limit).
    pub prompt_truncated_tokens: usize,
    /// Tokens cut off the negative prompt (0 without classifier-free
    /// guidance: a draft does not encode it).
    pub negative_truncated_tokens: usize,
}

/// The init image: the placed product over neutral grey.
pub fn init_image(canvas: &PreparedCanvas) -> Result<RgbImage, RenderError> {
    let (w, h) = canvas.placed.rgba.dimensions();
    let grey = RgbImage::from_pixel(w, h, Rgb([NEUTRAL_GREY; 3]));
    Ok(composite(&canvas.placed, &grey)?)
}

/// Renders every variant of `request` in order. The callback is called
/// after every step; returning `Break` cancels within that step
/// ([`RenderError::Cancelled`]).
pub fn render_variants(
    models: &RenderModels<'_>,
    canvas: &PreparedCanvas,
    request: &RenderRequest,
    on_progress: &mut dyn FnMut(&RenderProgress) -> ControlFlow<()>,
) -> Result<Vec<RenderedVariant>, RenderError> {
    request.validate()?;
    (0..request.params.n_variants)
        .map(|i| render_variant(models, canvas, request, i, on_progress))
        .collect()
}

/// Checks the request and that the canvas parts agree with each other and
/// with the request's canvas settings.
fn check_canvas(canvas: &PreparedCanvas, request: &RenderRequest) -> Result<(), RenderError> {
    request.validate()?;
    let (w, h) = canvas.placed.rgba.dimensions();
    if canvas.inpaint_mask.dimensions() != (w, h) || canvas.control.dimensions() != (w, h) {
        return Err(RenderError::InvalidRequest(format!(
            "canvas parts disagree in size: product {w}x{h}, mask {:?}, control {:?}",
            canvas.inpaint_mask.dimensions(),
            canvas.control.dimensions()
        )));
    }
    if request.canvas.canvas_size() != (w, h) {
        return Err(RenderError::InvalidRequest(format!(
            "the request's canvas settings give {:?} but the canvas is {w}x{h}",
            request.canvas.canvas_size()
        )));
    }
    Ok(())
}

/// Renders variant `index` of `request` (seed `request.seed + index`); the
/// same image as in a batch.
pub fn render_variant(
    models: &RenderModels<'_>,
    canvas: &PreparedCanvas,
    request: &RenderRequest,
    index: usize,
    on_progress: &mut dyn FnMut(&RenderProgress) -> ControlFlow<()>,
) -> Result<RenderedVariant, RenderError> {
    check_canvas(canvas, request)?;
    let device = Device::Cpu;
    let seed = request.variant_seed(index);
    let params = InpaintParams {
        prompts: PromptInput::Text {
            prompt: request.params.prompt.clone(),
            negative: request.params.negative_prompt.clone(),
        },
        init_image: rgb_to_tensor(&init_image(canvas)?, &device)?,
        mask: mask_to_tensor(&canvas.inpaint_mask, &device)?,
        control_image: Some(rgb_to_tensor(&canvas.control, &device)?),
        conditioning_scale: request.params.conditioning_scale,
        control_window: request.params.control_window()?,
        steps: request.params.steps,
        guidance_scale: request.params.guidance_scale,
        scheduler: request.params.scheduler,
        scheduler_config: models.scheduler_config.clone(),
        seed,
        initial_latents: None,
    };
    let draft = request.params.draft;
    let (previewer, every) = models.previews(draft);
    let mut preview_error = None;
    let mut on_step = |p: &crate::ml::diffusion::inpaint::StepProgress<'_>| {
        let preview = if p.step.is_multiple_of(every) || p.step == p.total {
            match previewer.preview(p.denoised) {
                Ok(img) => Some(img),
                Err(e) => {
                    preview_error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        } else {
            None
        };
        on_progress(&RenderProgress {
            variant: index,
            n_variants: request.params.n_variants,
            step: p.step,
            total: p.total,
            preview,
        })
    };
    let out = match inpaint_with(&models.models, models.codec(draft), &params, &mut on_step) {
        Ok(out) => out,
        Err(DiffusionError::Cancelled { step, total }) => {
            return Err(match preview_error {
                Some(e) => RenderError::Diffusion(e),
                None => RenderError::Cancelled {
                    variant: index,
                    step,
                    total,
                },
            })
        }
        Err(DiffusionError::NonFiniteLatents { step, total }) => {
            return Err(RenderError::NonFinite {
                variant: index,
                seed,
                step,
                total,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let generated = tensor_to_rgb(&out.image)?;
    let image = composite(&canvas.placed, &generated)?;
    Ok(RenderedVariant {
        index,
        seed,
        image,
        generated,
        prompt_truncated_tokens: out.prompt_truncated_tokens,
        negative_truncated_tokens: out.negative_truncated_tokens,
    })
}
