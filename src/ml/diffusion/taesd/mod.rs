//! TAESD, the tiny autoencoder (diffusers `AutoencoderTiny`): an encoder
//! and a decoder of plain 3x3 convolutions, about a tenth of the SD VAE's
//! work, whose latents live on the scale of SD's *scaled* latents. Used for
//! per-step previews ([`crate::ml::diffusion::preview`]) and for drafts.
//!
//! Latent scaling as diffusers does it: diffusion latents are
//! `(encoder output - shift_factor) * scaling_factor` (1.0 and 0 for TAESD),
//! and [`Taesd::scale_latents`] / [`Taesd::unscale_latents`] map raw latents
//! to and from [0, 1] (`x / (2 * latent_magnitude) + latent_shift`), the
//! range TAESD stores latents in as bytes.

pub mod config;
mod layers;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use config::{Activation, TaesdConfig};
use layers::{TinyDecoder, TinyEncoder};

use super::error::{DiffusionError, Result};

/// The tiny autoencoder.
#[derive(Debug, Clone)]
pub struct Taesd {
    encoder: TinyEncoder,
    decoder: TinyDecoder,
    config: TaesdConfig,
    dtype: DType,
    bf16_operands: bool,
}

impl Taesd {
    /// Builds it from its configuration and weights (`encoder.layers.*`,
    /// `decoder.layers.*`). On the CPU, f16 and bf16 weights are widened to
    /// f32 as they load (about 10 MB): the CPU kernels compute in f32, and
    /// computing in f16 there is several times slower.
    pub fn new(cfg: &TaesdConfig, vb: VarBuilder<'static>) -> Result<Self> {
        cfg.check()?;
        let vb = crate::ml::diffusion::blocks::at_rest::compute_vb(&vb);
        Ok(Self {
            encoder: TinyEncoder::new(cfg, vb.pp("encoder"))?,
            decoder: TinyDecoder::new(cfg, vb.pp("decoder"))?,
            config: cfg.clone(),
            dtype: vb.dtype(),
            bf16_operands: crate::ml::diffusion::blocks::bf16::Bf16Mode::from_env().enabled(),
        })
    }

    /// Rounds matrix-product operands to bf16 in `encode` and `decode`
    /// ([`crate::ml::diffusion::blocks::bf16`]; set at construction from
    /// `ADSTUDIO_BF16`, and on for drafts where the CPU has AVX512-BF16).
    pub fn set_bf16_operands(&mut self, on: bool) {
        self.bf16_operands = on;
    }

    /// Runs `f` with this model's bf16 setting.
    fn scoped<T>(&self, f: impl FnOnce() -> T) -> T {
        use crate::ml::diffusion::blocks::kernels;
        kernels::scope(kernels::Kernels::current(), self.bf16_operands, f)
    }

    /// Loads a diffusers TAESD folder (`config.json` and
    /// `diffusion_pytorch_model.safetensors`).
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        super::load::load_component(dir, dtype, device, TaesdConfig::from_file, |cfg, vb| {
            Self::new(cfg, vb)
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TaesdConfig {
        &self.config
    }

    /// The weights' dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    fn check_image(&self, image: &Tensor) -> Result<()> {
        let (_, c, h, w) = image.dims4()?;
        let f = self.config.downscale_factor();
        if c != self.config.in_channels || h % f != 0 || w % f != 0 || h == 0 || w == 0 {
            return Err(DiffusionError::InvalidInput(format!(
                "TAESD input of shape {:?}: needs {} channels and sides that are non-zero multiples of {f}",
                image.dims(),
                self.config.in_channels
            )));
        }
        Ok(())
    }

    /// Image `(b, 3, h, w)` in [-1, 1] -> raw latents `(b, 4, h/8, w/8)`
    /// (f32), as diffusers' `encode(x).latents`.
    pub fn encode(&self, image: &Tensor) -> Result<Tensor> {
        self.check_image(image)?;
        let xs = self.scoped(|| self.encoder.forward(&image.to_dtype(self.dtype)?))?;
        Ok(xs.to_dtype(DType::F32)?)
    }

    /// Raw latents -> image in about [-1, 1] (f32), as diffusers'
    /// `decode(z).sample`.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        let (_, c, _, _) = latents.dims4()?;
        if c != self.config.latent_channels {
            return Err(DiffusionError::InvalidInput(format!(
                "TAESD decoder takes {} latent channels, got {:?}",
                self.config.latent_channels,
                latents.dims()
            )));
        }
        let xs = self.scoped(|| self.decoder.forward(&latents.to_dtype(self.dtype)?))?;
        Ok(xs.to_dtype(DType::F32)?)
    }

    /// Raw latents -> [0, 1] (clamped), the byte-storable form.
    pub fn scale_latents(&self, raw: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        Ok(((raw / (2.0 * c.latent_magnitude))? + c.latent_shift)?.clamp(0f32, 1f32)?)
    }

    /// [0, 1] -> raw latents (inverse of [`Taesd::scale_latents`] inside
    /// the range).
    pub fn unscale_latents(&self, unit: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        Ok(((unit - c.latent_shift)? * (2.0 * c.latent_magnitude))?)
    }

    /// Image in [0, 1] -> diffusion latents (`(z - shift) * scaling`).
    pub fn encode_to_latents(&self, image01: &Tensor) -> Result<Tensor> {
        let raw = self.encode(&((image01 * 2.0)? - 1.0)?)?;
        let shift = self.config.shift_factor.unwrap_or(0.0);
        Ok(((raw - shift)? * self.config.scaling_factor)?)
    }

    /// Diffusion latents -> image in [0, 1] (clamped).
    pub fn decode_to_image(&self, latents: &Tensor) -> Result<Tensor> {
        let shift = self.config.shift_factor.unwrap_or(0.0);
        let raw = ((latents / self.config.scaling_factor)? + shift)?;
        let image = self.decode(&raw)?;
        Ok(((image / 2.0)? + 0.5)?.clamp(0f32, 1f32)?)
    }
}
