//! Models with deterministic random weights, built as plain tensors (never
//! trainable variables, which would record a backprop graph): the full SD
//! 1.5 architectures for benchmarks and memory checks, and tiny models (the
//! `sd_tiny` fixture architectures) for fast end-to-end tests.

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::clip_text::ClipTextModel;
use super::controlnet::{ControlNet, ControlNetConfig};
use super::error::Result;
use super::models::{vae_dtype, StableDiffusion};
use super::noise::NoiseRng;
use super::single_file::SingleFileConfigs;
use super::tokenizer::ClipTokenizer;
use super::unet::UNet;
use super::vae::Vae;

/// A weight source that makes up every requested tensor: 1-D weights
/// (norms) are ones, biases zeros, other weights normal with standard
/// deviation `1 / sqrt(fan_in)`; values depend only on the seed and the
/// tensor's name. Values are read from a pool of 2^20 standard-normal
/// samples at a name-dependent offset (wrapping), so full-size models are
/// made quickly; tensors up to the pool size hold distinct samples.
#[derive(Debug, Clone)]
pub struct RandomWeights {
    pool: std::sync::Arc<Vec<f32>>,
}

/// Samples in the pool.
const POOL: usize = 1 << 20;

impl RandomWeights {
    /// A source for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = NoiseRng::new(seed);
        Self {
            pool: std::sync::Arc::new((0..POOL).map(|_| rng.normal()).collect()),
        }
    }

    /// `n` pool samples starting at the name's offset (slice copies only).
    fn normal(&self, name: &str, n: usize) -> Vec<f32> {
        let mut pos = (fnv1a(name) % POOL as u64) as usize;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let take = (POOL - pos).min(n - out.len());
            out.extend_from_slice(&self.pool[pos..pos + take]);
            pos = 0;
        }
        out
    }
}

fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl SimpleBackend for RandomWeights {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = if name.ends_with("bias") {
            Tensor::zeros(s, DType::F32, dev)?
        } else if s.rank() == 1 {
            Tensor::ones(s, DType::F32, dev)?
        } else {
            let fan_in: usize = s.dims()[1..].iter().product();
            let n = s.elem_count();
            (Tensor::from_vec(self.normal(name, n), s, dev)? / (fan_in.max(1) as f64).sqrt())?
        };
        t.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        Err(candle_core::Error::Msg(format!(
            "random weights need a shape for {name}"
        )))
    }

    fn contains_tensor(&self, _: &str) -> bool {
        true
    }
}

/// A var builder over [`RandomWeights`].
pub fn random_var_builder(seed: u64, dtype: DType, device: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(Box::new(RandomWeights::new(seed)), dtype, device.clone())
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T> {
    let origin = std::path::PathBuf::from(format!("<built-in tiny {name}>"));
    Ok(crate::ml::json::parse_json(&origin, text)?)
}

/// The tiny architectures of the `sd_tiny` fixture (blocks 32/64, VAE
/// 8/16/16/16 with scale 8, 2-layer CLIP of width 32, vocabulary 1000).
pub fn tiny_configs() -> Result<SingleFileConfigs> {
    Ok(SingleFileConfigs {
        unet: parse("unet", include_str!("tiny/unet.json"))?,
        vae: parse("vae", include_str!("tiny/vae.json"))?,
        text_encoder: parse("text_encoder", include_str!("tiny/text_encoder.json"))?,
        scheduler: parse("scheduler", include_str!("tiny/scheduler_euler_a.json"))?,
    })
}

/// The tiny ControlNet architecture of the `sd_tiny` fixture.
pub fn tiny_controlnet_config() -> Result<ControlNetConfig> {
    parse("controlnet", include_str!("tiny/controlnet.json"))
}

/// The vocabulary of the tiny character-level CLIP tokenizer: one token
/// per printable ASCII character (with and without `</w>`), start 998,
/// end 999 (as `vocab.json` holds it).
pub fn tiny_clip_vocab() -> serde_json::Value {
    let mut vocab = serde_json::Map::new();
    for (i, c) in (33u8..=126).enumerate() {
        let c = char::from(c).to_string();
        vocab.insert(format!("{c}</w>"), (2 * i as u64 + 1).into());
        vocab.insert(c, (2 * i as u64).into());
    }
    vocab.insert("<|startoftext|>".into(), 998u64.into());
    vocab.insert("<|endoftext|>".into(), 999u64.into());
    serde_json::Value::Object(vocab)
}

/// A character-level CLIP-style tokenizer for the tiny text encoder over
/// [`tiny_clip_vocab`] (no merges).
pub fn tiny_tokenizer() -> Result<ClipTokenizer> {
    ClipTokenizer::from_vocab_merges(tiny_clip_vocab(), "#version: 0.2\n")
}

/// Builds every component of `configs` with random weights.
pub fn random_model(
    configs: &SingleFileConfigs,
    tokenizer: ClipTokenizer,
    seed: u64,
    dtype: DType,
    device: &Device,
) -> Result<StableDiffusion> {
    let vb = random_var_builder(seed, dtype, device);
    let vae_vb = random_var_builder(seed, vae_dtype(dtype), device);
    Ok(StableDiffusion {
        tokenizer,
        text_encoder: ClipTextModel::new(&configs.text_encoder, vb.pp("text_encoder"))?,
        unet: UNet::new(&configs.unet, vb.pp("unet"))?,
        vae: Vae::new(&configs.vae, vae_vb.pp("vae"))?,
        scheduler_config: configs.scheduler.clone(),
    })
}

impl StableDiffusion {
    /// A tiny random model (64 px renders in well under a second) with a
    /// 4- or 9-channel UNet, for end-to-end tests.
    pub fn random_tiny(unet_in_channels: usize, seed: u64, device: &Device) -> Result<Self> {
        let mut configs = tiny_configs()?;
        configs.unet.in_channels = unet_in_channels;
        random_model(&configs, tiny_tokenizer()?, seed, DType::F32, device)
    }
}

impl ControlNet {
    /// A ControlNet with random weights for `cfg` (tiny or full size).
    pub fn random(
        cfg: &ControlNetConfig,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        ControlNet::new(
            cfg,
            random_var_builder(seed, dtype, device).pp("controlnet"),
        )
    }
}
