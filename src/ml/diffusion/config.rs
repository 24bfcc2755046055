//! Helpers for diffusers `config.json` fields shared by the UNet and the
//! ControlNet.

use serde::Deserialize;

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

/// The down-path fields common to UNet and ControlNet configs.
pub(crate) struct DownPath<'a> {
    pub block_out_channels: &'a [usize],
    pub down_block_types: &'a [String],
    pub attention_head_dim: &'a PerBlock,
    pub num_attention_heads: Option<&'a PerBlock>,
    pub transformer_layers_per_block: &'a PerBlock,
    pub what: &'a str,
}

impl DownPath<'_> {
    /// Per-level configuration. diffusers' quirk: without
    /// `num_attention_heads`, `attention_head_dim` is the number of heads.
    pub fn levels(&self) -> Result<Vec<Level>> {
        let n = self.block_out_channels.len();
        if n == 0 || self.down_block_types.len() != n {
            return Err(DiffusionError::Unsupported {
                what: self.what.to_owned(),
                reason: format!(
                    "{} down block types for {n} block_out_channels",
                    self.down_block_types.len()
                ),
            });
        }
        let heads = self.num_attention_heads.unwrap_or(self.attention_head_dim);
        (0..n)
            .map(|i| {
                let depth =
                    self.transformer_layers_per_block
                        .get(i, n, "transformer_layers_per_block")?;
                let cross_attention = match self.down_block_types[i].as_str() {
                    "CrossAttnDownBlock2D" => true,
                    "DownBlock2D" => false,
                    other => {
                        return Err(DiffusionError::Unsupported {
                            what: self.what.to_owned(),
                            reason: format!("down block type {other}"),
                        })
                    }
                };
                let n_heads = heads.get(i, n, "attention_head_dim")?;
                let out = self.block_out_channels[i];
                if n_heads == 0 || !out.is_multiple_of(n_heads) {
                    return Err(DiffusionError::Unsupported {
                        what: self.what.to_owned(),
                        reason: format!("{out} channels do not split into {n_heads} heads"),
                    });
                }
                Ok(Level {
                    out_channels: out,
                    cross_attention,
                    heads: n_heads,
                    depth,
                })
            })
            .collect()
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
