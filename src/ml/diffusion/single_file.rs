//! Loading single-file SD 1.x checkpoints (original LDM key names) into the
//! same modules as diffusers folders, through the key tables of [`super::ldm`].

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

use super::clip_text::{ClipTextConfig, ClipTextModel};
use super::controlnet::{ControlNet, ControlNetConfig};
use super::error::{DiffusionError, Result};
use super::ldm::{
    controlnet_key, unet_key, vae_key, UNetLayout, CLIP_PREFIX, UNET_PREFIX, VAE_PREFIX,
};
use super::models::{vae_dtype, StableDiffusion};
use super::scheduler::SchedulerConfig;
use super::tokenizer::ClipTokenizer;
use super::unet::{UNet, UNetConfig};
use super::vae::{Vae, VaeConfig};

/// The architecture configs a single-file checkpoint is read with.
#[derive(Debug, Clone)]
pub struct SingleFileConfigs {
    /// UNet config (its `in_channels` is replaced by what the file holds).
    pub unet: UNetConfig,
    /// VAE config.
    pub vae: VaeConfig,
    /// CLIP text encoder config.
    pub text_encoder: ClipTextConfig,
    /// Scheduler config.
    pub scheduler: SchedulerConfig,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T> {
    let origin = std::path::PathBuf::from(format!("<built-in SD 1.5 {name}>"));
    Ok(crate::ml::json::parse_json(&origin, text)?)
}

impl SingleFileConfigs {
    /// The Stable Diffusion 1.5 architecture (CLIP ViT-L/14 text encoder,
    /// 4 levels 320..1280, VAE scale 0.18215, its DDIM-style schedule).
    pub fn sd15() -> Result<Self> {
        Ok(Self {
            unet: parse("unet", include_str!("sd15/unet.json"))?,
            vae: parse("vae", include_str!("sd15/vae.json"))?,
            text_encoder: parse("text_encoder", include_str!("sd15/text_encoder.json"))?,
            scheduler: parse("scheduler", include_str!("sd15/scheduler_ddim.json"))?,
        })
    }
}

/// The SD 1.5 ControlNet architecture (for single-file ControlNets).
pub fn sd15_controlnet_config() -> Result<ControlNetConfig> {
    parse("controlnet", include_str!("sd15/controlnet.json"))
}

fn weights_err(file: &Path) -> impl Fn(DiffusionError) -> DiffusionError + '_ {
    move |e| match e {
        DiffusionError::Candle(source) => DiffusionError::Weights {
            path: file.display().to_string(),
            source,
        },
        other => other,
    }
}

impl StableDiffusion {
    /// Loads a single-file SD 1.5 checkpoint (`.safetensors`, LDM key
    /// names) with the built-in SD 1.5 configs; 4- and 9-channel UNets are
    /// told apart by the file's `conv_in` weight.
    pub fn load_single_file(
        file: &Path,
        tokenizer: ClipTokenizer,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        Self::load_single_file_with(file, &SingleFileConfigs::sd15()?, tokenizer, dtype, device)
    }

    /// [`StableDiffusion::load_single_file`] with explicit architecture configs.
    pub fn load_single_file_with(
        file: &Path,
        configs: &SingleFileConfigs,
        tokenizer: ClipTokenizer,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let files = [file.to_path_buf()];
        let vb = super::load::mmap_var_builder(&files, dtype, device)?;
        let vae_vb = super::load::mmap_var_builder(&files, vae_dtype(dtype), device)?;
        Self::from_single_file_vb(vb, vae_vb, configs, tokenizer).map_err(weights_err(file))
    }

    /// Builds the model from var builders over a single-file checkpoint
    /// (`vae_vb` may use another dtype).
    pub fn from_single_file_vb(
        vb: VarBuilder<'static>,
        vae_vb: VarBuilder<'static>,
        configs: &SingleFileConfigs,
        tokenizer: ClipTokenizer,
    ) -> Result<Self> {
        let mut unet_cfg = configs.unet.clone();
        let conv_in = vb.get_unchecked(&format!("{UNET_PREFIX}input_blocks.0.0.weight"))?;
        unet_cfg.in_channels = conv_in.dims4()?.1;
        let layout = UNetLayout::new(unet_cfg.base.layers_per_block, &unet_cfg.levels()?);
        let unet_vb = vb
            .clone()
            .rename_f(move |name| format!("{UNET_PREFIX}{}", unet_key(name, &layout)));
        let levels = configs.vae.block_out_channels.len();
        let vae_vb = vae_vb.rename_f(move |name| format!("{VAE_PREFIX}{}", vae_key(name, levels)));
        let text_vb = vb.pp(CLIP_PREFIX.trim_end_matches('.'));
        Ok(Self {
            tokenizer,
            text_encoder: ClipTextModel::new(&configs.text_encoder, text_vb)?,
            unet: UNet::new(&unet_cfg, unet_vb)?,
            vae: Vae::new(&configs.vae, vae_vb)?,
            scheduler_config: configs.scheduler.clone(),
        })
    }
}

impl ControlNet {
    /// Loads a single-file ControlNet in the original (lllyasviel) layout,
    /// with or without the `control_model.` prefix.
    pub fn load_single_file(
        file: &Path,
        cfg: &ControlNetConfig,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let vb = super::load::mmap_var_builder(&[file.to_path_buf()], dtype, device)?;
        Self::from_single_file_vb(cfg, vb).map_err(weights_err(file))
    }

    /// Builds a ControlNet from a var builder over an LDM-layout file.
    pub fn from_single_file_vb(cfg: &ControlNetConfig, vb: VarBuilder<'static>) -> Result<Self> {
        let levels = cfg.base.levels("ControlNet config")?;
        let layout = UNetLayout::new(cfg.base.layers_per_block, &levels);
        let hint_blocks = 2 * cfg
            .conditioning_embedding_out_channels
            .len()
            .saturating_sub(1);
        let prefix = if vb.contains_tensor("control_model.input_blocks.0.0.weight") {
            "control_model."
        } else {
            ""
        };
        let vb = vb.rename_f(move |name| {
            format!("{prefix}{}", controlnet_key(name, &layout, hint_blocks))
        });
        ControlNet::new(cfg, vb)
    }
}
