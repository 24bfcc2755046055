//! The ControlNet inpainting pipeline as a pure function: prompts (or their
//! embeddings), an init image, a mask (1 = repaint), an optional control
//! image, a seed (or initial latents) in; an image in [0, 1] out.
//!
//! Two inpainting methods, chosen by the UNet:
//! - 9-channel inpainting UNets get `[latents, mask, masked-image latents]`;
//! - 4-channel UNets use latent blending (CAIG's path): after each step the
//!   known region's latents are replaced by the original image's latents
//!   noised to the next step's level.

use std::ops::ControlFlow;

use candle_core::{DType, Tensor};

use super::blocks::embeddings::guidance_embedding;
use super::control_window::ControlWindow;
use super::controlnet::ControlNet;
use super::error::{DiffusionError, Result};
use super::guidance::{apply_guidance, cfg_embeddings};
use super::noise::NoiseRng;
use super::prompt::{PromptEmbeddings, TextEncoder};
use super::scheduler::{Scheduler, SchedulerConfig, SchedulerKind};
use super::taesd::Taesd;
use super::unet::UNet;
use super::vae::Vae;

/// The loaded models a render needs.
#[derive(Debug, Clone, Copy)]
pub struct InpaintModels<'a> {
    /// The UNet (4 channels: latent blending; 9 channels: inpainting UNet).
    pub unet: &'a UNet,
    /// The autoencoder.
    pub vae: &'a Vae,
    /// Optional ControlNet (needs `InpaintParams::control_image`).
    pub controlnet: Option<&'a ControlNet>,
    /// Tokenizer + text encoder, needed when prompts are given as text.
    pub text: Option<TextEncoder<'a>>,
}

/// Prompts as text or as ready embeddings.
#[derive(Debug, Clone)]
pub enum PromptInput {
    /// Text, encoded with `InpaintModels::text`.
    Text {
        /// The prompt.
        prompt: String,
        /// The negative prompt ("" for none).
        negative: String,
    },
    /// Precomputed embeddings `(1, 77, d)` each.
    Embeddings(PromptEmbeddings),
}

/// Everything that defines one render.
#[derive(Debug, Clone)]
pub struct InpaintParams {
    /// Prompt and negative prompt.
    pub prompts: PromptInput,
    /// The canvas `(1, 3, H, W)` in [0, 1]; H and W multiples of 8.
    pub init_image: Tensor,
    /// `(1, 1, H, W)`, 1 = repaint, 0 = keep (binarised at 0.5).
    pub mask: Tensor,
    /// Control image `(1, 3, H, W)` in [0, 1], used with a ControlNet.
    pub control_image: Option<Tensor>,
    /// ControlNet conditioning scale (1.0 in CAIG; 0 skips the ControlNet).
    pub conditioning_scale: f64,
    /// The steps the ControlNet runs on (diffusers' `control_guidance_start`
    /// and `control_guidance_end`; [`ControlWindow::FULL`]: every step).
    pub control_window: ControlWindow,
    /// Number of denoising steps.
    pub steps: usize,
    /// Classifier-free guidance scale (no guidance when <= 1). For
    /// LCM-distilled UNets (with `time_cond_proj_dim`) it is embedded
    /// instead (`w = scale - 1`) and no unconditional pass runs.
    pub guidance_scale: f64,
    /// Which scheduler.
    pub scheduler: SchedulerKind,
    /// The model's scheduler configuration (beta schedule etc.).
    pub scheduler_config: SchedulerConfig,
    /// Seed of the initial latents and of the per-step noise.
    pub seed: u64,
    /// Initial standard-normal latents `(1, 4, H/8, W/8)` instead of drawing
    /// them from the seed (the per-step noise still comes from the seed).
    pub initial_latents: Option<Tensor>,
}

/// What the step callback sees.
#[derive(Debug, Clone, Copy)]
pub struct StepProgress<'a> {
    /// 1-based number of the finished step.
    pub step: usize,
    /// Total number of steps.
    pub total: usize,
    /// The UNet timestep of the finished step.
    pub timestep: f64,
    /// Latents after the step (scaled diffusion latents, f32).
    pub latents: &'a Tensor,
    /// The scheduler's estimate of the clean latents at this step (a better
    /// preview source than the noisy latents).
    pub denoised: &'a Tensor,
}

/// The result of a render.
#[derive(Debug, Clone)]
pub struct InpaintOutput {
    /// Decoded image `(1, 3, H, W)` in [0, 1] (not yet composited with the
    /// original: paste the kept pixels back afterwards).
    pub image: Tensor,
    /// Final latents.
    pub latents: Tensor,
    /// Tokens cut off the prompt (0 when it fit or embeddings were given).
    pub prompt_truncated_tokens: usize,
    /// Tokens cut off the negative prompt (0 without classifier-free
    /// guidance, which does not encode it).
    pub negative_truncated_tokens: usize,
}

/// Which autoencoder turns the init image into latents and the final
/// latents into the image.
#[derive(Debug, Clone, Copy)]
pub enum LatentCodec<'a> {
    /// The model's VAE (full quality).
    Vae,
    /// TAESD (drafts: a fraction of the VAE's cost).
    Taesd(&'a Taesd),
}

impl LatentCodec<'_> {
    /// Image in [-1, 1] -> scaled diffusion latents (the VAE's mean).
    fn encode(&self, vae: &Vae, image: &Tensor) -> Result<Tensor> {
        match self {
            Self::Vae => vae.scale_latents(&vae.encode(image)?.mean),
            Self::Taesd(t) => t.encode_to_latents(&((image + 1.0)? / 2.0)?),
        }
    }

    /// Scaled diffusion latents -> image in [0, 1].
    fn decode(&self, vae: &Vae, latents: &Tensor) -> Result<Tensor> {
        match self {
            Self::Vae => vae.decode_to_image(latents),
            Self::Taesd(t) => t.decode_to_image(latents),
        }
    }

    /// Errors when TAESD's latents do not fit the VAE's.
    fn check(&self, vae: &Vae) -> Result<()> {
        let Self::Taesd(t) = self else {
            return Ok(());
        };
        let (tc, vc) = (t.config(), vae.config());
        if tc.latent_channels != vc.latent_channels
            || tc.downscale_factor() != vc.downscale_factor()
        {
            return Err(DiffusionError::InvalidInput(format!(
                "TAESD has {} latent channels at 1/{} scale; the VAE has {} at 1/{}",
                tc.latent_channels,
                tc.downscale_factor(),
                vc.latent_channels,
                vc.downscale_factor()
            )));
        }
        Ok(())
    }
}

/// Runs the inpainting pipeline. `on_step` is called after every step and
/// stops the loop with [`DiffusionError::Cancelled`] by returning
/// `ControlFlow::Break(())`. Non-finite latents stop it with
/// [`DiffusionError::NonFiniteLatents`].
pub fn inpaint(
    models: &InpaintModels<'_>,
    params: &InpaintParams,
    on_step: &mut dyn FnMut(&StepProgress<'_>) -> ControlFlow<()>,
) -> Result<InpaintOutput> {
    inpaint_with(models, LatentCodec::Vae, params, on_step)
}

/// [`inpaint`] with the init image encoded and the result decoded by
/// `codec` (TAESD for drafts).
pub fn inpaint_with(
    models: &InpaintModels<'_>,
    codec: LatentCodec<'_>,
    params: &InpaintParams,
    on_step: &mut dyn FnMut(&StepProgress<'_>) -> ControlFlow<()>,
) -> Result<InpaintOutput> {
    codec.check(models.vae)?;
    let canvas = prepare_canvas(models, params)?;
    let text = text_conditioning(models, params)?;
    let scheduler = Scheduler::new(params.scheduler, &params.scheduler_config, params.steps)?;
    let mut rng = NoiseRng::new(params.seed);
    let noise = initial_noise(models, params, &canvas, &mut rng)?;
    let image_cond = image_conditioning(models, codec, &canvas, text.batch())?;
    let latents = denoise(
        &Denoiser {
            models,
            params,
            scheduler: &scheduler,
            canvas: &canvas,
            text: &text,
            image_cond: &image_cond,
            noise: &noise,
        },
        &mut rng,
        on_step,
    )?;
    let image = codec.decode(models.vae, &latents)?;
    Ok(InpaintOutput {
        image,
        latents,
        prompt_truncated_tokens: text.prompt_truncated_tokens,
        negative_truncated_tokens: text.negative_truncated_tokens,
    })
}

/// The init image, mask and control image, checked and on the UNet's device.
struct Canvas {
    /// The init image in [-1, 1], f32.
    image: Tensor,
    /// The binarised pixel mask (1 = repaint), f32.
    mask: Tensor,
    /// The mask at latent resolution `(1, 1, lh, lw)`.
    latent_mask: Tensor,
    /// Latent height and width.
    latent_size: (usize, usize),
    /// The control image in the UNet's dtype, when a ControlNet is loaded.
    control: Option<Tensor>,
}

/// Checks the init image and mask, binarises the mask and brings both (and
/// the control image) onto the UNet's device.
fn prepare_canvas(models: &InpaintModels<'_>, params: &InpaintParams) -> Result<Canvas> {
    let device = models.unet.device();
    let f = models.vae.config().downscale_factor();
    let (ib, ic, h, w) = params.init_image.dims4()?;
    if ib != 1 || ic != 3 || h % f != 0 || w % f != 0 || h == 0 || w == 0 {
        return Err(DiffusionError::InvalidInput(format!(
            "init image of shape {:?}: expected (1, 3, H, W) with H and W multiples of {f}",
            params.init_image.dims()
        )));
    }
    if params.mask.dims() != [1, 1, h, w] {
        return Err(DiffusionError::InvalidInput(format!(
            "mask of shape {:?}: expected (1, 1, {h}, {w})",
            params.mask.dims()
        )));
    }
    let (lh, lw) = (h / f, w / f);
    let image = ((params.init_image.to_device(device)?.to_dtype(DType::F32)? * 2.0)? - 1.0)?;
    let mask = params
        .mask
        .to_device(device)?
        .to_dtype(DType::F32)?
        .ge(0.5)?
        .to_dtype(DType::F32)?;
    let latent_mask = mask
        .reshape((1, 1, lh, f, lw, f))?
        .narrow(3, 0, 1)?
        .narrow(5, 0, 1)?
        .reshape((1, 1, lh, lw))?;
    let control = match (models.controlnet, &params.control_image) {
        (Some(_), Some(c)) => Some(c.to_device(device)?.to_dtype(models.unet.dtype())?),
        (Some(_), None) => {
            return Err(DiffusionError::InvalidInput(
                "a ControlNet is loaded but no control image was given".into(),
            ))
        }
        (None, _) => None,
    };
    Ok(Canvas {
        image,
        mask,
        latent_mask,
        latent_size: (lh, lw),
        control,
    })
}

/// The text side of the conditioning.
struct TextConditioning {
    /// Encoder hidden states in the UNet's dtype: `[negative, positive]`
    /// with classifier-free guidance, else the positive prompt alone.
    hidden_states: Tensor,
    /// The guidance-scale embedding of LCM-distilled UNets.
    guidance_cond: Option<Tensor>,
    /// Whether an unconditional batch half runs (classifier-free guidance).
    do_cfg: bool,
    prompt_truncated_tokens: usize,
    negative_truncated_tokens: usize,
}

impl TextConditioning {
    /// The UNet batch size: 2 with classifier-free guidance, else 1.
    fn batch(&self) -> usize {
        if self.do_cfg {
            2
        } else {
            1
        }
    }
}

/// Encodes the prompts (or takes their embeddings) and chooses between
/// classifier-free guidance and the LCM guidance embedding. The negative
/// prompt is only encoded when classifier-free guidance uses it (not for
/// a draft's guidance scale of 1).
fn text_conditioning(
    models: &InpaintModels<'_>,
    params: &InpaintParams,
) -> Result<TextConditioning> {
    let unet = models.unet;
    let device = unet.device();
    let udt = unet.dtype();
    // LCM-distilled UNets take the guidance scale as an embedding instead of
    // a second (unconditional) batch half.
    let guidance_cond = match unet.config().time_cond_proj_dim {
        Some(dim) => {
            let w = Tensor::new(&[(params.guidance_scale - 1.0) as f32], device)?;
            Some(guidance_embedding(&w, dim)?.to_dtype(udt)?)
        }
        None => None,
    };
    let do_cfg = guidance_cond.is_none() && params.guidance_scale > 1.0;
    let (hidden_states, prompt_truncated_tokens, negative_truncated_tokens) = match &params.prompts
    {
        PromptInput::Embeddings(e) if do_cfg => (cfg_embeddings(&e.negative, &e.positive)?, 0, 0),
        PromptInput::Embeddings(e) => (e.positive.clone(), 0, 0),
        PromptInput::Text { prompt, negative } => {
            let text = models.text.ok_or_else(|| {
                DiffusionError::InvalidInput(
                    "text prompts need a tokenizer and text encoder".into(),
                )
            })?;
            let (positive, prompt_cut) = text.encode(prompt, device)?;
            if do_cfg {
                let (negative, negative_cut) = text.encode(negative, device)?;
                (
                    cfg_embeddings(&negative, &positive)?,
                    prompt_cut,
                    negative_cut,
                )
            } else {
                (positive, prompt_cut, 0)
            }
        }
    };
    let hidden_states = hidden_states.to_device(device)?.to_dtype(udt)?;
    Ok(TextConditioning {
        hidden_states,
        guidance_cond,
        do_cfg,
        prompt_truncated_tokens,
        negative_truncated_tokens,
    })
}

/// The standard-normal starting latents: given, or drawn from the seed.
fn initial_noise(
    models: &InpaintModels<'_>,
    params: &InpaintParams,
    canvas: &Canvas,
    rng: &mut NoiseRng,
) -> Result<Tensor> {
    let device = models.unet.device();
    let channels = models.vae.config().latent_channels;
    let (lh, lw) = canvas.latent_size;
    match &params.initial_latents {
        Some(l) => {
            if l.dims() != [1, channels, lh, lw] {
                return Err(DiffusionError::InvalidInput(format!(
                    "initial latents of shape {:?}: expected (1, {channels}, {lh}, {lw})",
                    l.dims()
                )));
            }
            Ok(l.to_device(device)?.to_dtype(DType::F32)?)
        }
        None => Ok(rng.tensor((1, channels, lh, lw), device)?),
    }
}

/// The image side of the conditioning, by inpainting method.
enum ImageConditioning {
    /// 9-channel inpainting UNet: `[mask, masked-image latents]`, batched,
    /// appended to the UNet input.
    ExtraChannels(Tensor),
    /// 4-channel UNet: the original image's latents, blended into the known
    /// region after every step.
    Blend(Tensor),
}

/// Encodes the init image for the UNet's inpainting method.
fn image_conditioning(
    models: &InpaintModels<'_>,
    codec: LatentCodec<'_>,
    canvas: &Canvas,
    batch: usize,
) -> Result<ImageConditioning> {
    let (unet, vae) = (models.unet, models.vae);
    let latent_channels = vae.config().latent_channels;
    if unet.is_inpainting() {
        let masked = canvas.image.broadcast_mul(&(1.0 - &canvas.mask)?)?;
        let masked_latents = codec.encode(vae, &masked)?;
        let extra = Tensor::cat(&[&canvas.latent_mask, &masked_latents], 1)?
            .repeat((batch, 1, 1, 1))?
            .to_dtype(unet.dtype())?;
        Ok(ImageConditioning::ExtraChannels(extra))
    } else if unet.in_channels() == latent_channels {
        let latents = codec.encode(vae, &canvas.image)?;
        Ok(ImageConditioning::Blend(latents))
    } else {
        Err(DiffusionError::Unsupported {
            what: "UNet".into(),
            reason: format!(
                "{} input channels (expected {latent_channels} or {})",
                unet.in_channels(),
                2 * latent_channels + 1
            ),
        })
    }
}

/// Everything the denoising loop reads.
struct Denoiser<'a> {
    models: &'a InpaintModels<'a>,
    params: &'a InpaintParams,
    scheduler: &'a Scheduler,
    canvas: &'a Canvas,
    text: &'a TextConditioning,
    image_cond: &'a ImageConditioning,
    /// The starting noise (also re-noises the known region when blending).
    noise: &'a Tensor,
}

/// The denoising loop: one guided (and ControlNet-conditioned) UNet pass and
/// one scheduler step per timestep, then latent blending; returns the final
/// latents.
fn denoise(
    d: &Denoiser<'_>,
    rng: &mut NoiseRng,
    on_step: &mut dyn FnMut(&StepProgress<'_>) -> ControlFlow<()>,
) -> Result<Tensor> {
    let timesteps = d.scheduler.timesteps();
    let total = timesteps.len();
    let device = d.models.unet.device();
    let mut latents = (d.noise * d.scheduler.init_noise_sigma())?;
    for (i, &t) in timesteps.iter().enumerate() {
        let noise_pred = d.predict_noise(&latents, i, t)?;
        let step_noise = if d.scheduler.needs_noise(i) {
            Some(rng.tensor(latents.dims(), device)?)
        } else {
            None
        };
        let stepped = d
            .scheduler
            .step(&noise_pred, i, &latents, step_noise.as_ref())?;
        latents = d.blend_known(stepped.prev_sample, i, total)?;
        if !all_finite(&latents)? {
            return Err(DiffusionError::NonFiniteLatents { step: i + 1, total });
        }
        let progress = StepProgress {
            step: i + 1,
            total,
            timestep: t,
            latents: &latents,
            denoised: &stepped.pred_original,
        };
        if on_step(&progress).is_break() {
            return Err(DiffusionError::Cancelled { step: i + 1, total });
        }
    }
    Ok(latents)
}

impl Denoiser<'_> {
    /// The guided noise prediction (f32) of step `i` at timestep `t`.
    fn predict_noise(&self, latents: &Tensor, i: usize, t: f64) -> Result<Tensor> {
        let (unet, params, text) = (self.models.unet, self.params, self.text);
        let model_in = if text.do_cfg {
            Tensor::cat(&[latents, latents], 0)?
        } else {
            latents.clone()
        };
        let model_in = self
            .scheduler
            .scale_model_input(&model_in, i)?
            .to_dtype(unet.dtype())?;
        let keeps = params
            .control_window
            .keeps(i, self.scheduler.timesteps().len());
        let residuals = match (self.models.controlnet, &self.canvas.control) {
            (Some(cn), Some(c)) if params.conditioning_scale != 0.0 && keeps => Some(cn.forward(
                &model_in,
                t,
                &text.hidden_states,
                c,
                params.conditioning_scale,
            )?),
            _ => None,
        };
        let unet_in = match self.image_cond {
            ImageConditioning::ExtraChannels(extra) => Tensor::cat(&[&model_in, extra], 1)?,
            ImageConditioning::Blend(_) => model_in,
        };
        let noise_pred = unet
            .forward_with_cond(
                &unet_in,
                t,
                &text.hidden_states,
                residuals.as_ref(),
                text.guidance_cond.as_ref(),
            )?
            .to_dtype(DType::F32)?;
        if text.do_cfg {
            apply_guidance(&noise_pred, params.guidance_scale)
        } else {
            Ok(noise_pred)
        }
    }

    /// Latent blending (4-channel UNets): the known region takes the
    /// original latents noised to the next step's level (clean after the
    /// last step).
    fn blend_known(&self, latents: Tensor, i: usize, total: usize) -> Result<Tensor> {
        let ImageConditioning::Blend(original) = self.image_cond else {
            return Ok(latents);
        };
        let known = if i + 1 < total {
            self.scheduler.add_noise(original, self.noise, i + 1)?
        } else {
            original.clone()
        };
        let mask = &self.canvas.latent_mask;
        Ok((known.broadcast_mul(&(1.0 - mask)?)? + latents.broadcast_mul(mask)?)?)
    }
}

/// Whether every value is finite (NaN and infinities poison the sum).
fn all_finite(t: &Tensor) -> Result<bool> {
    let s = t.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
    Ok(s.is_finite())
}
