//! ControlNet (diffusers `ControlNetModel` layout): a copy of the UNet's down
//! path and mid block, fed with the noisy latents plus an embedding of the
//! pixel-space control image, whose zero-convolution outputs are added to
//! the UNet's skip connections.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use super::blocks::at_rest::conv2d;
use super::blocks::kernels::Kernels;

use super::blocks::embeddings::TimestepEmbedding;
use super::blocks::profile;
use super::blocks::unet_blocks::{DownBlock, MidBlock};
use serde::Deserialize;

use super::cond_embedding::ConditioningEmbedding;
use super::config::UNetBaseConfig;
use super::error::{DiffusionError, Result};
use crate::ml::json::read_json;

/// `controlnet/config.json` (the fields this engine reads).
#[derive(Debug, Clone, Deserialize)]
pub struct ControlNetConfig {
    /// Latent channels (4).
    pub in_channels: usize,
    /// Channels of the control image (3).
    #[serde(default = "three")]
    pub conditioning_channels: usize,
    /// The fields shared with the UNet config.
    #[serde(flatten)]
    pub base: UNetBaseConfig,
    /// Channels of the conditioning embedding's convolutions.
    #[serde(default = "cond_channels")]
    pub conditioning_embedding_out_channels: Vec<usize>,
    /// Average the residuals over space (shuffle-style ControlNets).
    #[serde(default)]
    pub global_pool_conditions: bool,
    /// "rgb" or "bgr".
    #[serde(default = "rgb")]
    pub controlnet_conditioning_channel_order: String,
}

fn three() -> usize {
    3
}
fn cond_channels() -> Vec<usize> {
    vec![16, 32, 96, 256]
}
fn rgb() -> String {
    "rgb".into()
}

const WHAT: &str = "ControlNet config";

/// Reads the shared fields as before the split (`cfg.layers_per_block`).
impl std::ops::Deref for ControlNetConfig {
    type Target = UNetBaseConfig;

    fn deref(&self) -> &UNetBaseConfig {
        &self.base
    }
}

impl ControlNetConfig {
    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(read_json(path)?)
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
    kernels: Kernels,
    bf16_operands: bool,
    /// Forward passes run so far ([`Self::forward_count`]).
    forwards: std::sync::atomic::AtomicUsize,
}

impl ControlNet {
    /// Builds the ControlNet from its configuration and weights.
    pub fn new(cfg: &ControlNetConfig, vb: VarBuilder) -> Result<Self> {
        let levels = cfg.base.levels(WHAT)?;
        let order = cfg.controlnet_conditioning_channel_order.as_str();
        if order != "rgb" && order != "bgr" {
            return Err(DiffusionError::Unsupported {
                what: WHAT.into(),
                reason: format!("conditioning channel order {order}"),
            });
        }
        let n = levels.len();
        let b0 = levels[0].out_channels;
        let temb_channels = b0 * 4;
        let common = cfg.base.block_common(temb_channels);
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
            let out = level.out_channels;
            let block = DownBlock::new(
                cfg.base.down_block_config(&levels, i),
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
        let mid_block = cfg.base.mid_block(&levels, &common, vb.pp("mid_block"))?;
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
            kernels: Kernels::from_env(),
            bf16_operands: super::blocks::bf16::Bf16Mode::from_env().enabled(),
            forwards: std::sync::atomic::AtomicUsize::new(0),
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
        self.forwards
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        super::blocks::kernels::scope(self.kernels, self.bf16_operands, || {
            self.forward_scoped(
                sample,
                timestep,
                encoder_hidden_states,
                cond,
                conditioning_scale,
            )
        })
    }

    /// How many times [`Self::forward`] has been called on this model
    /// (for tests and benchmarks: which steps ran the ControlNet).
    pub fn forward_count(&self) -> usize {
        self.forwards.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The body of [`Self::forward`], with the kernels already chosen.
    fn forward_scoped(
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
        let features = self
            .config
            .base
            .timestep_features(&t)?
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
