//! The KL autoencoder (diffusers `AutoencoderKL` layout): image <-> latents.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, VarBuilder};

use super::blocks::at_rest::conv2d;
use super::blocks::kernels::Kernels;

use super::blocks::norm::{group_norm, GroupNorm};

use super::blocks::conv::Conv3x3;
use super::blocks::vae_blocks::{DecoderBlock, EncoderBlock, VaeMidBlock, VAE_EPS};
use serde::Deserialize;

use super::error::{DiffusionError, Result};
use crate::ml::json::read_json;

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
        Ok(read_json(path)?)
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
    conv_in: Conv3x3,
    down_blocks: Vec<EncoderBlock>,
    mid_block: VaeMidBlock,
    conv_norm_out: GroupNorm,
    conv_out: Conv3x3,
}

impl Encoder {
    fn new(cfg: &VaeConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let ch = &cfg.block_out_channels;
        let g = cfg.norm_num_groups;
        let conv_in = Conv3x3::new(cfg.in_channels, ch[0], vb.pp("conv_in"))?;
        let down_blocks = (0..ch.len())
            .map(|i| {
                let in_ch = if i == 0 { ch[0] } else { ch[i - 1] };
                EncoderBlock::new(
                    in_ch,
                    ch[i],
                    cfg.layers_per_block,
                    g,
                    i + 1 < ch.len(),
                    vb.pp("down_blocks").pp(i),
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let last = ch[ch.len() - 1];
        Ok(Self {
            conv_in,
            down_blocks,
            mid_block: VaeMidBlock::new(last, g, vb.pp("mid_block"))?,
            conv_norm_out: group_norm(g, last, VAE_EPS, vb.pp("conv_norm_out"))?,
            conv_out: Conv3x3::new(last, 2 * cfg.latent_channels, vb.pp("conv_out"))?,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = self.conv_in.forward(xs)?;
        for block in &self.down_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = self.mid_block.forward(&xs)?;
        let xs = self.conv_norm_out.forward_silu(&xs)?;
        self.conv_out.forward(&xs)
    }
}

#[derive(Debug)]
struct Decoder {
    conv_in: Conv3x3,
    mid_block: VaeMidBlock,
    up_blocks: Vec<DecoderBlock>,
    conv_norm_out: GroupNorm,
    conv_out: Conv3x3,
}

impl Decoder {
    fn new(cfg: &VaeConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let rev: Vec<usize> = cfg.block_out_channels.iter().rev().copied().collect();
        let g = cfg.norm_num_groups;
        let up_blocks = (0..rev.len())
            .map(|i| {
                let in_ch = if i == 0 { rev[0] } else { rev[i - 1] };
                DecoderBlock::new(
                    in_ch,
                    rev[i],
                    cfg.layers_per_block + 1,
                    g,
                    i + 1 < rev.len(),
                    vb.pp("up_blocks").pp(i),
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let first = cfg.block_out_channels[0];
        Ok(Self {
            conv_in: Conv3x3::new(cfg.latent_channels, rev[0], vb.pp("conv_in"))?,
            mid_block: VaeMidBlock::new(rev[0], g, vb.pp("mid_block"))?,
            up_blocks,
            conv_norm_out: group_norm(g, first, VAE_EPS, vb.pp("conv_norm_out"))?,
            conv_out: Conv3x3::new(first, cfg.out_channels, vb.pp("conv_out"))?,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let mut xs = self.mid_block.forward(&self.conv_in.forward(xs)?)?;
        for block in &self.up_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = self.conv_norm_out.forward_silu(&xs)?;
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
    kernels: Kernels,
    bf16_operands: bool,
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
        let dtype = super::blocks::at_rest::compute_dtype(vb.dtype(), vb.device());
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
            kernels: Kernels::from_env(),
            bf16_operands: super::blocks::bf16::Bf16Mode::from_env().enabled(),
            dtype,
        })
    }

    /// Loads `vae/` of a diffusers folder.
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        super::load::load_component(dir, dtype, device, VaeConfig::from_file, Self::new)
    }

    /// The dtype it computes in (the weights may be stored narrower).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// The kernels its forward passes run ([`super::blocks::kernels`];
    /// set at construction from `ADSTUDIO_KERNELS`).
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Runs the forward passes with `kernels`.
    pub fn set_kernels(&mut self, kernels: Kernels) {
        self.kernels = kernels;
    }

    /// Rounds matrix-product operands to bf16 in the forward passes
    /// ([`super::blocks::bf16`]; set at construction from `ADSTUDIO_BF16`).
    pub fn set_bf16_operands(&mut self, on: bool) {
        self.bf16_operands = on;
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
        super::blocks::kernels::scope(self.kernels, self.bf16_operands, || {
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
        })
    }

    /// Decodes unscaled latents to an f32 image in about [-1, 1].
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        super::blocks::kernels::scope(self.kernels, self.bf16_operands, || {
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
        })
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
