//! Residual U-blocks (RSU-L and RSU-4F) built from REBNCONV layers.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::config::{rebnconv_name, StageConfig};
use super::conv::Conv3x3;

/// Convolution + (folded) batch-norm + ReLU. With the batch-norm folded into
/// the convolution, the checkpoint holds `conv_s1.weight` and `conv_s1.bias`.
#[derive(Debug, Clone)]
pub struct RebnConv {
    conv: Conv3x3,
}

impl RebnConv {
    /// A 3x3 REBNCONV with padding = dilation (keeps the spatial size).
    pub fn new(
        in_ch: usize,
        out_ch: usize,
        dilation: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let conv = Conv3x3::new(in_ch, out_ch, dilation, vb.pp("conv_s1"))?;
        Ok(Self { conv })
    }
}

impl Module for RebnConv {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.conv.forward(x)?.relu()
    }
}

/// 2x2 max pooling with stride 2 and PyTorch's `ceil_mode=True`: an odd
/// side gets one more output row/column. Padding by repeating the last
/// row/column gives the same maxima as PyTorch's partial windows.
pub fn max_pool_ceil(x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let mut x = x.clone();
    if h % 2 == 1 {
        x = x.pad_with_same(2, 0, 1)?;
    }
    if w % 2 == 1 {
        x = x.pad_with_same(3, 0, 1)?;
    }
    x.max_pool2d(2)
}

/// Bilinear resize of `x` to the spatial size of `like` (half-pixel
/// centres, `align_corners=False`, as the exported ONNX `Resize` nodes).
pub fn upsample_like(x: &Tensor, like: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = like.dims4()?;
    let (_, _, xh, xw) = x.dims4()?;
    if (xh, xw) == (h, w) {
        return Ok(x.clone());
    }
    x.upsample_bilinear2d(h, w, false)
}

/// One RSU block: an input convolution, an L-level encoder/decoder U inside,
/// and a residual connection around it.
#[derive(Debug, Clone)]
pub struct Rsu {
    conv_in: RebnConv,
    /// rebnconv1 ..= rebnconvL.
    encoder: Vec<RebnConv>,
    /// rebnconv(L-1)d down to rebnconv1d.
    decoder: Vec<RebnConv>,
    pooled: bool,
}

impl Rsu {
    /// Builds the block of stage `cfg` under `vb` (already at the stage prefix).
    pub fn new(cfg: &StageConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let kind = cfg.kind;
        let depth = kind.depth();
        let conv_in = RebnConv::new(cfg.in_ch, cfg.out_ch, 1, vb.pp("rebnconvin"))?;
        let mut encoder = Vec::with_capacity(depth);
        for i in 1..=depth {
            let in_ch = if i == 1 { cfg.out_ch } else { cfg.mid_ch };
            encoder.push(RebnConv::new(
                in_ch,
                cfg.mid_ch,
                kind.encoder_dilation(i),
                vb.pp(rebnconv_name(i, false)),
            )?);
        }
        let mut decoder = Vec::with_capacity(depth - 1);
        for i in (1..depth).rev() {
            let out_ch = if i == 1 { cfg.out_ch } else { cfg.mid_ch };
            decoder.push(RebnConv::new(
                2 * cfg.mid_ch,
                out_ch,
                kind.decoder_dilation(i),
                vb.pp(rebnconv_name(i, true)),
            )?);
        }
        Ok(Self {
            conv_in,
            encoder,
            decoder,
            pooled: kind.pooled(),
        })
    }
}

impl Module for Rsu {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let depth = self.encoder.len();
        let hxin = self.conv_in.forward(x)?;
        // hx1 .. hx(L-1), pooled between levels.
        let mut skips: Vec<Tensor> = Vec::with_capacity(depth - 1);
        let mut h = hxin.clone();
        for (i, conv) in self.encoder[..depth - 1].iter().enumerate() {
            let hx = conv.forward(&h)?;
            h = if self.pooled && i + 2 < depth {
                max_pool_ceil(&hx)?
            } else {
                hx.clone()
            };
            skips.push(hx);
        }
        // The top level (dilated) sees hx(L-1).
        let mut d = self.encoder[depth - 1].forward(&h)?;
        let last = self.decoder.len() - 1;
        for (j, conv) in self.decoder.iter().enumerate() {
            let skip = &skips[depth - 2 - j];
            d = conv.forward(&Tensor::cat(&[&d, skip], 1)?)?;
            if self.pooled && j < last {
                d = upsample_like(&d, &skips[depth - 3 - j])?;
            }
        }
        d + hxin
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn ceil_mode_pool_keeps_partial_windows() {
        // 3x3 -> 2x2; the last row/column windows hold one or two values.
        let x = Tensor::new(
            &[[[[1f32, 2., 3.], [4., 5., 6.], [7., 8., -9.]]]],
            &Device::Cpu,
        )
        .unwrap();
        let y = max_pool_ceil(&x).unwrap();
        assert_eq!(y.dims(), &[1, 1, 2, 2]);
        let v = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v, vec![5., 6., 8., -9.]);
    }

    #[test]
    fn upsample_like_uses_half_pixel_bilinear() {
        let x = Tensor::new(&[[[[0f32, 4.]]]], &Device::Cpu).unwrap();
        let like = Tensor::zeros((1, 1, 1, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
        let y = upsample_like(&x, &like).unwrap();
        let v = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // PyTorch align_corners=False: source x = (i + 0.5) / 2 - 0.5, clamped.
        assert_eq!(v, vec![0., 1., 3., 4.]);
        assert_eq!(upsample_like(&x, &x).unwrap().dims(), x.dims());
    }
}
