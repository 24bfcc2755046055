//! The conditional UNet (4-channel text-to-image and 9-channel inpainting),
//! built from a diffusers `unet/config.json` on candle-transformers' SD UNet.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_nn::{Conv2d, Conv2dConfig, Module};

use super::blocks::at_rest::conv2d;
use super::blocks::kernels::Kernels;

use super::blocks::norm::{group_norm, GroupNorm};
use super::blocks::profile;

use super::blocks::embeddings::TimestepEmbedding;
use super::blocks::unet_blocks::{DownBlock, MidBlock, UpBlock, UpBlockConfig};
use serde::Deserialize;

use super::config::{Level, UNetBaseConfig};
use super::controlnet::ControlNetResiduals;
use super::error::{DiffusionError, Result};
use crate::ml::json::read_json;

/// `unet/config.json` (the fields this engine reads).
#[derive(Debug, Clone, Deserialize)]
pub struct UNetConfig {
    /// 4 for text-to-image UNets, 9 for inpainting UNets.
    pub in_channels: usize,
    /// Latent channels predicted (4).
    #[serde(default = "four")]
    pub out_channels: usize,
    /// The fields shared with the ControlNet config.
    #[serde(flatten)]
    pub base: UNetBaseConfig,
    /// `CrossAttnUpBlock2D` or `UpBlock2D` per level (mirror of the down path).
    pub up_block_types: Vec<String>,
    /// Whether the input is mapped from [0,1] to [-1,1].
    #[serde(default)]
    pub center_input_sample: bool,
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

const WHAT: &str = "UNet config";

/// Reads the shared fields as before the split (`cfg.cross_attention_dim`).
impl std::ops::Deref for UNetConfig {
    type Target = UNetBaseConfig;

    fn deref(&self) -> &UNetBaseConfig {
        &self.base
    }
}

impl UNetConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(read_json(path)?)
    }

    /// The per-level layout; errors on features this engine does not
    /// implement.
    pub fn levels(&self) -> Result<Vec<Level>> {
        let levels = self.base.levels(WHAT)?;
        if let Some(mid) = &self.mid_block_type {
            if mid != "UNetMidBlock2DCrossAttn" {
                return Err(DiffusionError::Unsupported {
                    what: WHAT.into(),
                    reason: format!("mid block type {mid}"),
                });
            }
        }
        let mirrored = self
            .base
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
                    self.up_block_types, self.base.down_block_types
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
    kernels: Kernels,
    bf16_operands: bool,
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
        let common = cfg.base.block_common(temb_channels);
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
        for i in 0..n {
            down_blocks.push(DownBlock::new(
                cfg.base.down_block_config(&levels, i),
                &common,
                vb.pp("down_blocks").pp(i),
            )?);
        }
        let mid_block = cfg.base.mid_block(&levels, &common, vb.pp("mid_block"))?;
        let rev: Vec<Level> = levels.iter().rev().copied().collect();
        let mut up_blocks = Vec::with_capacity(n);
        let mut prev_out = rev[0].out_channels;
        for (i, level) in rev.iter().enumerate() {
            let out = level.out_channels;
            let input = rev[(i + 1).min(n - 1)].out_channels;
            let layers = cfg.base.layers_per_block + 1;
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
            cfg.base.norm_num_groups,
            b0,
            cfg.base.norm_eps,
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
            kernels: Kernels::from_env(),
            bf16_operands: super::blocks::bf16::Bf16Mode::from_env().enabled(),
            dtype: super::blocks::at_rest::compute_dtype(vb.dtype(), vb.device()),
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

    /// The dtype it computes in (inputs must be in it; the weights may be
    /// stored narrower, see [`super::blocks::at_rest`]).
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
        super::blocks::kernels::scope(self.kernels, self.bf16_operands, || {
            self.forward_scoped(
                sample,
                timestep,
                encoder_hidden_states,
                residuals,
                timestep_cond,
            )
        })
    }

    /// The body of [`Self::forward_with_cond`], with the kernels already chosen.
    fn forward_scoped(
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
        if eb != b || ed != self.config.base.cross_attention_dim {
            return Err(DiffusionError::InvalidInput(format!(
                "text embeddings of shape {:?} do not fit a UNet batch of {b} with cross_attention_dim {}",
                encoder_hidden_states.dims(),
                self.config.base.cross_attention_dim
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
        let t = Tensor::full(timestep as f32, b, &self.device)?;
        let features = self
            .config
            .base
            .timestep_features(&t)?
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
