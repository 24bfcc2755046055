//! A whole Stable Diffusion model (tokenizer, text encoder, UNet, VAE,
//! scheduler config) loaded from a diffusers folder.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};

use super::clip_text::ClipTextModel;
use super::controlnet::ControlNet;
use super::error::{DiffusionError, Result};
use super::inpaint::InpaintModels;
use super::prompt::TextEncoder;
use super::scheduler::SchedulerConfig;
use super::tokenizer::ClipTokenizer;
use super::unet::UNet;
use super::vae::Vae;

/// The components of a Stable Diffusion 1.x checkpoint.
#[derive(Debug)]
pub struct StableDiffusion {
    /// CLIP tokenizer.
    pub tokenizer: ClipTokenizer,
    /// CLIP text encoder.
    pub text_encoder: ClipTextModel,
    /// Denoising UNet (4 or 9 input channels).
    pub unet: UNet,
    /// Autoencoder (kept in f32 when the rest is f16: SD's VAE overflows in f16).
    pub vae: Vae,
    /// The checkpoint's scheduler configuration.
    pub scheduler_config: SchedulerConfig,
}

/// The dtype the VAE runs in for a requested model dtype.
pub fn vae_dtype(dtype: DType) -> DType {
    if dtype == DType::F16 {
        DType::F32
    } else {
        dtype
    }
}

fn component(root: &Path, name: &str, file: &str) -> Result<PathBuf> {
    let dir = root.join(name);
    let expected = dir.join(file);
    if expected.is_file() {
        Ok(dir)
    } else {
        Err(DiffusionError::MissingComponent {
            root: root.to_path_buf(),
            component: name.to_owned(),
            expected,
        })
    }
}

impl StableDiffusion {
    /// Loads a diffusers folder with `tokenizer/`, `text_encoder/`, `unet/`,
    /// `vae/` and `scheduler/`. A missing component is an error naming it.
    pub fn load_diffusers(root: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let tokenizer_dir = root.join("tokenizer");
        if !tokenizer_dir.join("tokenizer.json").is_file()
            && !tokenizer_dir.join("vocab.json").is_file()
        {
            return Err(DiffusionError::MissingComponent {
                root: root.to_path_buf(),
                component: "tokenizer".into(),
                expected: tokenizer_dir.join("tokenizer.json"),
            });
        }
        let text_dir = component(root, "text_encoder", "config.json")?;
        let unet_dir = component(root, "unet", "config.json")?;
        let vae_dir = component(root, "vae", "config.json")?;
        let sched_dir = component(root, "scheduler", "scheduler_config.json")?;
        Ok(Self {
            tokenizer: ClipTokenizer::from_dir(&tokenizer_dir)?,
            text_encoder: ClipTextModel::load(&text_dir, dtype, device)?,
            unet: UNet::load(&unet_dir, dtype, device)?,
            vae: Vae::load(&vae_dir, vae_dtype(dtype), device)?,
            scheduler_config: SchedulerConfig::from_file(&sched_dir.join("scheduler_config.json"))?,
        })
    }

    /// The text side, for prompt encoding.
    pub fn text(&self) -> TextEncoder<'_> {
        TextEncoder {
            tokenizer: &self.tokenizer,
            model: &self.text_encoder,
        }
    }

    /// The models the inpainting pipeline takes, with an optional ControlNet.
    pub fn inpaint_models<'a>(&'a self, controlnet: Option<&'a ControlNet>) -> InpaintModels<'a> {
        InpaintModels {
            unet: &self.unet,
            vae: &self.vae,
            controlnet,
            text: Some(self.text()),
        }
    }
}
