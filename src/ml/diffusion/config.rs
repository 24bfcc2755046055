//! Helpers for diffusers `config.json` fields shared by the UNet and the
//! ControlNet.

use candle_core::Tensor;
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::blocks::embeddings::timestep_features;
use super::blocks::unet_blocks::{BlockCommon, DownBlockConfig, MidBlock};
use super::error::{DiffusionError, Result};

/// A diffusers field that is either one value for every block or a list.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PerBlock {
    /// The same value for every block.
    One(usize),
    /// One value per block.
    Many(Vec<usize>),
}

impl PerBlock {
    /// The value of block `i` of `n`; a list must have `n` entries.
    pub fn get(&self, i: usize, n: usize, field: &str) -> Result<usize> {
        match self {
            Self::One(v) => Ok(*v),
            Self::Many(v) if v.len() == n => Ok(v[i]),
            Self::Many(v) => Err(DiffusionError::Unsupported {
                what: format!("config field {field}"),
                reason: format!("{} entries for {n} blocks", v.len()),
            }),
        }
    }
}

impl Default for PerBlock {
    fn default() -> Self {
        Self::One(1)
    }
}

/// One resolution level of a UNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Channels.
    pub out_channels: usize,
    /// Whether the level's blocks have cross-attention.
    pub cross_attention: bool,
    /// Attention heads.
    pub heads: usize,
    /// Transformer blocks per attention.
    pub depth: usize,
}

impl Level {
    /// `Some((heads, depth))` when the level has cross-attention.
    pub fn attention(&self) -> Option<(usize, usize)> {
        self.cross_attention.then_some((self.heads, self.depth))
    }
}

/// The `config.json` fields the UNet and the ControlNet share (their down
/// path, mid block, norms and timestep embedding); flattened into
/// [`super::UNetConfig`] and [`super::ControlNetConfig`] as their `base`.
#[derive(Debug, Clone, Deserialize)]
pub struct UNetBaseConfig {
    /// Channels of each resolution level.
    pub block_out_channels: Vec<usize>,
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
    /// Linear instead of 1x1-conv projections in the transformers (SD 2).
    #[serde(default)]
    pub use_linear_projection: bool,
    /// Unsupported: class-conditioned models.
    #[serde(default)]
    pub class_embed_type: Option<String>,
    /// Unsupported: SDXL-style additional embeddings.
    #[serde(default)]
    pub addition_embed_type: Option<String>,
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

impl UNetBaseConfig {
    /// Per-level configuration (`what` names the config in errors); errors
    /// on features this engine does not implement. diffusers' quirk:
    /// without `num_attention_heads`, `attention_head_dim` is the number of
    /// heads.
    pub fn levels(&self, what: &str) -> Result<Vec<Level>> {
        reject_set(what, "class_embed_type", &self.class_embed_type)?;
        reject_set(what, "addition_embed_type", &self.addition_embed_type)?;
        let n = self.block_out_channels.len();
        if n == 0 || self.down_block_types.len() != n {
            return Err(DiffusionError::Unsupported {
                what: what.to_owned(),
                reason: format!(
                    "{} down block types for {n} block_out_channels",
                    self.down_block_types.len()
                ),
            });
        }
        (0..n).map(|i| self.level(i, n, what)).collect()
    }

    fn level(&self, i: usize, n: usize, what: &str) -> Result<Level> {
        let heads = self
            .num_attention_heads
            .as_ref()
            .unwrap_or(&self.attention_head_dim);
        let depth = self
            .transformer_layers_per_block
            .get(i, n, "transformer_layers_per_block")?;
        let cross_attention = match self.down_block_types[i].as_str() {
            "CrossAttnDownBlock2D" => true,
            "DownBlock2D" => false,
            other => {
                return Err(DiffusionError::Unsupported {
                    what: what.to_owned(),
                    reason: format!("down block type {other}"),
                })
            }
        };
        let n_heads = heads.get(i, n, "attention_head_dim")?;
        let out = self.block_out_channels[i];
        if n_heads == 0 || !out.is_multiple_of(n_heads) {
            return Err(DiffusionError::Unsupported {
                what: what.to_owned(),
                reason: format!("{out} channels do not split into {n_heads} heads"),
            });
        }
        Ok(Level {
            out_channels: out,
            cross_attention,
            heads: n_heads,
            depth,
        })
    }

    /// The settings every block shares, with a timestep embedding of
    /// `temb_channels`.
    pub(crate) fn block_common(&self, temb_channels: usize) -> BlockCommon {
        BlockCommon {
            temb_channels,
            groups: self.norm_num_groups,
            eps: self.norm_eps,
            context_dim: self.cross_attention_dim,
            linear_projection: self.use_linear_projection,
        }
    }

    /// Down block `i` of `levels` (its input is the previous level's output,
    /// or the first level's width after `conv_in`).
    pub(crate) fn down_block_config(&self, levels: &[Level], i: usize) -> DownBlockConfig {
        let in_channels = if i == 0 {
            levels[0].out_channels
        } else {
            levels[i - 1].out_channels
        };
        DownBlockConfig {
            in_channels,
            out_channels: levels[i].out_channels,
            layers: self.layers_per_block,
            attention: levels[i].attention(),
            add_downsample: i + 1 < levels.len(),
            downsample_padding: self.downsample_padding,
        }
    }

    /// The mid block after the last of `levels`.
    pub(crate) fn mid_block(
        &self,
        levels: &[Level],
        common: &BlockCommon,
        vb: VarBuilder,
    ) -> Result<MidBlock> {
        let last = levels[levels.len() - 1];
        Ok(MidBlock::new(
            last.out_channels,
            last.heads,
            last.depth,
            self.mid_block_scale_factor,
            common,
            vb,
        )?)
    }

    /// Sinusoidal features of the timesteps `t` `(b,)` for the time embedding.
    pub(crate) fn timestep_features(&self, t: &Tensor) -> Result<Tensor> {
        Ok(timestep_features(
            t,
            self.block_out_channels[0],
            self.flip_sin_to_cos,
            self.freq_shift,
        )?)
    }
}

/// Fails with [`DiffusionError::Unsupported`] when an optional feature is set.
pub(crate) fn reject_set<T: std::fmt::Debug>(
    what: &str,
    field: &str,
    value: &Option<T>,
) -> Result<()> {
    match value {
        None => Ok(()),
        Some(v) => Err(DiffusionError::Unsupported {
            what: what.to_owned(),
            reason: format!("{field} = {v:?} is not supported"),
        }),
    }
}
