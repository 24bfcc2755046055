//! The U²-Net network: six RSU encoder stages, five RSU decoder stages,
//! six side outputs and their 1x1 fusion.

use candle_core::{Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use super::config::U2NetConfig;
use super::conv::Conv3x3;
use super::error::SaliencyError;
use super::rsu::{max_pool_ceil, upsample_like, Rsu};

/// All outputs of one forward pass, after the sigmoid, each (N, out_ch, H, W)
/// at the input's size.
#[derive(Debug, Clone)]
pub struct U2NetOutput {
    /// The fused map d0 (what rembg uses as the mask).
    pub fused: Tensor,
    /// Side maps d1..d6 (deep supervision outputs).
    pub sides: Vec<Tensor>,
}

/// U²-Net (or U²-Net-p, depending on the config) with folded batch-norm.
#[derive(Debug, Clone)]
pub struct U2Net {
    encoder: Vec<Rsu>,
    decoder: Vec<Rsu>,
    sides: Vec<Conv3x3>,
    outconv: Conv2d,
    in_ch: usize,
}

impl U2Net {
    /// Builds the network from a checkpoint whose keys follow the PyTorch
    /// module names (`stage1.rebnconvin.conv_s1.weight`, `side1.bias`, ...).
    pub fn new(cfg: &U2NetConfig, vb: VarBuilder) -> Result<Self, SaliencyError> {
        cfg.validate()?;
        let encoder = cfg
            .encoder
            .iter()
            .map(|s| Rsu::new(s, vb.pp(&s.name)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let decoder = cfg
            .decoder
            .iter()
            .map(|s| Rsu::new(s, vb.pp(&s.name)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let sides = (1..=6)
            .map(|i| Conv3x3::new(cfg.side_in_ch(i), cfg.out_ch, 1, vb.pp(format!("side{i}"))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let outconv = candle_nn::conv2d(
            6 * cfg.out_ch,
            cfg.out_ch,
            1,
            Conv2dConfig::default(),
            vb.pp("outconv"),
        )?;
        Ok(Self {
            encoder,
            decoder,
            sides,
            outconv,
            in_ch: cfg.in_ch,
        })
    }

    /// The fused saliency map sigmoid(d0), shape (N, out_ch, H, W), for an
    /// input (N, in_ch, H, W) already normalised (see `preprocess`).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, SaliencyError> {
        Ok(self.forward_all(x)?.fused)
    }

    /// The fused map and the six side maps, all after the sigmoid.
    pub fn forward_all(&self, x: &Tensor) -> Result<U2NetOutput, SaliencyError> {
        let dims = x.dims().to_vec();
        if dims.len() != 4 || dims[1] != self.in_ch || dims[2] == 0 || dims[3] == 0 {
            return Err(SaliencyError::InputShape {
                channels: self.in_ch,
                found: dims,
            });
        }
        // Encoder: hx1..hx6, pooled between stages.
        let mut enc: Vec<Tensor> = Vec::with_capacity(6);
        let mut h = x.clone();
        for (i, stage) in self.encoder.iter().enumerate() {
            let hx = stage.forward(&h)?;
            if i + 1 < self.encoder.len() {
                h = max_pool_ceil(&hx)?;
            }
            enc.push(hx);
        }
        // Decoder: hx5d..hx1d, each from the upsampled deeper map and the skip.
        let mut dec: Vec<Tensor> = Vec::with_capacity(5);
        let mut d = enc[5].clone();
        for (j, stage) in self.decoder.iter().enumerate() {
            let skip = &enc[4 - j];
            let up = upsample_like(&d, skip)?;
            d = stage.forward(&Tensor::cat(&[&up, skip], 1)?)?;
            dec.push(d.clone());
        }
        // Side i reads hx(i)d for i = 1..5 (dec is deep to shallow) and hx6.
        let side_inputs = [&dec[4], &dec[3], &dec[2], &dec[1], &dec[0], &enc[5]];
        let d1 = self.sides[0].forward(side_inputs[0])?;
        let mut logits = vec![d1.clone()];
        for (conv, input) in self.sides.iter().zip(side_inputs).skip(1) {
            logits.push(upsample_like(&conv.forward(input)?, &d1)?);
        }
        let d0 = self.outconv.forward(&Tensor::cat(&logits, 1)?)?;
        let sides = logits
            .iter()
            .map(candle_nn::ops::sigmoid)
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(U2NetOutput {
            fused: candle_nn::ops::sigmoid(&d0)?,
            sides,
        })
    }
}
