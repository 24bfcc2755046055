//! The KL autoencoder (diffusers `AutoencoderKL` layout): image <-> latents.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{conv2d, group_norm, Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    DownEncoderBlock2D, DownEncoderBlock2DConfig, UNetMidBlock2D, UNetMidBlock2DConfig,
    UpDecoderBlock2D, UpDecoderBlock2DConfig,
};
use serde::Deserialize;

use super::error::{read_json, DiffusionError, Result};

/// `vae/config.json` (the fields this engine reads).
#[derive(Debug, Clone, Deserialize)]
pub struct VaeConfig {
    /// Image channels (3).
    #[serde(default = "three")]
    pub in_channels: usize,
    /// Decoded image channels (3).
    #[serde(default = "three")]
    pub out_channels: usize,
    /// Latent channels (4).
    #[serde(default = "four")]
    pub latent_channels: usize,
    /// Channels of each level.
    pub block_out_channels: Vec<usize>,
    /// Resnets per encoder block (the decoder has one more).
    #[serde(default = "one")]
    pub layers_per_block: usize,
    /// GroupNorm groups.
    #[serde(default = "thirty_two")]
    pub norm_num_groups: usize,
    /// Latents are multiplied by this after encoding (0.18215 for SD 1.x).
    #[serde(default = "sd_scale")]
    pub scaling_factor: f64,
    /// Latents are shifted by this before scaling (unset for SD 1.x).
    #[serde(default)]
    pub shift_factor: Option<f64>,
    /// Whether the encoder output goes through a 1x1 convolution.
    #[serde(default = "yes")]
    pub use_quant_conv: bool,
    /// Whether the decoder input goes through a 1x1 convolution.
    #[serde(default = "yes")]
    pub use_post_quant_conv: bool,
    /// Whether the mid blocks have attention (must be true).
    #[serde(default = "yes")]
    pub mid_block_add_attention: bool,
}

fn three() -> usize {
    3
}
fn four() -> usize {
    4
}
fn one() -> usize {
    1
}
fn thirty_two() -> usize {
    32
}
fn sd_scale() -> f64 {
    0.18215
}
fn yes() -> bool {
    true
}

impl VaeConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        read_json(path)
    }

    /// Pixels per latent along each side (8 for SD).
    pub fn downscale_factor(&self) -> usize {
        1 << self.block_out_channels.len().saturating_sub(1)
    }
}

/// The encoder's diagonal Gaussian over latents (unscaled).
#[derive(Debug, Clone)]
pub struct LatentDistribution {
    /// Mean `(b, latent_channels, h/8, w/8)`.
    pub mean: Tensor,
    /// Standard deviation (log-variance clamped to [-30, 20] like diffusers).
    pub std: Tensor,
}

impl LatentDistribution {
    /// `mean + std * noise`, with the caller's standard-normal noise.
    pub fn sample_with(&self, noise: &Tensor) -> Result<Tensor> {
        Ok((&self.mean + (&self.std * noise)?)?)
    }
}

#[derive(Debug)]
struct Encoder {
    conv_in: Conv2d,
    down_blocks: Vec<DownEncoderBlock2D>,
    mid_block: UNetMidBlock2D,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
}

const EPS: f64 = 1e-6;

fn pad1() -> Conv2dConfig {
    Conv2dConfig {
        padding: 1,
        ..Default::default()
    }
}

fn mid_cfg(groups: usize) -> UNetMidBlock2DConfig {
    UNetMidBlock2DConfig {
        resnet_eps: EPS,
        output_scale_factor: 1.,
        attn_num_head_channels: None,
        resnet_groups: Some(groups),
        ..Default::default()
    }
}

impl Encoder {
    fn new(cfg: &VaeConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let ch = &cfg.block_out_channels;
        let conv_in = conv2d(cfg.in_channels, ch[0], 3, pad1(), vb.pp("conv_in"))?;
        let down_blocks = (0..ch.len())
            .map(|i| {
                let in_ch = if i == 0 { ch[0] } else { ch[i - 1] };
                DownEncoderBlock2D::new(
                    vb.pp("down_blocks").pp(i),
                    in_ch,
                    ch[i],
                    DownEncoderBlock2DConfig {
                        num_layers: cfg.layers_per_block,
                        resnet_eps: EPS,
                        resnet_groups: cfg.norm_num_groups,
                        add_downsample: i + 1 < ch.len(),
                        downsample_padding: 0,
                        ..Default::default()
                    },
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let last = ch[ch.len() - 1];
        let mid_block =
            UNetMidBlock2D::new(vb.pp("mid_block"), last, None, mid_cfg(cfg.norm_num_groups))?;
        let conv_norm_out = group_norm(cfg.norm_num_groups, last, EPS, vb.pp("conv_norm_out"))?;
        let conv_out = conv2d(last, 2 * cfg.latent_channels, 3, pad1(), vb.pp("conv_out"))?;
        Ok(Self {
            conv_in,
            down_blocks,
            mid_block,
            conv_norm_out,
            conv_out,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = self.conv_in.forward(xs)?;
        for block in &self.down_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = self.mid_block.forward(&xs, None)?;
        let xs = candle_nn::ops::silu(&self.conv_norm_out.forward(&xs)?)?;
        self.conv_out.forward(&xs)
    }
}

#[derive(Debug)]
struct Decoder {
    conv_in: Conv2d,
    mid_block: UNetMidBlock2D,
    up_blocks: Vec<UpDecoderBlock2D>,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl Decoder {
    fn new(cfg: &VaeConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let rev: Vec<usize> = cfg.block_out_channels.iter().rev().copied().collect();
        let conv_in = conv2d(cfg.latent_channels, rev[0], 3, pad1(), vb.pp("conv_in"))?;
        let mid_block = UNetMidBlock2D::new(
            vb.pp("mid_block"),
            rev[0],
            None,
            mid_cfg(cfg.norm_num_groups),
        )?;
        let up_blocks = (0..rev.len())
            .map(|i| {
                let in_ch = if i == 0 { rev[0] } else { rev[i - 1] };
                UpDecoderBlock2D::new(
                    vb.pp("up_blocks").pp(i),
                    in_ch,
                    rev[i],
                    UpDecoderBlock2DConfig {
                        num_layers: cfg.layers_per_block + 1,
                        resnet_eps: EPS,
                        resnet_groups: cfg.norm_num_groups,
                        add_upsample: i + 1 < rev.len(),
                        ..Default::default()
                    },
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let first = cfg.block_out_channels[0];
        let conv_norm_out = group_norm(cfg.norm_num_groups, first, EPS, vb.pp("conv_norm_out"))?;
        let conv_out = conv2d(first, cfg.out_channels, 3, pad1(), vb.pp("conv_out"))?;
        Ok(Self {
            conv_in,
            mid_block,
            up_blocks,
            conv_norm_out,
            conv_out,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = self.mid_block.forward(&self.conv_in.forward(xs)?, None)?;
        for block in &self.up_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = candle_nn::ops::silu(&self.conv_norm_out.forward(&xs)?)?;
        self.conv_out.forward(&xs)
    }
}

/// The autoencoder.
#[derive(Debug)]
pub struct Vae {
    encoder: Encoder,
    decoder: Decoder,
    quant_conv: Option<Conv2d>,
    post_quant_conv: Option<Conv2d>,
    config: VaeConfig,
    dtype: DType,
}

impl Vae {
    /// Builds the autoencoder from its configuration and weights.
    pub fn new(cfg: &VaeConfig, vb: VarBuilder) -> Result<Self> {
        if cfg.block_out_channels.is_empty() || !cfg.mid_block_add_attention {
            return Err(DiffusionError::Unsupported {
                what: "VAE config".into(),
                reason: "needs block_out_channels and mid-block attention".into(),
            });
        }
        let lc = cfg.latent_channels;
        let dtype = vb.dtype();
        let quant_conv = cfg
            .use_quant_conv
            .then(|| conv2d(2 * lc, 2 * lc, 1, Default::default(), vb.pp("quant_conv")))
            .transpose()?;
        let post_quant_conv = cfg
            .use_post_quant_conv
            .then(|| conv2d(lc, lc, 1, Default::default(), vb.pp("post_quant_conv")))
            .transpose()?;
        Ok(Self {
            encoder: Encoder::new(cfg, vb.pp("encoder"))?,
            decoder: Decoder::new(cfg, vb.pp("decoder"))?,
            quant_conv,
            post_quant_conv,
            config: cfg.clone(),
            dtype,
        })
    }

    /// Loads `vae/` of a diffusers folder.
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let cfg = VaeConfig::from_file(&dir.join("config.json"))?;
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

    /// The weights' dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    fn check_image(&self, image: &Tensor) -> Result<()> {
        let (_, c, h, w) = image.dims4()?;
        let f = self.config.downscale_factor();
        if c != self.config.in_channels || h % f != 0 || w % f != 0 || h == 0 || w == 0 {
            return Err(DiffusionError::InvalidInput(format!(
                "VAE input of shape {:?}: needs {} channels and sides that are non-zero multiples of {f}",
                image.dims(),
                self.config.in_channels
            )));
        }
        Ok(())
    }

    /// Encodes an image `(b, 3, h, w)` in [-1, 1] to the (unscaled) latent
    /// distribution (f32, whatever the weights' dtype).
    pub fn encode(&self, image: &Tensor) -> Result<LatentDistribution> {
        self.check_image(image)?;
        let xs = self.encoder.forward(&image.to_dtype(self.dtype)?)?;
        let xs = match &self.quant_conv {
            Some(c) => c.forward(&xs)?,
            None => xs,
        }
        .to_dtype(DType::F32)?;
        let lc = self.config.latent_channels;
        let mean = xs.narrow(1, 0, lc)?;
        let logvar = xs.narrow(1, lc, lc)?.clamp(-30f32, 20f32)?;
        let std = (logvar * 0.5)?.exp()?;
        Ok(LatentDistribution { mean, std })
    }

    /// Decodes unscaled latents to an f32 image in about [-1, 1].
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        let (_, c, _, _) = latents.dims4()?;
        if c != self.config.latent_channels {
            return Err(DiffusionError::InvalidInput(format!(
                "VAE decoder takes {} latent channels, got {:?}",
                self.config.latent_channels,
                latents.dims()
            )));
        }
        let latents = latents.to_dtype(self.dtype)?;
        let xs = match &self.post_quant_conv {
            Some(conv) => conv.forward(&latents)?,
            None => latents,
        };
        Ok(self.decoder.forward(&xs)?.to_dtype(DType::F32)?)
    }

    /// Unscaled latents -> diffusion latents: `(z - shift) * scaling_factor`.
    pub fn scale_latents(&self, z: &Tensor) -> Result<Tensor> {
        let shift = self.config.shift_factor.unwrap_or(0.0);
        Ok(((z - shift)? * self.config.scaling_factor)?)
    }

    /// Diffusion latents -> unscaled latents: `z / scaling_factor + shift`.
    pub fn unscale_latents(&self, z: &Tensor) -> Result<Tensor> {
        let shift = self.config.shift_factor.unwrap_or(0.0);
        Ok(((z / self.config.scaling_factor)? + shift)?)
    }

    /// Image in [0, 1] -> scaled diffusion latents from the distribution mean.
    pub fn encode_to_latents(&self, image01: &Tensor) -> Result<Tensor> {
        let dist = self.encode(&((image01 * 2.0)? - 1.0)?)?;
        self.scale_latents(&dist.mean)
    }

    /// Scaled diffusion latents -> image in [0, 1] (clamped).
    pub fn decode_to_image(&self, latents: &Tensor) -> Result<Tensor> {
        let image = self.decode(&self.unscale_latents(latents)?)?;
        Ok(((image / 2.0)? + 0.5)?.clamp(0f32, 1f32)?)
    }
}
