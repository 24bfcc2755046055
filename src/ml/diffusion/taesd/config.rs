//! `config.json` of a diffusers `AutoencoderTiny` (TAESD) folder.

use std::path::Path;

use serde::Deserialize;

use crate::ml::diffusion::error::{DiffusionError, Result};
use crate::ml::json::read_json;

/// The fields of an `AutoencoderTiny` configuration (diffusers' defaults
/// are TAESD's for SD 1.x).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaesdConfig {
    /// Image channels in (3).
    #[serde(default = "three")]
    pub in_channels: usize,
    /// Image channels out (3).
    #[serde(default = "three")]
    pub out_channels: usize,
    /// Channels of each encoder level (one level per entry).
    #[serde(default = "sixty_fours")]
    pub encoder_block_out_channels: Vec<usize>,
    /// Channels of each decoder level.
    #[serde(default = "sixty_fours")]
    pub decoder_block_out_channels: Vec<usize>,
    /// Activation inside the blocks: `relu` (TAESD), `silu` or `swish`.
    #[serde(default = "relu")]
    pub act_fn: String,
    /// Upsampling mode between decoder levels (`nearest` only).
    #[serde(default = "nearest")]
    pub upsample_fn: String,
    /// Latent channels (4).
    #[serde(default = "four")]
    pub latent_channels: usize,
    /// Upsampling factor between decoder levels (2).
    #[serde(default = "two")]
    pub upsampling_scaling_factor: usize,
    /// Blocks per encoder level (`[1, 3, 3, 3]`).
    #[serde(default = "encoder_blocks")]
    pub num_encoder_blocks: Vec<usize>,
    /// Blocks per decoder level (`[3, 3, 3, 1]`).
    #[serde(default = "decoder_blocks")]
    pub num_decoder_blocks: Vec<usize>,
    /// Range of the raw latents when stored as bytes (3).
    #[serde(default = "three_f")]
    pub latent_magnitude: f64,
    /// Offset of the raw latents when stored as bytes (0.5).
    #[serde(default = "half")]
    pub latent_shift: f64,
    /// Diffusion latents are the encoder's output times this (1.0: TAESD
    /// latents are already on the scale of SD's scaled latents).
    #[serde(default = "one_f")]
    pub scaling_factor: f64,
    /// Shift applied before scaling (0 for SD 1.x).
    #[serde(default)]
    pub shift_factor: Option<f64>,
}

fn three() -> usize {
    3
}
fn four() -> usize {
    4
}
fn two() -> usize {
    2
}
fn sixty_fours() -> Vec<usize> {
    vec![64; 4]
}
fn relu() -> String {
    "relu".into()
}
fn nearest() -> String {
    "nearest".into()
}
fn encoder_blocks() -> Vec<usize> {
    vec![1, 3, 3, 3]
}
fn decoder_blocks() -> Vec<usize> {
    vec![3, 3, 3, 1]
}
fn three_f() -> f64 {
    3.0
}
fn half() -> f64 {
    0.5
}
fn one_f() -> f64 {
    1.0
}

impl Default for TaesdConfig {
    /// TAESD for SD 1.x (`madebyollin/taesd`).
    fn default() -> Self {
        Self {
            in_channels: 3,
            out_channels: 3,
            encoder_block_out_channels: sixty_fours(),
            decoder_block_out_channels: sixty_fours(),
            act_fn: relu(),
            upsample_fn: nearest(),
            latent_channels: 4,
            upsampling_scaling_factor: 2,
            num_encoder_blocks: encoder_blocks(),
            num_decoder_blocks: decoder_blocks(),
            latent_magnitude: 3.0,
            latent_shift: 0.5,
            scaling_factor: 1.0,
            shift_factor: None,
        }
    }
}

impl TaesdConfig {
    /// Reads `config.json` and checks it ([`TaesdConfig::check`]).
    pub fn from_file(path: &Path) -> Result<Self> {
        let cfg: Self = read_json(path)?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Errors on what this engine does not build: level lists of unequal
    /// lengths, levels of unequal widths within the encoder (diffusers'
    /// stride-2 convolutions keep the width), another activation or
    /// upsampling mode.
    pub fn check(&self) -> Result<()> {
        let unsupported = |reason: String| {
            Err(DiffusionError::Unsupported {
                what: "TAESD config".into(),
                reason,
            })
        };
        let enc = &self.encoder_block_out_channels;
        let dec = &self.decoder_block_out_channels;
        if enc.is_empty() || enc.len() != self.num_encoder_blocks.len() {
            return unsupported(format!(
                "{} encoder levels but {} block counts",
                enc.len(),
                self.num_encoder_blocks.len()
            ));
        }
        if dec.is_empty() || dec.len() != self.num_decoder_blocks.len() {
            return unsupported(format!(
                "{} decoder levels but {} block counts",
                dec.len(),
                self.num_decoder_blocks.len()
            ));
        }
        if enc.windows(2).any(|w| w[0] != w[1]) || dec.windows(2).any(|w| w[0] != w[1]) {
            return unsupported("levels of different widths".into());
        }
        if Activation::parse(&self.act_fn).is_none() {
            return unsupported(format!("activation {:?}", self.act_fn));
        }
        if self.upsample_fn != "nearest" || self.upsampling_scaling_factor == 0 {
            return unsupported(format!(
                "upsampling {:?} x{}",
                self.upsample_fn, self.upsampling_scaling_factor
            ));
        }
        Ok(())
    }

    /// Pixels per latent along each side: the encoder's stride-2 levels.
    pub fn downscale_factor(&self) -> usize {
        1 << self.encoder_block_out_channels.len().saturating_sub(1)
    }

    /// The block activation.
    pub fn activation(&self) -> Activation {
        Activation::parse(&self.act_fn).unwrap_or(Activation::Relu)
    }
}

/// The activations `AutoencoderTiny` configurations use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `relu` (TAESD).
    Relu,
    /// `silu` / `swish`.
    Silu,
}

impl Activation {
    /// The activation a config name means.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "relu" => Some(Self::Relu),
            "silu" | "swish" => Some(Self::Silu),
            _ => None,
        }
    }

    /// Applies it.
    pub fn apply(self, xs: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
        match self {
            Self::Relu => xs.relu(),
            Self::Silu => candle_nn::ops::silu(xs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_taesd_and_odd_configs_are_refused() {
        let cfg: TaesdConfig = serde_json::from_str("{}").expect("json");
        assert_eq!(cfg, TaesdConfig::default());
        assert_eq!(cfg.downscale_factor(), 8);
        cfg.check().expect("TAESD is supported");
        let bad = TaesdConfig {
            act_fn: "gelu".into(),
            ..TaesdConfig::default()
        };
        assert!(bad.check().is_err());
        let uneven = TaesdConfig {
            num_decoder_blocks: vec![3, 3],
            ..TaesdConfig::default()
        };
        assert!(uneven.check().is_err());
    }
}
