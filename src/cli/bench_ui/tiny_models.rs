//! The scratch inputs of `bench ui`: tiny random Stable Diffusion and
//! ControlNet folders in the diffusers layout (the `sd_tiny` architectures:
//! a 9-channel UNet with blocks 32/64, VAE scale 8, a 2-layer CLIP) and a
//! drawn product photo.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use image::{Rgba, RgbaImage};

use crate::ml::diffusion::random::{
    tiny_clip_vocab, tiny_configs, tiny_controlnet_config, RandomWeights,
};
use crate::ml::diffusion::{ClipTextModel, ControlNet, UNet, Vae};

/// Weights file of the UNet, VAE and ControlNet folders.
const DIFFUSERS_WEIGHTS: &str = "diffusion_pytorch_model.safetensors";

/// Random weights that keep every tensor handed out, so that the model
/// built from them can be written as a safetensors file.
#[derive(Clone)]
struct Recorder {
    random: RandomWeights,
    seen: Arc<Mutex<HashMap<String, Tensor>>>,
}

impl SimpleBackend for Recorder {
    fn get(
        &self,
        s: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.random.get(s, name, init, dtype, dev)?;
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| candle_core::Error::Msg("weights recorder poisoned".into()))?;
        seen.insert(name.to_string(), t.clone());
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.random.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, _: &str) -> bool {
        true
    }
}

/// Builds one component over recorded random weights (`build` makes the
/// model) and writes `config` and the weights into `dir`.
fn write_component(
    dir: &Path,
    seed: u64,
    config: &str,
    weights: &str,
    build: impl FnOnce(VarBuilder<'static>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let recorder = Recorder {
        random: RandomWeights::new(seed),
        seen: Arc::clone(&seen),
    };
    build(VarBuilder::from_backend(
        Box::new(recorder),
        DType::F32,
        Device::Cpu,
    ))?;
    let tensors = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("weights recorder poisoned"))?
        .clone();
    let path = dir.join(weights);
    candle_core::safetensors::save(&tensors, &path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::fs::write(dir.join("config.json"), config)
        .with_context(|| format!("writing {}/config.json", dir.display()))?;
    Ok(())
}

/// Writes `models/sd15` (UNet, VAE, text encoder, Euler a scheduler, a
/// character-level CLIP tokenizer) and `models/controlnet-canny` under
/// `models`.
pub fn write_tiny_models(models: &Path) -> anyhow::Result<()> {
    let configs = tiny_configs()?;
    let sd = models.join("sd15");
    write_component(
        &sd.join("unet"),
        11,
        include_str!("../../ml/diffusion/tiny/unet.json"),
        DIFFUSERS_WEIGHTS,
        |vb| Ok(UNet::new(&configs.unet, vb).map(drop)?),
    )?;
    write_component(
        &sd.join("vae"),
        12,
        include_str!("../../ml/diffusion/tiny/vae.json"),
        DIFFUSERS_WEIGHTS,
        |vb| Ok(Vae::new(&configs.vae, vb).map(drop)?),
    )?;
    write_component(
        &sd.join("text_encoder"),
        13,
        include_str!("../../ml/diffusion/tiny/text_encoder.json"),
        "model.safetensors",
        |vb| Ok(ClipTextModel::new(&configs.text_encoder, vb).map(drop)?),
    )?;
    let controlnet = tiny_controlnet_config()?;
    write_component(
        &models.join("controlnet-canny"),
        14,
        include_str!("../../ml/diffusion/tiny/controlnet.json"),
        DIFFUSERS_WEIGHTS,
        |vb| Ok(ControlNet::new(&controlnet, vb).map(drop)?),
    )?;
    let scheduler = sd.join("scheduler");
    std::fs::create_dir_all(&scheduler)?;
    std::fs::write(
        scheduler.join("scheduler_config.json"),
        include_str!("../../ml/diffusion/tiny/scheduler_euler_a.json"),
    )?;
    let tokenizer = sd.join("tokenizer");
    std::fs::create_dir_all(&tokenizer)?;
    std::fs::write(tokenizer.join("vocab.json"), tiny_clip_vocab().to_string())?;
    std::fs::write(tokenizer.join("merges.txt"), "#version: 0.2\n")?;
    Ok(())
}

/// Draws a 240x200 product photo (a shaded disc on transparency, so the
/// studio masks it from its alpha) into `path`.
pub fn write_product(path: &Path) -> anyhow::Result<()> {
    let (w, h) = (240u32, 200u32);
    let (cx, cy, r) = (120.0f32, 100.0f32, 70.0f32);
    let img = RgbaImage::from_fn(w, h, |x, y| {
        let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
        let alpha = (r + 0.5 - d).clamp(0.0, 1.0);
        let shade = (255.0 * (1.0 - d / (2.0 * r))).clamp(0.0, 255.0) as u8;
        Rgba([
            shade,
            (x % 256) as u8,
            (y % 256) as u8,
            (alpha * 255.0) as u8,
        ])
    });
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}
