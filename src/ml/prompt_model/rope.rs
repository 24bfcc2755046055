//! Rotary position embedding tables.

use candle_core::{DType, Device, Tensor};

use super::config::RopeScaling;
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
    pub fn new(
        head_dim: usize,
        theta: f64,
        scaling: &RopeScaling,
        max_positions: usize,
        device: &Device,
    ) -> Result<Self> {
        let half = head_dim / 2;
        let base: Vec<f64> = (0..half)
            .map(|i| 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64))
            .collect();
        let inv_freq: Vec<f32> = match scaling {
            RopeScaling::None => base.iter().map(|&f| f as f32).collect(),
            RopeScaling::FreqFactors(factors) => {
                if factors.len() != half {
                    return Err(PromptModelError::Tensor {
                        name: "rope_freqs.weight".to_string(),
                        reason: format!("{} factors for {half} frequencies", factors.len()),
                    });
                }
                base.iter()
                    .zip(factors)
                    .map(|(&f, &d)| (f / d as f64) as f32)
                    .collect()
            }
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                let old = *original_max_position_embeddings as f64;
                let low_wavelen = old / low_freq_factor;
                let high_wavelen = old / high_freq_factor;
                base.iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f64::consts::PI / f;
                        let scaled = if wavelen < high_wavelen {
                            f
                        } else if wavelen > low_wavelen {
                            f / factor
                        } else {
                            let smooth = (old / wavelen - low_freq_factor)
                                / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * f / factor + smooth * f
                        };
                        scaled as f32
                    })
                    .collect()
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn inv_freqs(t: &RotaryTables) -> Vec<f32> {
        // Position 1 holds cos/sin of the frequencies themselves.
        let sin = t.sin.get(1).and_then(|r| r.to_vec1::<f32>()).expect("sin");
        let cos = t.cos.get(1).and_then(|r| r.to_vec1::<f32>()).expect("cos");
        sin.iter().zip(&cos).map(|(s, c)| s.atan2(*c)).collect()
    }

    #[test]
    fn llama3_scaling_keeps_high_and_divides_low_frequencies() {
        let plain =
            RotaryTables::new(64, 500_000.0, &RopeScaling::None, 4, &Device::Cpu).expect("plain");
        let scaling = RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        };
        let scaled = RotaryTables::new(64, 500_000.0, &scaling, 4, &Device::Cpu).expect("scaled");
        let (p, s) = (inv_freqs(&plain), inv_freqs(&scaled));
        assert!((p[0] - s[0]).abs() < 1e-6, "highest frequency must be kept");
        let last = p.len() - 1;
        assert!(
            (p[last] / 8.0 - s[last]).abs() < 1e-9,
            "lowest frequency must be divided by 8"
        );
        assert!(s.iter().zip(&p).all(|(s, p)| s <= p));
    }
}
