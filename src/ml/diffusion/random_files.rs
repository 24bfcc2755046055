//! Random-weight model folders on disk, in the diffusers layout that
//! `adstudio render` loads (`unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
//! `scheduler/` and a ControlNet folder), with the weights in the dtype real
//! checkpoints ship in (f16): for memory and speed measurements of whole
//! renders without downloading a checkpoint.
//!
//! Each component is built once through a [`RecordingWeights`] source that
//! hands out [`RandomWeights`] tensors and keeps what it handed out, then
//! saved as safetensors under the names the model asked for, so the files
//! hold exactly the tensors loading will ask for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::clip_text::ClipTextModel;
use super::controlnet::ControlNet;
use super::error::{DiffusionError, Result};
use super::random::{tiny_clip_vocab, RandomWeights};
use super::unet::UNet;
use super::vae::Vae;

/// Which architectures to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomArch {
    /// Stable Diffusion 1.5 and its canny ControlNet (full size: about 2.9
    /// GB in f16).
    Sd15,
    /// The tiny `sd_tiny` fixture architectures (for tests).
    Tiny,
}

/// The config files of one architecture (diffusers `config.json` texts).
struct ConfigTexts {
    unet: &'static str,
    vae: &'static str,
    text_encoder: &'static str,
    controlnet: &'static str,
    scheduler: &'static str,
}

impl RandomArch {
    fn configs(self) -> ConfigTexts {
        match self {
            Self::Sd15 => ConfigTexts {
                unet: include_str!("sd15/unet.json"),
                vae: include_str!("sd15/vae.json"),
                text_encoder: include_str!("sd15/text_encoder.json"),
                controlnet: include_str!("sd15/controlnet.json"),
                scheduler: include_str!("sd15/scheduler_ddim.json"),
            },
            Self::Tiny => ConfigTexts {
                unet: include_str!("tiny/unet.json"),
                vae: include_str!("tiny/vae.json"),
                text_encoder: include_str!("tiny/text_encoder.json"),
                controlnet: include_str!("tiny/controlnet.json"),
                scheduler: include_str!("tiny/scheduler_euler_a.json"),
            },
        }
    }
}

/// The two folders [`write_random_models`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomModelFolders {
    /// The Stable Diffusion folder (`--models`).
    pub sd: PathBuf,
    /// The ControlNet folder (`--controlnet`).
    pub controlnet: PathBuf,
}

/// [`RandomWeights`] that remembers every tensor it handed out, by name,
/// in the file's dtype (whatever dtype the model asked for).
#[derive(Debug, Clone)]
struct RecordingWeights {
    inner: RandomWeights,
    file_dtype: DType,
    seen: Arc<Mutex<HashMap<String, Tensor>>>,
}

impl SimpleBackend for RecordingWeights {
    fn get(
        &self,
        s: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.inner.get(s, name, init, self.file_dtype, dev)?;
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), t.clone());
        t.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.inner.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.inner.contains_tensor(name)
    }
}

/// Writes one component: `config.json` from `config`, and the weights
/// `build` asks for (random, `dtype`) as `dir/file`.
fn write_component(
    dir: &Path,
    config: &str,
    file: &str,
    (seed, dtype): (u64, DType),
    build: impl FnOnce(VarBuilder<'static>) -> Result<()>,
) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DiffusionError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config).map_err(io(&config_path))?;
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let backend = RecordingWeights {
        inner: RandomWeights::new(seed),
        file_dtype: dtype,
        seen: seen.clone(),
    };
    build(VarBuilder::from_backend(
        Box::new(backend),
        dtype,
        Device::Cpu,
    ))?;
    let tensors = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
    let path = dir.join(file);
    candle_core::safetensors::save(&tensors, &path).map_err(|source| DiffusionError::Weights {
        path: path.display().to_string(),
        source,
    })
}

/// Writes `root/sd` (Stable Diffusion: UNet, VAE, CLIP text encoder, a
/// character-level tokenizer, scheduler) and `root/controlnet` (canny
/// ControlNet) with random weights of `arch` stored as `dtype` (f16 as real
/// checkpoints, or f32). The same seed gives the same files.
pub fn write_random_models(
    root: &Path,
    arch: RandomArch,
    dtype: DType,
    seed: u64,
) -> Result<RandomModelFolders> {
    let texts = arch.configs();
    let sd = root.join("sd");
    let controlnet = root.join("controlnet");
    let origin = |name: &str| PathBuf::from(format!("<built-in {name} config>"));
    let parse = |name: &str, text: &str| -> Result<serde_json::Value> {
        Ok(crate::ml::json::parse_json(&origin(name), text)?)
    };
    let weights = "diffusion_pytorch_model.safetensors";
    let unet_cfg = serde_json::from_value(parse("unet", texts.unet)?).map_err(json_err)?;
    write_component(&sd.join("unet"), texts.unet, weights, (seed, dtype), |vb| {
        UNet::new(&unet_cfg, vb).map(drop)
    })?;
    let vae_cfg = serde_json::from_value(parse("vae", texts.vae)?).map_err(json_err)?;
    write_component(
        &sd.join("vae"),
        texts.vae,
        weights,
        (seed + 1, dtype),
        |vb| Vae::new(&vae_cfg, vb).map(drop),
    )?;
    let text_cfg =
        serde_json::from_value(parse("text encoder", texts.text_encoder)?).map_err(json_err)?;
    let text_dir = sd.join("text_encoder");
    write_component(
        &text_dir,
        texts.text_encoder,
        "model.safetensors",
        (seed + 2, dtype),
        |vb| {
            ClipTextModel::new(&text_cfg, vb)
                .map(drop)
                .map_err(DiffusionError::from)
        },
    )?;
    let cn_cfg =
        serde_json::from_value(parse("controlnet", texts.controlnet)?).map_err(json_err)?;
    write_component(
        &controlnet,
        texts.controlnet,
        weights,
        (seed + 3, dtype),
        |vb| ControlNet::new(&cn_cfg, vb).map(drop),
    )?;
    write_text_files(&sd, texts.scheduler)?;
    Ok(RandomModelFolders { sd, controlnet })
}

/// The scheduler config and the character-level tokenizer
/// ([`tiny_clip_vocab`]; its ids fit every CLIP vocabulary).
fn write_text_files(sd: &Path, scheduler: &str) -> Result<()> {
    let files = [
        (
            sd.join("scheduler"),
            "scheduler_config.json",
            scheduler.to_owned(),
        ),
        (
            sd.join("tokenizer"),
            "vocab.json",
            tiny_clip_vocab().to_string(),
        ),
        (
            sd.join("tokenizer"),
            "merges.txt",
            "#version: 0.2\n".to_owned(),
        ),
    ];
    for (dir, name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|source| DiffusionError::Io { path, source })?;
    }
    Ok(())
}

fn json_err(e: serde_json::Error) -> DiffusionError {
    DiffusionError::InvalidInput(format!("built-in config: {e}"))
}
