//! The layers of `AutoencoderTiny`: its residual block, the encoder and the
//! decoder, in diffusers' `nn.Sequential` key layout (`layers.<i>....`,
//! where activations and upsamplers take an index too).

use candle_core::{DType, Device, Module, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{conv2d_no_bias, Conv2d, Init, VarBuilder};

use super::config::{Activation, TaesdConfig};
use crate::ml::diffusion::blocks::conv::Conv3x3;
use crate::ml::diffusion::blocks::strided_conv::{Conv3x3Stride2, Stride2Padding};

/// Serves a zero `bias` when the file has none, so that the bias-less
/// convolutions of TAESD use the same fast 3x3 kernels as the rest.
struct ZeroBias(VarBuilder<'static>);

impl SimpleBackend for ZeroBias {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if name == "bias" && !self.0.contains_tensor(name) {
            return Tensor::zeros(s, dtype, dev);
        }
        self.0.get_with_hints_dtype(s, name, h, dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, _: &Device) -> candle_core::Result<Tensor> {
        self.0.get_unchecked_dtype(name, dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        name == "bias" || self.0.contains_tensor(name)
    }
}

/// `vb` for a convolution saved without a bias.
fn no_bias(vb: VarBuilder<'static>) -> VarBuilder<'static> {
    let (dtype, device) = (vb.dtype(), vb.device().clone());
    VarBuilder::from_backend(Box::new(ZeroBias(vb)), dtype, device)
}

/// `AutoencoderTinyBlock`: three 3x3 convolutions (activation between
/// them), a 1x1 skip when the width changes, then ReLU of the sum.
#[derive(Debug, Clone)]
struct TinyBlock {
    convs: [Conv3x3; 3],
    skip: Option<Conv2d>,
    act: Activation,
}

impl TinyBlock {
    fn new(
        in_ch: usize,
        out_ch: usize,
        act: Activation,
        vb: VarBuilder<'static>,
    ) -> candle_core::Result<Self> {
        let conv = vb.pp("conv");
        let convs = [
            Conv3x3::new(in_ch, out_ch, conv.pp("0"))?,
            Conv3x3::new(out_ch, out_ch, conv.pp("2"))?,
            Conv3x3::new(out_ch, out_ch, conv.pp("4"))?,
        ];
        let skip = (in_ch != out_ch)
            .then(|| conv2d_no_bias(in_ch, out_ch, 1, Default::default(), vb.pp("skip")))
            .transpose()?;
        Ok(Self { convs, skip, act })
    }
}

impl Module for TinyBlock {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let h = self.act.apply(&self.convs[0].forward(xs)?)?;
        let h = self.act.apply(&self.convs[1].forward(&h)?)?;
        let h = self.convs[2].forward(&h)?;
        let skip = match &self.skip {
            Some(conv) => conv.forward(xs)?,
            None => xs.clone(),
        };
        (h + skip)?.relu()
    }
}

/// One entry of an encoder or decoder sequence.
#[derive(Debug, Clone)]
enum Layer {
    Conv(Conv3x3),
    Down(Conv3x3Stride2),
    Block(Box<TinyBlock>),
    Act(Activation),
    Upsample(usize),
}

impl Module for Layer {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Conv(c) => c.forward(xs),
            Self::Down(c) => c.forward(xs),
            Self::Block(b) => b.forward(xs),
            Self::Act(a) => a.apply(xs),
            Self::Upsample(f) => {
                let (_, _, h, w) = xs.dims4()?;
                xs.upsample_nearest2d(h * f, w * f)
            }
        }
    }
}

/// A `nn.Sequential` being built: each pushed layer takes the next index.
struct Sequence {
    vb: VarBuilder<'static>,
    layers: Vec<Layer>,
}

impl Sequence {
    fn new(vb: VarBuilder<'static>) -> Self {
        Self {
            vb: vb.pp("layers"),
            layers: Vec::new(),
        }
    }

    /// The weights of the next layer.
    fn next_vb(&self) -> VarBuilder<'static> {
        self.vb.pp(self.layers.len())
    }

    fn push(&mut self, layer: Layer) {
        self.layers.push(layer);
    }

    fn blocks(&mut self, n: usize, ch: usize, act: Activation) -> candle_core::Result<()> {
        for _ in 0..n {
            let block = TinyBlock::new(ch, ch, act, self.next_vb())?;
            self.push(Layer::Block(Box::new(block)));
        }
        Ok(())
    }
}

/// Runs layers in order.
fn run(layers: &[Layer], xs: &Tensor) -> candle_core::Result<Tensor> {
    layers.iter().try_fold(xs.clone(), |xs, l| l.forward(&xs))
}

/// `EncoderTiny`: image in [-1, 1] -> raw latents.
#[derive(Debug, Clone)]
pub(super) struct TinyEncoder {
    layers: Vec<Layer>,
}

impl TinyEncoder {
    pub(super) fn new(cfg: &TaesdConfig, vb: VarBuilder<'static>) -> candle_core::Result<Self> {
        let act = cfg.activation();
        let mut seq = Sequence::new(vb);
        for (i, (&ch, &n)) in cfg
            .encoder_block_out_channels
            .iter()
            .zip(&cfg.num_encoder_blocks)
            .enumerate()
        {
            let layer = if i == 0 {
                Layer::Conv(Conv3x3::new(cfg.in_channels, ch, seq.next_vb())?)
            } else {
                let vb = no_bias(seq.next_vb());
                Layer::Down(Conv3x3Stride2::new(ch, ch, Stride2Padding::Symmetric, vb)?)
            };
            seq.push(layer);
            seq.blocks(n, ch, act)?;
        }
        let last = cfg.encoder_block_out_channels[cfg.encoder_block_out_channels.len() - 1];
        let conv_out = Conv3x3::new(last, cfg.latent_channels, seq.next_vb())?;
        seq.push(Layer::Conv(conv_out));
        Ok(Self { layers: seq.layers })
    }

    /// Image in [-1, 1] -> raw latents (the network sees [0, 1]).
    pub(super) fn forward(&self, image: &Tensor) -> candle_core::Result<Tensor> {
        run(&self.layers, &((image + 1.0)? / 2.0)?)
    }
}

/// `DecoderTiny`: raw latents -> image in about [-1, 1].
#[derive(Debug, Clone)]
pub(super) struct TinyDecoder {
    layers: Vec<Layer>,
}

impl TinyDecoder {
    pub(super) fn new(cfg: &TaesdConfig, vb: VarBuilder<'static>) -> candle_core::Result<Self> {
        let act = cfg.activation();
        let ch = &cfg.decoder_block_out_channels;
        let mut seq = Sequence::new(vb);
        let conv_in = Conv3x3::new(cfg.latent_channels, ch[0], seq.next_vb())?;
        seq.push(Layer::Conv(conv_in));
        seq.push(Layer::Act(act));
        let levels = ch.len();
        for (i, (&c, &n)) in ch.iter().zip(&cfg.num_decoder_blocks).enumerate() {
            seq.blocks(n, c, act)?;
            let last = i + 1 == levels;
            if !last {
                seq.push(Layer::Upsample(cfg.upsampling_scaling_factor));
            }
            let conv = if last {
                Conv3x3::new(c, cfg.out_channels, seq.next_vb())?
            } else {
                Conv3x3::new(c, c, no_bias(seq.next_vb()))?
            };
            seq.push(Layer::Conv(conv));
        }
        Ok(Self { layers: seq.layers })
    }

    /// Raw latents -> image in about [-1, 1]: the latents are soft-clamped
    /// to (-3, 3) first (`tanh(x / 3) * 3`), the network's [0, 1] output
    /// is mapped to [-1, 1].
    pub(super) fn forward(&self, latents: &Tensor) -> candle_core::Result<Tensor> {
        let xs = ((latents / 3.0)?.tanh()? * 3.0)?;
        let xs = run(&self.layers, &xs)?;
        (xs * 2.0)? - 1.0
    }
}
