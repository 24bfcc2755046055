//! The loaded forms of the models, as the [`ModelHub`](super::ModelHub)
//! keeps them, and how each is loaded from what the registry found.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use candle_core::Device;

use crate::ml::diffusion::blocks::bf16::{draft_enabled, Bf16Mode};
use crate::ml::diffusion::lora::LoraWeights;
use crate::ml::diffusion::{ControlNet, StableDiffusion, Taesd, UNetConfig};
use crate::ml::pcpo::{load_adapter_for, BaseModel};
use crate::ml::prompt_model::{
    Decoder, LoadOptions, MultimodalPromptModel, PromptModel, TokenCounter,
};
use crate::ml::reward::checkpoint::{load_compact, CheckpointMeta};
use crate::ml::reward::compact::CompactRewardModel;
use crate::render::{ModelIds, RenderModels};
use crate::store::AdapterId;

use super::adapters::ActiveAdapter;
use super::display_name;
use super::registry::Located;
use super::roles::is_llava_folder;

/// Where the diffusion models of one engine are.
#[derive(Debug, Clone)]
pub struct DiffusionSources {
    /// The Stable Diffusion checkpoint.
    pub sd: Located,
    /// The canny ControlNet, when one was found.
    pub controlnet: Option<Located>,
    /// TAESD, when one was found (previews, drafts).
    pub taesd: Option<Located>,
    /// The LCM-LoRA to merge (a draft engine), or none (full renders).
    pub lcm_lora: Option<Located>,
}

impl DiffusionSources {
    /// Every path, for the cache's fingerprint.
    pub fn paths(&self) -> Vec<&std::path::Path> {
        let mut paths = vec![self.sd.path.as_path()];
        for extra in [&self.controlnet, &self.taesd, &self.lcm_lora]
            .into_iter()
            .flatten()
        {
            paths.push(extra.path.as_path());
        }
        paths
    }
}

/// Stable Diffusion and the optional ControlNet, loaded together.
pub struct DiffusionEngine {
    /// The checkpoint's location.
    pub sd_path: PathBuf,
    /// The ControlNet's location, when one was found.
    pub controlnet_path: Option<PathBuf>,
    /// The Stable Diffusion checkpoint.
    pub sd: StableDiffusion,
    /// The ControlNet, if one was found.
    pub controlnet: Option<ControlNet>,
    /// TAESD, when one was found and loaded.
    pub taesd: Option<Taesd>,
    /// Why previews and drafts use the latent projection and the VAE
    /// (no TAESD found, or it failed to load).
    pub taesd_notice: Option<String>,
    /// The LCM-LoRA merged into the UNet and text encoder (draft engines).
    pub lcm_lora_path: Option<PathBuf>,
}

impl DiffusionEngine {
    /// Loads the models (f32 on the CPU, f16 on a GPU), with the LCM-LoRA
    /// merged when one is given. A TAESD that fails to load is left out
    /// (with [`DiffusionEngine::taesd_notice`] saying why).
    pub fn load(sources: &DiffusionSources, device: &Device) -> anyhow::Result<Self> {
        let dtype = crate::ml::dtype_for(device);
        let sd = &sources.sd;
        let controlnet = sources.controlnet.as_ref();
        let loras = match &sources.lcm_lora {
            Some(l) => vec![(Arc::new(load_lcm_lora(&l.path, &sd.path)?), 1.0)],
            None => Vec::new(),
        };
        let mut model = StableDiffusion::load_diffusers_with_loras(&sd.path, dtype, device, &loras)
            .with_context(|| match &sources.lcm_lora {
                Some(l) => format!(
                    "loading Stable Diffusion from {} with the LCM-LoRA {}",
                    sd.path.display(),
                    l.path.display()
                ),
                None => format!("loading Stable Diffusion from {}", sd.path.display()),
            })?;
        let (mut taesd, taesd_notice) = load_taesd(sources.taesd.as_ref(), dtype, device);
        let mut cn = controlnet
            .map(|c| {
                ControlNet::load(&c.path, dtype, device)
                    .with_context(|| format!("loading the ControlNet from {}", c.path.display()))
            })
            .transpose()?;
        // Drafts are previews that *Render final* redoes in f32: they take
        // bf16 products where the CPU has them (`ADSTUDIO_BF16=off` not).
        if sources.lcm_lora.is_some() && draft_enabled(Bf16Mode::from_env()) {
            model.set_bf16_operands(true);
            if let Some(cn) = cn.as_mut() {
                cn.set_bf16_operands(true);
            }
            if let Some(taesd) = taesd.as_mut() {
                taesd.set_bf16_operands(true);
            }
        }
        Ok(Self {
            sd_path: sd.path.clone(),
            controlnet_path: controlnet.map(|c| c.path.clone()),
            sd: model,
            controlnet: cn,
            taesd,
            taesd_notice,
            lcm_lora_path: sources.lcm_lora.as_ref().map(|l| l.path.clone()),
        })
    }

    /// The names recorded with every render (folder names).
    pub fn model_ids(&self) -> ModelIds {
        ModelIds {
            checkpoint: display_name(&self.sd_path),
            controlnet: self.controlnet_path.as_deref().map(display_name),
        }
    }

    /// The models as the render function takes them.
    pub fn render_models(&self) -> RenderModels<'_> {
        RenderModels {
            models: self.sd.inpaint_models(self.controlnet.as_ref()),
            scheduler_config: &self.sd.scheduler_config,
            taesd: self.taesd.as_ref(),
        }
    }
}

/// Reads an LCM-LoRA file and refuses one made for another base model
/// (its cross-attention inputs are not as wide as the checkpoint's text
/// embeddings), naming both.
fn load_lcm_lora(path: &std::path::Path, sd: &std::path::Path) -> anyhow::Result<LoraWeights> {
    let lora = LoraWeights::load(path)
        .with_context(|| format!("reading the LCM-LoRA {}", path.display()))?;
    let unet = UNetConfig::from_file(&sd.join("unet").join("config.json"))
        .with_context(|| format!("reading the UNet config of {}", sd.display()))?;
    let want = unet.base.cross_attention_dim;
    let cross = lora.modules().find(|(name, _)| {
        name.contains("attn2") && (name.ends_with("to_k") || name.ends_with("to_v"))
    });
    if let Some((name, module)) = cross {
        let width = module.down.dim(1)?;
        if width != want {
            anyhow::bail!(
                "the LCM-LoRA {} was made for another base model ({}: its cross-attention \
                 module {name} takes {width}-wide text embeddings); the checkpoint {} is {} \
                 ({want}-wide)",
                path.display(),
                base_model_name(width),
                sd.display(),
                base_model_name(want)
            );
        }
    }
    Ok(lora)
}

/// The Stable Diffusion family with text embeddings `width` wide.
fn base_model_name(width: usize) -> &'static str {
    match width {
        768 => "SD 1.x",
        1024 => "SD 2.x",
        2048 => "SDXL",
        _ => "an unknown base model",
    }
}

/// TAESD from `located`, or none with the reason.
fn load_taesd(
    located: Option<&Located>,
    dtype: candle_core::DType,
    device: &Device,
) -> (Option<Taesd>, Option<String>) {
    let Some(located) = located else {
        return (
            None,
            Some("no TAESD model (role taesd): previews use the latent approximation".into()),
        );
    };
    match Taesd::load(&located.path, dtype, device) {
        Ok(t) => (Some(t), None),
        Err(e) => {
            let notice = format!(
                "TAESD {} could not be loaded ({e}): previews use the latent approximation",
                located.path.display()
            );
            log::warn!("{notice}");
            (None, Some(notice))
        }
    }
}

/// A prompt model: text-only (GGUF or Hugging Face folder) or LLaVA.
pub enum PromptBackend {
    /// A text-only decoder.
    Text(Box<PromptModel>),
    /// LLaVA: sees the product image.
    Image(Box<MultimodalPromptModel>),
}

/// The prompt model and the tokenizer that counts prompt tokens.
pub struct PromptEngine {
    /// Where it came from.
    pub path: PathBuf,
    /// The model.
    pub backend: PromptBackend,
    /// Counts tokens as the renderer will (the SD checkpoint's CLIP
    /// tokenizer when one is installed, else the model's own).
    pub counter: Box<dyn TokenCounter + Send>,
    /// The adapter applied now (id and file), if any.
    adapter: Option<(AdapterId, PathBuf)>,
    /// The model's id and weights hash, measured on first need.
    base: Option<BaseModel>,
}

impl PromptEngine {
    /// Loads the prompt model; `sd` (when found) lends its CLIP tokenizer.
    pub fn load(model: &Located, sd: Option<&Located>, device: &Device) -> anyhow::Result<Self> {
        let loading = || format!("loading the prompt model {}", model.path.display());
        let (backend, own): (PromptBackend, Box<dyn TokenCounter + Send>) =
            if is_llava_folder(&model.path) {
                let m = MultimodalPromptModel::load(&model.path, device).with_context(loading)?;
                let tokenizer = m.tokenizer().clone();
                (PromptBackend::Image(Box::new(m)), Box::new(tokenizer))
            } else {
                let m = PromptModel::load(&model.path, &LoadOptions::default())
                    .with_context(loading)?;
                let tokenizer = m.tokenizer().clone();
                (PromptBackend::Text(Box::new(m)), Box::new(tokenizer))
            };
        let clip = sd.and_then(|sd| {
            tokenizers::Tokenizer::from_file(sd.path.join("tokenizer/tokenizer.json")).ok()
        });
        let counter = match clip {
            Some(clip) => Box::new(clip) as Box<dyn TokenCounter + Send>,
            None => own,
        };
        Ok(Self {
            path: model.path.clone(),
            backend,
            counter,
            adapter: None,
            base: None,
        })
    }

    /// The id and weights hash of the loaded model (hashed once).
    pub fn base_model(&mut self) -> anyhow::Result<BaseModel> {
        if let Some(base) = &self.base {
            return Ok(base.clone());
        }
        let base = BaseModel::of(&self.path)
            .with_context(|| format!("hashing the prompt model {}", self.path.display()))?;
        self.base = Some(base.clone());
        Ok(base)
    }

    /// The adapter applied now, if any.
    pub fn adapter(&self) -> Option<AdapterId> {
        self.adapter.as_ref().map(|(id, _)| *id)
    }

    /// Applies `adapter` (`None`: the base model alone). Nothing is reloaded
    /// while the same adapter stays active. An adapter recorded for another
    /// base model (by weights hash) is refused, the error naming both, and
    /// the model is left without any adapter.
    pub fn use_adapter(&mut self, adapter: Option<&ActiveAdapter>) -> anyhow::Result<()> {
        let wanted = adapter.map(|a| (a.id, a.path.clone()));
        if self.adapter == wanted {
            return Ok(());
        }
        self.backend.decoder_mut().remove_lora();
        self.adapter = None;
        let Some(active) = adapter else {
            return Ok(());
        };
        let actual = self.base_model()?;
        let decoder = self.backend.decoder_mut();
        if let Err(err) = load_adapter_for(decoder, &active.path, &active.recorded, &actual) {
            decoder.remove_lora();
            return Err(anyhow::Error::new(err).context(format!(
                "applying adapter {:?} ({})",
                active.name,
                active.path.display()
            )));
        }
        self.adapter = wanted;
        Ok(())
    }
}

impl PromptBackend {
    /// The language model's decoder.
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        match self {
            PromptBackend::Text(model) => model.decoder_mut(),
            PromptBackend::Image(model) => model.llava_mut().decoder_mut(),
        }
    }
}

/// The compact reward model and its checkpoint's metadata.
pub struct RewardEngine {
    /// The checkpoint file.
    pub path: PathBuf,
    /// The model.
    pub model: CompactRewardModel,
    /// What the checkpoint says about itself.
    pub meta: CheckpointMeta,
}

impl RewardEngine {
    /// Loads the checkpoint.
    pub fn load(located: &Located, device: &Device) -> anyhow::Result<Self> {
        let (model, meta) = load_compact(&located.path, device)
            .with_context(|| format!("loading the reward model {}", located.path.display()))?;
        Ok(Self {
            path: located.path.clone(),
            model,
            meta,
        })
    }

    /// The id recorded with every score.
    pub fn model_id(&self) -> String {
        format!(
            "compact-rm:{}@epoch{}",
            display_name(&self.path),
            self.meta.epoch
        )
    }
}
