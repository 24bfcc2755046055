//! The conditional UNet (4-channel text-to-image and 9-channel inpainting),
//! built from a diffusers `unet/config.json` on candle-transformers' SD UNet.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_nn::{conv2d, Conv2d, Conv2dConfig, Module};

use super::blocks::norm::{group_norm, GroupNorm};
use super::blocks::profile;

use super::blocks::embeddings::{timestep_features, TimestepEmbedding};
use super::blocks::unet_blocks::{
    BlockCommon, DownBlock, DownBlockConfig, MidBlock, UpBlock, UpBlockConfig,
};
use serde::Deserialize;

use super::config::{reject_set, DownPath, Level, PerBlock};
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
    /// Width of the guidance embedding of LCM-distilled UNets.
    #[serde(default)]
    pub time_cond_proj_dim: Option<usize>,
    /// Kernel of the input convolution.
    #[serde(default = "three")]
    pub conv_in_kernel: usize,
    /// Kernel of the output convolution.
    #[serde(default = "three")]
    pub conv_out_kernel: usize,
    /// Only `UNetMidBlock2DCrossAttn` is supported.
    #[serde(default)]
    pub mid_block_type: Option<String>,
}

fn four() -> usize {
    4
}
fn three() -> usize {
    3
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

    /// The per-level layout; errors on features this engine does not
    /// implement.
    pub fn levels(&self) -> Result<Vec<Level>> {
        reject_set(WHAT, "class_embed_type", &self.class_embed_type)?;
        reject_set(WHAT, "addition_embed_type", &self.addition_embed_type)?;
        if let Some(mid) = &self.mid_block_type {
            if mid != "UNetMidBlock2DCrossAttn" {
                return Err(DiffusionError::Unsupported {
                    what: WHAT.into(),
                    reason: format!("mid block type {mid}"),
                });
            }
        }
        let levels = DownPath {
            block_out_channels: &self.block_out_channels,
            down_block_types: &self.down_block_types,
            attention_head_dim: &self.attention_head_dim,
            num_attention_heads: self.num_attention_heads.as_ref(),
            transformer_layers_per_block: &self.transformer_layers_per_block,
            what: WHAT,
        }
        .levels()?;
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
        Ok(levels)
    }
}

/// The denoising UNet (diffusers `UNet2DConditionModel`, SD 1.x/2.x layout).
#[derive(Debug)]
pub struct UNet {
    conv_in: Conv2d,
    time_embedding: TimestepEmbedding,
    down_blocks: Vec<DownBlock>,
    mid_block: MidBlock,
    up_blocks: Vec<UpBlock>,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
    config: UNetConfig,
    dtype: DType,
    device: Device,
}

impl UNet {
    /// Builds the UNet from its configuration and weights.
    pub fn new(cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        let levels = cfg.levels()?;
        let n = levels.len();
        let b0 = levels[0].out_channels;
        let temb_channels = 4 * b0;
        let common = BlockCommon {
            temb_channels,
            groups: cfg.norm_num_groups,
            eps: cfg.norm_eps,
            context_dim: cfg.cross_attention_dim,
            linear_projection: cfg.use_linear_projection,
        };
        let conv = |k: usize| Conv2dConfig {
            padding: k / 2,
            ..Default::default()
        };
        let conv_in = conv2d(
            cfg.in_channels,
            b0,
            cfg.conv_in_kernel,
            conv(cfg.conv_in_kernel),
            vb.pp("conv_in"),
        )?;
        let time_embedding = TimestepEmbedding::new(
            b0,
            temb_channels,
            cfg.time_cond_proj_dim,
            vb.pp("time_embedding"),
        )?;
        let mut down_blocks = Vec::with_capacity(n);
        for (i, level) in levels.iter().enumerate() {
            let in_channels = if i == 0 {
                b0
            } else {
                levels[i - 1].out_channels
            };
            down_blocks.push(DownBlock::new(
                DownBlockConfig {
                    in_channels,
                    out_channels: level.out_channels,
                    layers: cfg.layers_per_block,
                    attention: level.attention(),
                    add_downsample: i + 1 < n,
                    downsample_padding: cfg.downsample_padding,
                },
                &common,
                vb.pp("down_blocks").pp(i),
            )?);
        }
        let last = levels[n - 1];
        let mid_block = MidBlock::new(
            last.out_channels,
            last.heads,
            last.depth,
            cfg.mid_block_scale_factor,
            &common,
            vb.pp("mid_block"),
        )?;
        let rev: Vec<Level> = levels.iter().rev().copied().collect();
        let mut up_blocks = Vec::with_capacity(n);
        let mut prev_out = rev[0].out_channels;
        for (i, level) in rev.iter().enumerate() {
            let out = level.out_channels;
            let input = rev[(i + 1).min(n - 1)].out_channels;
            let layers = cfg.layers_per_block + 1;
            let skip_channels = (0..layers)
                .map(|j| if j + 1 == layers { input } else { out })
                .collect();
            up_blocks.push(UpBlock::new(
                &UpBlockConfig {
                    prev_out_channels: prev_out,
                    out_channels: out,
                    skip_channels,
                    attention: level.attention(),
                    add_upsample: i + 1 < n,
                },
                &common,
                vb.pp("up_blocks").pp(i),
            )?);
            prev_out = out;
        }
        let conv_norm_out = group_norm(
            cfg.norm_num_groups,
            b0,
            cfg.norm_eps,
            vb.pp("conv_norm_out"),
        )?;
        let conv_out = conv2d(
            b0,
            cfg.out_channels,
            cfg.conv_out_kernel,
            conv(cfg.conv_out_kernel),
            vb.pp("conv_out"),
        )?;
        Ok(Self {
            conv_in,
            time_embedding,
            down_blocks,
            mid_block,
            up_blocks,
            conv_norm_out,
            conv_out,
            config: cfg.clone(),
            dtype: vb.dtype(),
            device: vb.device().clone(),
        })
    }

    /// Loads `unet/` of a diffusers folder.
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        super::load::load_component(dir, dtype, device, UNetConfig::from_file, Self::new)
    }

    /// The configuration.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The weights' dtype (inputs must be in it).
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

    /// Number of skip connections (= ControlNet down residuals expected).
    pub fn n_skip_connections(&self) -> usize {
        1 + self
            .down_blocks
            .iter()
            .map(DownBlock::n_outputs)
            .sum::<usize>()
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
        self.forward_with_cond(sample, timestep, encoder_hidden_states, residuals, None)
    }

    /// [`UNet::forward`] with the guidance condition `(b, time_cond_proj_dim)`
    /// of LCM-distilled UNets.
    pub fn forward_with_cond(
        &self,
        sample: &Tensor,
        timestep: f64,
        encoder_hidden_states: &Tensor,
        residuals: Option<&ControlNetResiduals>,
        timestep_cond: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, c, h, w) = sample.dims4()?;
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
        if let Some(r) = residuals {
            if r.down.len() != self.n_skip_connections() {
                return Err(DiffusionError::InvalidInput(format!(
                    "{} ControlNet down residuals for a UNet with {} skip connections",
                    r.down.len(),
                    self.n_skip_connections()
                )));
            }
        }
        let b0 = self.config.block_out_channels[0];
        let t = Tensor::full(timestep as f32, b, &self.device)?;
        let features =
            timestep_features(&t, b0, self.config.flip_sin_to_cos, self.config.freq_shift)?
                .to_dtype(self.dtype)?;
        let cond = timestep_cond.map(|c| c.to_dtype(self.dtype)).transpose()?;
        let temb = self.time_embedding.forward(&features, cond.as_ref())?;
        let ctx = encoder_hidden_states;

        let xs = profile::scope("UNet conv in/out", || self.conv_in.forward(sample))?;
        let mut skips = vec![xs.clone()];
        let mut xs = xs;
        for block in &self.down_blocks {
            let (next, states) = block.forward(&xs, &temb, ctx)?;
            skips.extend(states);
            xs = next;
        }
        if let Some(r) = residuals {
            skips = profile::scope("ControlNet residual add", || {
                skips
                    .iter()
                    .zip(&r.down)
                    .map(|(s, d)| s + d)
                    .collect::<candle_core::Result<Vec<_>>>()
            })?;
        }
        let mut xs = self.mid_block.forward(&xs, &temb, ctx)?;
        if let Some(r) = residuals {
            xs = profile::scope("ControlNet residual add", || xs + &r.mid)?;
        }
        let factor = 1usize << (self.up_blocks.len() - 1);
        let odd_size = h % factor != 0 || w % factor != 0;
        let n_up = self.up_blocks.len();
        for (i, block) in self.up_blocks.iter().enumerate() {
            let take = block.n_inputs();
            if skips.len() < take {
                return Err(DiffusionError::InvalidInput(
                    "UNet skip connections exhausted".into(),
                ));
            }
            let mut used = skips.split_off(skips.len() - take);
            used.reverse();
            let size = match skips.last() {
                Some(next) if odd_size && i + 1 < n_up => {
                    let (_, _, sh, sw) = next.dims4()?;
                    Some((sh, sw))
                }
                _ => None,
            };
            xs = block.forward(&xs, &used, &temb, ctx, size)?;
        }
        let xs = profile::scope("resnet GroupNorm+SiLU", || {
            self.conv_norm_out.forward_silu(&xs)
        })?;
        Ok(profile::scope("UNet conv in/out", || {
            self.conv_out.forward(&xs)
        })?)
    }
}
