//! The model hub: the registry plus one lazily filled cache per loaded
//! model kind, all under the same reload rule ([`Fingerprint`]: path and
//! modification time). The GUI's workers and the CLI share this one type;
//! the GUI shares one hub between its workers (`Arc<ModelHub>`).

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use candle_core::Device;
use image::{GrayImage, RgbaImage};

use crate::ml::relevance::RelevanceModel;
use crate::ml::saliency::SaliencyModel;
use crate::product::{ProductError, SalientObjectMasker};

use super::cache::{Fingerprint, ModelCache};
use super::engines::{DiffusionEngine, DiffusionSources, PromptEngine, RewardEngine};
use super::registry::{Located, MissingModel, ModelRegistry, ModelRole, RoleStatus};

/// Finds, loads and keeps models (see the module docs).
pub struct ModelHub {
    registry: RwLock<ModelRegistry>,
    device: Device,
    diffusion: Mutex<ModelCache<DiffusionEngine>>,
    prompt: Mutex<ModelCache<PromptEngine>>,
    reward: Mutex<ModelCache<RewardEngine>>,
    saliency: Mutex<ModelCache<SaliencyModel>>,
    relevance: Mutex<ModelCache<RelevanceModel>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a cache was held leaves at worst an empty or complete
    // slot: both are valid.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ModelHub {
    /// A hub over `registry`, computing on the process's device
    /// ([`crate::ml::device::process_device`]: the CPU unless `--device`
    /// or the studio's setting chose another).
    pub fn new(registry: ModelRegistry) -> Self {
        Self::with_device(registry, crate::ml::device::process_device())
    }

    /// A hub over `registry` computing on `device`.
    pub fn with_device(registry: ModelRegistry, device: Device) -> Self {
        Self {
            registry: RwLock::new(registry),
            device,
            diffusion: Mutex::default(),
            prompt: Mutex::default(),
            reward: Mutex::default(),
            saliency: Mutex::default(),
            relevance: Mutex::default(),
        }
    }

    /// The device models load on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Refuses to load `what` from `paths` when its estimated size (in the
    /// device's dtype) exceeds the available memory; logs the estimate.
    fn check_memory(&self, what: &str, paths: &[&std::path::Path]) -> anyhow::Result<()> {
        let dtype = crate::ml::dtype_for(&self.device);
        let needed: u64 = paths
            .iter()
            .map(|p| crate::ml::memory::estimate_loaded_bytes(p, dtype))
            .sum();
        let Some(available) = crate::ml::memory::available_memory() else {
            log::info!("{what}: needs about {}", crate::ml::memory::gib(needed));
            return Ok(());
        };
        log::info!(
            "{what}: needs about {} of {} available",
            crate::ml::memory::gib(needed),
            crate::ml::memory::gib(available)
        );
        crate::ml::memory::check_fits(what, needed, available, dtype)?;
        Ok(())
    }

    /// A copy of the registry.
    pub fn registry(&self) -> ModelRegistry {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the registry (e.g. a setting pointed a role elsewhere);
    /// models load again from their new places on next use.
    pub fn set_registry(&self, registry: ModelRegistry) {
        *self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner) = registry;
    }

    /// Finds the model of `role`.
    pub fn locate(&self, role: ModelRole) -> Result<Located, MissingModel> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .locate(role)
    }

    /// Every role's state.
    pub fn status(&self) -> Vec<RoleStatus> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .status()
    }

    /// Runs `f` with the diffusion models (Stable Diffusion and, when
    /// found, the ControlNet and TAESD), loading them first if needed.
    pub fn with_diffusion<T>(&self, f: impl FnOnce(&DiffusionEngine) -> T) -> anyhow::Result<T> {
        self.with_diffusion_engine(false, f)
    }

    /// Runs `f` with the draft models: [`ModelHub::with_diffusion`]'s with
    /// the LCM-LoRA (role `lcm-lora`, required) merged at load. One
    /// diffusion engine is kept at a time: switching between drafts and
    /// full renders reloads.
    pub fn with_draft_diffusion<T>(
        &self,
        f: impl FnOnce(&DiffusionEngine) -> T,
    ) -> anyhow::Result<T> {
        self.with_diffusion_engine(true, f)
    }

    /// Where the diffusion models are (with the LCM-LoRA for drafts).
    pub fn diffusion_sources(&self, draft: bool) -> anyhow::Result<DiffusionSources> {
        Ok(DiffusionSources {
            sd: self.locate(ModelRole::Sd15)?,
            controlnet: self.locate(ModelRole::ControlnetCanny).ok(),
            taesd: self.locate(ModelRole::Taesd).ok(),
            lcm_lora: if draft {
                Some(self.locate(ModelRole::LcmLora).map_err(|e| {
                    anyhow::Error::new(e).context("a draft needs an LCM-LoRA (model role lcm-lora)")
                })?)
            } else {
                None
            },
        })
    }

    fn with_diffusion_engine<T>(
        &self,
        draft: bool,
        f: impl FnOnce(&DiffusionEngine) -> T,
    ) -> anyhow::Result<T> {
        let sources = self.diffusion_sources(draft)?;
        let paths = sources.paths();
        let key = Fingerprint::of(&paths);
        let mut cache = lock(&self.diffusion);
        let engine = cache.get_or_load(key, || {
            self.check_memory("Stable Diffusion", &paths)?;
            DiffusionEngine::load(&sources, &self.device)
        })?;
        Ok(f(engine))
    }

    /// Runs `f` with the prompt model, loading it first if needed.
    pub fn with_prompt_model<T>(
        &self,
        f: impl FnOnce(&mut PromptEngine) -> T,
    ) -> anyhow::Result<T> {
        let model = self.locate(ModelRole::PromptModel)?;
        let sd = self.locate(ModelRole::Sd15).ok();
        let key = Fingerprint::of(&[model.path.as_path()]);
        let mut cache = lock(&self.prompt);
        let engine = cache.get_or_load(key, || {
            self.check_memory("the prompt model", &[model.path.as_path()])?;
            PromptEngine::load(&model, sd.as_ref(), &self.device)
        })?;
        Ok(f(engine))
    }

    /// Runs `f` with the reward model, loading it first if needed (a
    /// retrained checkpoint has a new modification time and is reloaded).
    pub fn with_reward_model<T>(&self, f: impl FnOnce(&RewardEngine) -> T) -> anyhow::Result<T> {
        let located = self.locate(ModelRole::RewardModel)?;
        let key = Fingerprint::of(&[located.path.as_path()]);
        let mut cache = lock(&self.reward);
        let engine = cache.get_or_load(key, || RewardEngine::load(&located, &self.device))?;
        Ok(f(engine))
    }

    /// Runs `f` with U²-Net-p, loading it first if needed.
    pub fn with_saliency<T>(&self, f: impl FnOnce(&SaliencyModel) -> T) -> anyhow::Result<T> {
        let located = self.locate(ModelRole::U2netp)?;
        let key = Fingerprint::of(&[located.path.as_path()]);
        let mut cache = lock(&self.saliency);
        let model = cache.get_or_load(key, || {
            SaliencyModel::load(&located.path, &self.device).map_err(|e| {
                anyhow::Error::new(e).context(format!("loading {}", located.path.display()))
            })
        })?;
        Ok(f(model))
    }

    /// Runs `f` with the relevance model (all-MiniLM-L6-v2), loading it
    /// first if needed.
    pub fn with_relevance<T>(&self, f: impl FnOnce(&RelevanceModel) -> T) -> anyhow::Result<T> {
        let located = self.locate(ModelRole::Relevance)?;
        let key = Fingerprint::of(&[located.path.as_path()]);
        let mut cache = lock(&self.relevance);
        let model = cache.get_or_load(key, || {
            RelevanceModel::load(&located.path, &self.device).map_err(|e| {
                anyhow::Error::new(e).context(format!("loading {}", located.path.display()))
            })
        })?;
        Ok(f(model))
    }

    /// Whether a role's model is loaded now.
    pub fn is_loaded(&self, role: ModelRole) -> bool {
        match role {
            ModelRole::Sd15 | ModelRole::ControlnetCanny | ModelRole::Taesd => {
                lock(&self.diffusion).is_loaded()
            }
            ModelRole::PromptModel => lock(&self.prompt).is_loaded(),
            ModelRole::RewardModel => lock(&self.reward).is_loaded(),
            ModelRole::U2netp => lock(&self.saliency).is_loaded(),
            ModelRole::Relevance => lock(&self.relevance).is_loaded(),
            // Loaded by the engines that use them, not cached here.
            ModelRole::Sd15Inpaint | ModelRole::LcmLora | ModelRole::ClipVision => false,
        }
    }

    /// The salient-object masker the product code calls (U²-Net-p through
    /// this hub, loaded on first use: keying serves most studio shots).
    pub fn saliency(&self) -> HubSaliency<'_> {
        HubSaliency(self)
    }
}

/// U²-Net-p through a [`ModelHub`], as the product code's masker.
pub struct HubSaliency<'a>(&'a ModelHub);

impl SalientObjectMasker for HubSaliency<'_> {
    fn salient_mask(&self, rgba: &RgbaImage) -> Result<GrayImage, ProductError> {
        self.0
            .with_saliency(|model| model.salient_mask(rgba))
            .map_err(|e| ProductError::SaliencyUnavailable {
                detail: format!("{e:#}"),
            })?
    }
}
