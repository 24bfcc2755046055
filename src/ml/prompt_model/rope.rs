//! Rotary position embedding tables.

use candle_core::{DType, Device, Tensor};

use super::error::{PromptModelError, Result};

/// Precomputed cos/sin tables for positions `0..max_positions`.
#[derive(Debug, Clone)]
pub struct RotaryTables {
    cos: Tensor,
    sin: Tensor,
    max_positions: usize,
}

impl RotaryTables {
    /// Builds the tables for `head_dim` with base frequency `theta`.
    pub fn new(head_dim: usize, theta: f64, max_positions: usize, device: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| (1.0 / theta.powf(2.0 * i as f64 / head_dim as f64)) as f32)
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
        let positions = Tensor::arange(0u32, max_positions as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((max_positions, 1))?;
        let freqs = positions.broadcast_mul(&inv_freq)?;
        Ok(Self {
            cos: freqs.cos()?,
            sin: freqs.sin()?,
            max_positions,
        })
    }

    /// Tables for positions `offset..offset + len`, each (len, head_dim / 2).
    pub fn slice(&self, offset: usize, len: usize) -> Result<(Tensor, Tensor)> {
        if offset + len > self.max_positions {
            return Err(PromptModelError::Input(format!(
                "sequence of {} tokens exceeds the model's {} positions",
                offset + len,
                self.max_positions
            )));
        }
        Ok((
            self.cos.narrow(0, offset, len)?,
            self.sin.narrow(0, offset, len)?,
        ))
    }
}
