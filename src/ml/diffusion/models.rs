//! A whole Stable Diffusion model (tokenizer, text encoder, UNet, VAE,
//! scheduler config) loaded from a diffusers folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device};

use super::blocks::kernels::Kernels;
use super::clip_text::{ClipTextConfig, ClipTextModel};
use super::controlnet::ControlNet;
use super::error::{DiffusionError, Result};
use super::inpaint::InpaintModels;
use super::ldm::UNetLayout;
use super::load::{find_weights, mmap_var_builder};
use super::lora::{with_loras, LoraTarget, LoraWeights};
use super::prompt::TextEncoder;
use super::scheduler::SchedulerConfig;
use super::tokenizer::ClipTokenizer;
use super::unet::{UNet, UNetConfig};
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
        Self::load_diffusers_with_loras(root, dtype, device, &[])
    }

    /// [`StableDiffusion::load_diffusers`] with LoRAs (each with its
    /// multiplier) merged into the UNet and text encoder. Errors when LoRAs
    /// are given but none of their modules matches.
    pub fn load_diffusers_with_loras(
        root: &Path,
        dtype: DType,
        device: &Device,
        loras: &[(Arc<LoraWeights>, f64)],
    ) -> Result<Self> {
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

        let unet_cfg = UNetConfig::from_file(&unet_dir.join("config.json"))?;
        let unet_file = find_weights(
            &unet_dir,
            &[
                "diffusion_pytorch_model.safetensors",
                "diffusion_pytorch_model.fp16.safetensors",
            ],
        )?;
        let layout = UNetLayout::new(unet_cfg.base.layers_per_block, &unet_cfg.levels()?);
        let base = mmap_var_builder(std::slice::from_ref(&unet_file), dtype, device)?;
        let (vb, unet_hits) = with_loras(base, loras, LoraTarget::Unet(layout));
        let unet = UNet::new(&unet_cfg, vb).map_err(|e| weights_error(e, &unet_file))?;

        let text_cfg = ClipTextConfig::from_file(&text_dir.join("config.json"))?;
        let text_file = find_weights(&text_dir, &["model.safetensors"])?;
        let base = mmap_var_builder(std::slice::from_ref(&text_file), dtype, device)?;
        let (vb, text_hits) = with_loras(base, loras, LoraTarget::TextEncoder);
        let text_encoder =
            ClipTextModel::new(&text_cfg, vb).map_err(|source| DiffusionError::Weights {
                path: text_file.display().to_string(),
                source,
            })?;
        let hits = |h: &std::sync::Mutex<usize>| h.lock().map(|n| *n).unwrap_or(0);
        if !loras.is_empty() && hits(&unet_hits) + hits(&text_hits) == 0 {
            return Err(DiffusionError::InvalidInput(
                "no module of the given LoRAs matches this model's UNet or text encoder".into(),
            ));
        }
        Ok(Self {
            tokenizer: ClipTokenizer::from_dir(&tokenizer_dir)?,
            text_encoder,
            unet,
            vae: Vae::load(&vae_dir, vae_dtype(dtype), device)?,
            scheduler_config: SchedulerConfig::from_file(&sched_dir.join("scheduler_config.json"))?,
        })
    }

    /// Runs every component's forward passes with `kernels`
    /// ([`super::blocks::kernels`]).
    pub fn set_kernels(&mut self, kernels: Kernels) {
        self.unet.set_kernels(kernels);
        self.text_encoder.set_kernels(kernels);
        self.vae.set_kernels(kernels);
    }

    /// Rounds every component's matrix-product operands to bf16
    /// ([`super::blocks::bf16`]).
    pub fn set_bf16_operands(&mut self, on: bool) {
        self.unet.set_bf16_operands(on);
        self.text_encoder.set_bf16_operands(on);
        self.vae.set_bf16_operands(on);
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

fn weights_error(e: DiffusionError, file: &Path) -> DiffusionError {
    match e {
        DiffusionError::Candle(source) => DiffusionError::Weights {
            path: file.display().to_string(),
            source,
        },
        other => other,
    }
}
