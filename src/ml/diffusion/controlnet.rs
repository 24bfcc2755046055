//! ControlNet (diffusers `ControlNetModel` layout): a copy of the UNet's down
//! path and mid block, fed with the noisy latents plus an embedding of the
//! pixel-space control image, whose zero-convolution outputs are added to
//! the UNet's skip connections.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{conv2d, Conv2d, Conv2dConfig, VarBuilder};

use super::blocks::embeddings::{timestep_features, TimestepEmbedding};
use super::blocks::profile;
use super::blocks::unet_blocks::{BlockCommon, DownBlock, DownBlockConfig, MidBlock};
use serde::Deserialize;

use super::cond_embedding::ConditioningEmbedding;
use super::config::{reject_set, DownPath, PerBlock};
use super::error::{read_json, DiffusionError, Result};

/// `controlnet/config.json` (the fields this engine reads).
#[derive(Debug, Clone, Deserialize)]
pub struct ControlNetConfig {
    /// Latent channels (4).
    pub in_channels: usize,
    /// Channels of the control image (3).
    #[serde(default = "three")]
    pub conditioning_channels: usize,
    /// Channels of each resolution level.
    pub block_out_channels: Vec<usize>,
    /// Channels of the conditioning embedding's convolutions.
    #[serde(default = "cond_channels")]
    pub conditioning_embedding_out_channels: Vec<usize>,
    /// `CrossAttnDownBlock2D` or `DownBlock2D` per level.
    pub down_block_types: Vec<String>,
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
    /// Linear instead of 1x1-conv projections in the transformers.
    #[serde(default)]
    pub use_linear_projection: bool,
    /// Average the residuals over space (shuffle-style ControlNets).
    #[serde(default)]
    pub global_pool_conditions: bool,
    /// "rgb" or "bgr".
    #[serde(default = "rgb")]
    pub controlnet_conditioning_channel_order: String,
    /// Unsupported: class-conditioned models.
    #[serde(default)]
    pub class_embed_type: Option<String>,
    /// Unsupported: SDXL-style additional embeddings.
    #[serde(default)]
    pub addition_embed_type: Option<String>,
}

fn three() -> usize {
    3
}
fn cond_channels() -> Vec<usize> {
    vec![16, 32, 96, 256]
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
fn rgb() -> String {
    "rgb".into()
}

const WHAT: &str = "ControlNet config";

impl ControlNetConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        read_json(path)
    }
}

/// The residuals a ControlNet adds to a UNet: one per skip connection of the
/// down path, and one for the mid block (already multiplied by the
/// conditioning scale).
#[derive(Debug, Clone)]
pub struct ControlNetResiduals {
    /// Down-path residuals, in the UNet's skip-connection order.
    pub down: Vec<Tensor>,
    /// Mid-block residual.
    pub mid: Tensor,
}

/// The ControlNet model.
#[derive(Debug)]
pub struct ControlNet {
    conv_in: Conv2d,
    time_embedding: TimestepEmbedding,
    cond_embedding: ConditioningEmbedding,
    down_blocks: Vec<DownBlock>,
    zero_convs: Vec<Conv2d>,
    mid_block: MidBlock,
    mid_zero_conv: Conv2d,
    config: ControlNetConfig,
}

impl ControlNet {
    /// Builds the ControlNet from its configuration and weights.
    pub fn new(cfg: &ControlNetConfig, vb: VarBuilder) -> Result<Self> {
        reject_set(WHAT, "class_embed_type", &cfg.class_embed_type)?;
        reject_set(WHAT, "addition_embed_type", &cfg.addition_embed_type)?;
        let order = cfg.controlnet_conditioning_channel_order.as_str();
        if order != "rgb" && order != "bgr" {
            return Err(DiffusionError::Unsupported {
                what: WHAT.into(),
                reason: format!("conditioning channel order {order}"),
            });
        }
        let levels = DownPath {
            block_out_channels: &cfg.block_out_channels,
            down_block_types: &cfg.down_block_types,
            attention_head_dim: &cfg.attention_head_dim,
            num_attention_heads: cfg.num_attention_heads.as_ref(),
            transformer_layers_per_block: &cfg.transformer_layers_per_block,
            what: WHAT,
        }
        .levels()?;
        let n = levels.len();
        let b0 = levels[0].out_channels;
        let temb_channels = b0 * 4;
        let common = BlockCommon {
            temb_channels,
            groups: cfg.norm_num_groups,
            eps: cfg.norm_eps,
            context_dim: cfg.cross_attention_dim,
            linear_projection: cfg.use_linear_projection,
        };
        let pad1 = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let conv_in = conv2d(cfg.in_channels, b0, 3, pad1, vb.pp("conv_in"))?;
        let time_embedding =
            TimestepEmbedding::new(b0, temb_channels, None, vb.pp("time_embedding"))?;
        let cond_embedding = ConditioningEmbedding::new(
            cfg.conditioning_channels,
            &cfg.conditioning_embedding_out_channels,
            b0,
            vb.pp("controlnet_cond_embedding"),
        )?;

        let zero_vb = vb.pp("controlnet_down_blocks");
        let mut zero_convs = vec![conv2d(b0, b0, 1, Default::default(), zero_vb.pp(0))?];
        let mut down_blocks = Vec::with_capacity(n);
        for (i, level) in levels.iter().enumerate() {
            let in_channels = if i == 0 {
                b0
            } else {
                levels[i - 1].out_channels
            };
            let out = level.out_channels;
            let block = DownBlock::new(
                DownBlockConfig {
                    in_channels,
                    out_channels: out,
                    layers: cfg.layers_per_block,
                    attention: level.attention(),
                    add_downsample: i + 1 < n,
                    downsample_padding: cfg.downsample_padding,
                },
                &common,
                vb.pp("down_blocks").pp(i),
            )?;
            for _ in 0..block.n_outputs() {
                let idx = zero_convs.len();
                zero_convs.push(conv2d(out, out, 1, Default::default(), zero_vb.pp(idx))?);
            }
            down_blocks.push(block);
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
        let mid_zero_conv = conv2d(
            last.out_channels,
            last.out_channels,
            1,
            Default::default(),
            vb.pp("controlnet_mid_block"),
        )?;
        Ok(Self {
            conv_in,
            time_embedding,
            cond_embedding,
            down_blocks,
            zero_convs,
            mid_block,
            mid_zero_conv,
            config: cfg.clone(),
        })
    }

    /// Loads a diffusers ControlNet folder (config.json + weights).
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        super::load::load_component(dir, dtype, device, ControlNetConfig::from_file, Self::new)
    }

    /// The configuration.
    pub fn config(&self) -> &ControlNetConfig {
        &self.config
    }

    /// Computes the residuals for the UNet.
    ///
    /// `sample`: noisy (scaled) latents `(b, 4, h, w)`; `cond`: control image
    /// `(1 or b, 3, 8h, 8w)` with values in [0,1]; the residuals are
    /// multiplied by `conditioning_scale`.
    pub fn forward(
        &self,
        sample: &Tensor,
        timestep: f64,
        encoder_hidden_states: &Tensor,
        cond: &Tensor,
        conditioning_scale: f64,
    ) -> Result<ControlNetResiduals> {
        let (b, c, h, w) = sample.dims4()?;
        let (cb, cc, ch, cw) = cond.dims4()?;
        if c != self.config.in_channels {
            return Err(DiffusionError::InvalidInput(format!(
                "ControlNet takes {} latent channels, got {:?}",
                self.config.in_channels,
                sample.dims()
            )));
        }
        let down_factor = 1usize << (self.config.conditioning_embedding_out_channels.len() - 1);
        if cc != self.config.conditioning_channels
            || ch != h * down_factor
            || cw != w * down_factor
            || (cb != 1 && cb != b)
        {
            return Err(DiffusionError::InvalidInput(format!(
                "control image of shape {:?} does not fit latents {:?} (expected (1 or {b}, {}, {}, {}))",
                cond.dims(),
                sample.dims(),
                self.config.conditioning_channels,
                h * down_factor,
                w * down_factor
            )));
        }
        let cond = if self.config.controlnet_conditioning_channel_order == "bgr" {
            cond.flip(&[1])?
        } else {
            cond.clone()
        };
        let cond = if cb != b {
            cond.repeat((b, 1, 1, 1))?
        } else {
            cond
        };
        let cond = cond.to_dtype(sample.dtype())?;
        let t = Tensor::full(timestep as f32, b, sample.device())?;
        let features = timestep_features(
            &t,
            self.config.block_out_channels[0],
            self.config.flip_sin_to_cos,
            self.config.freq_shift,
        )?
        .to_dtype(sample.dtype())?;
        let emb = self.time_embedding.forward(&features, None)?;

        let xs = profile::scope("UNet conv in/out", || self.conv_in.forward(sample))?;
        let embedded = self.cond_embedding.forward(&cond)?;
        let xs = profile::scope("ControlNet residual add", || xs + embedded)?;
        let mut skips = vec![xs.clone()];
        let mut xs = xs;
        for block in &self.down_blocks {
            let (next, res) = block.forward(&xs, &emb, encoder_hidden_states)?;
            skips.extend(res);
            xs = next;
        }
        let mid = self.mid_block.forward(&xs, &emb, encoder_hidden_states)?;
        if skips.len() != self.zero_convs.len() {
            return Err(DiffusionError::InvalidInput(format!(
                "ControlNet produced {} skip states for {} zero convolutions",
                skips.len(),
                self.zero_convs.len()
            )));
        }
        let finish = |t: Tensor| -> candle_core::Result<Tensor> {
            let t = if self.config.global_pool_conditions {
                t.mean_keepdim(2)?.mean_keepdim(3)?
            } else {
                t
            };
            t * conditioning_scale
        };
        let (down, mid) = profile::scope("ControlNet zero convs (1x1)", || {
            let down = skips
                .iter()
                .zip(&self.zero_convs)
                .map(|(s, conv)| finish(conv.forward(s)?))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let mid = finish(self.mid_zero_conv.forward(&mid)?)?;
            Ok::<_, candle_core::Error>((down, mid))
        })?;
        Ok(ControlNetResiduals { down, mid })
    }
}
