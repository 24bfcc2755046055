//! The conditional UNet (4-channel text-to-image and 9-channel inpainting),
//! built from a diffusers `unet/config.json` on candle-transformers' SD UNet.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::unet_2d::{
    UNet2DConditionModel, UNet2DConditionModelConfig,
};
use serde::Deserialize;

use super::config::{reject_set, DownPath, PerBlock};
use super::controlnet::ControlNetResiduals;
use super::error::{read_json, DiffusionError, Result};

/// `unet/config.json` (the fields this engine reads).
#[derive(Debug, Clone, Deserialize)]
pub struct UNetConfig {
    /// 4 for text-to-image UNets, 9 for inpainting UNets.
    pub in_channels: usize,
    /// Latent channels predicted (4).
    #[serde(default = "four")]
    pub out_channels: usize,
    /// Channels of each resolution level.
    pub block_out_channels: Vec<usize>,
    /// `CrossAttnDownBlock2D` or `DownBlock2D` per level.
    pub down_block_types: Vec<String>,
    /// `CrossAttnUpBlock2D` or `UpBlock2D` per level (mirror of the down path).
    pub up_block_types: Vec<String>,
    /// Resnets per down block.
    pub layers_per_block: usize,
    /// Number of heads (diffusers naming quirk) unless `num_attention_heads` is set.
    pub attention_head_dim: PerBlock,
    /// Number of heads, when given explicitly.
    #[serde(default)]
    pub num_attention_heads: Option<PerBlock>,
    /// Transformer blocks per attention.
    #[serde(default)]
    pub transformer_layers_per_block: PerBlock,
    /// Width of the text embeddings.
    pub cross_attention_dim: usize,
    /// GroupNorm groups.
    #[serde(default = "thirty_two")]
    pub norm_num_groups: usize,
    /// GroupNorm epsilon.
    #[serde(default = "norm_eps")]
    pub norm_eps: f64,
    /// Timestep embedding ordering.
    #[serde(default = "yes")]
    pub flip_sin_to_cos: bool,
    /// Timestep embedding frequency shift.
    #[serde(default)]
    pub freq_shift: f64,
    /// Padding of the downsampling convolutions.
    #[serde(default = "one")]
    pub downsample_padding: usize,
    /// Output scale of the mid block.
    #[serde(default = "one_f")]
    pub mid_block_scale_factor: f64,
    /// Whether the input is mapped from [0,1] to [-1,1].
    #[serde(default)]
    pub center_input_sample: bool,
    /// Linear instead of 1x1-conv projections in the transformers (SD 2).
    #[serde(default)]
    pub use_linear_projection: bool,
    /// Unsupported: class-conditioned UNets.
    #[serde(default)]
    pub class_embed_type: Option<String>,
    /// Unsupported: SDXL-style additional embeddings.
    #[serde(default)]
    pub addition_embed_type: Option<String>,
    /// Unsupported yet: guidance-embedding (LCM-distilled) UNets.
    #[serde(default)]
    pub time_cond_proj_dim: Option<usize>,
    /// Only `UNetMidBlock2DCrossAttn` is supported.
    #[serde(default)]
    pub mid_block_type: Option<String>,
}

fn four() -> usize {
    4
}
fn thirty_two() -> usize {
    32
}
fn one() -> usize {
    1
}
fn one_f() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn norm_eps() -> f64 {
    1e-5
}

const WHAT: &str = "UNet config";

impl UNetConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        read_json(path)
    }

    /// The equivalent candle-transformers configuration; errors on features
    /// this engine does not implement.
    pub fn to_candle(&self) -> Result<UNet2DConditionModelConfig> {
        reject_set(WHAT, "class_embed_type", &self.class_embed_type)?;
        reject_set(WHAT, "addition_embed_type", &self.addition_embed_type)?;
        reject_set(WHAT, "time_cond_proj_dim", &self.time_cond_proj_dim)?;
        if let Some(mid) = &self.mid_block_type {
            if mid != "UNetMidBlock2DCrossAttn" {
                return Err(DiffusionError::Unsupported {
                    what: WHAT.into(),
                    reason: format!("mid block type {mid}"),
                });
            }
        }
        let blocks = DownPath {
            block_out_channels: &self.block_out_channels,
            down_block_types: &self.down_block_types,
            attention_head_dim: &self.attention_head_dim,
            num_attention_heads: self.num_attention_heads.as_ref(),
            transformer_layers_per_block: &self.transformer_layers_per_block,
            what: WHAT,
        }
        .blocks()?;
        let mirrored = self
            .down_block_types
            .iter()
            .rev()
            .map(|t| t.replace("Down", "Up"))
            .collect::<Vec<_>>();
        if mirrored != self.up_block_types {
            return Err(DiffusionError::Unsupported {
                what: WHAT.into(),
                reason: format!(
                    "up blocks {:?} do not mirror down blocks {:?}",
                    self.up_block_types, self.down_block_types
                ),
            });
        }
        Ok(UNet2DConditionModelConfig {
            center_input_sample: self.center_input_sample,
            flip_sin_to_cos: self.flip_sin_to_cos,
            freq_shift: self.freq_shift,
            blocks,
            layers_per_block: self.layers_per_block,
            downsample_padding: self.downsample_padding,
            mid_block_scale_factor: self.mid_block_scale_factor,
            norm_num_groups: self.norm_num_groups,
            norm_eps: self.norm_eps,
            cross_attention_dim: self.cross_attention_dim,
            sliced_attention_size: None,
            use_linear_projection: self.use_linear_projection,
        })
    }
}

/// The denoising UNet.
#[derive(Debug)]
pub struct UNet {
    inner: UNet2DConditionModel,
    config: UNetConfig,
    dtype: DType,
    device: Device,
}

impl UNet {
    /// Builds the UNet from its configuration and weights.
    pub fn new(cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        let candle_cfg = cfg.to_candle()?;
        let (dtype, device) = (vb.dtype(), vb.device().clone());
        let inner =
            UNet2DConditionModel::new(vb, cfg.in_channels, cfg.out_channels, false, candle_cfg)?;
        Ok(Self {
            inner,
            config: cfg.clone(),
            dtype,
            device,
        })
    }

    /// Loads `unet/` of a diffusers folder.
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let cfg = UNetConfig::from_file(&dir.join("config.json"))?;
        let file = super::load::find_weights(
            dir,
            &[
                "diffusion_pytorch_model.safetensors",
                "diffusion_pytorch_model.fp16.safetensors",
            ],
        )?;
        let vb = super::load::mmap_var_builder(std::slice::from_ref(&file), dtype, device)?;
        Self::new(&cfg, vb).map_err(|e| match e {
            DiffusionError::Candle(source) => DiffusionError::Weights {
                path: file.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The weights' dtype (inputs are converted to it).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Input channels (4 or 9).
    pub fn in_channels(&self) -> usize {
        self.config.in_channels
    }

    /// Whether this is an inpainting UNet (latents + mask + masked-image latents).
    pub fn is_inpainting(&self) -> bool {
        self.config.in_channels == 9
    }

    /// Predicts the noise for `sample` `(b, in_channels, h, w)` at `timestep`
    /// given text embeddings `(b, 77, cross_attention_dim)`, optionally with
    /// ControlNet residuals added to the skip connections and the mid block.
    pub fn forward(
        &self,
        sample: &Tensor,
        timestep: f64,
        encoder_hidden_states: &Tensor,
        residuals: Option<&ControlNetResiduals>,
    ) -> Result<Tensor> {
        let (b, c, _h, _w) = sample.dims4()?;
        if c != self.config.in_channels {
            return Err(DiffusionError::InvalidInput(format!(
                "UNet takes {} input channels, got a sample of shape {:?}",
                self.config.in_channels,
                sample.dims()
            )));
        }
        let (eb, _, ed) = encoder_hidden_states.dims3()?;
        if eb != b || ed != self.config.cross_attention_dim {
            return Err(DiffusionError::InvalidInput(format!(
                "text embeddings of shape {:?} do not fit a UNet batch of {b} with cross_attention_dim {}",
                encoder_hidden_states.dims(),
                self.config.cross_attention_dim
            )));
        }
        let out = match residuals {
            None => self.inner.forward(sample, timestep, encoder_hidden_states)?,
            Some(r) => self.inner.forward_with_additional_residuals(
                sample,
                timestep,
                encoder_hidden_states,
                Some(&r.down),
                Some(&r.mid),
            )?,
        };
        Ok(out)
    }
}
