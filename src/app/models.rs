//! The model worker's side: what it owns ([`ModelResources`]) and what its
//! jobs return ([`ModelOutput`]).
//!
//! Model jobs (renders, and later suggestions and scoring) run on a second
//! worker so that a long render never blocks mask edits on the studio
//! worker. The worker has its own store connection and image store, and
//! keeps loaded models between jobs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::{DType, Device};

use crate::ml::diffusion::{ControlNet, StableDiffusion};
use crate::render::{ModelIds, RenderModels};
use crate::store::{ImageStore, Store};

use super::gallery::LoadedVariant;

/// Folder (under a models directory) of the Stable Diffusion checkpoint.
pub const SD_FOLDER: &str = "sd15";
/// Folder (under a models directory) of the canny ControlNet.
pub const CONTROLNET_FOLDER: &str = "controlnet-canny";

/// Where the diffusion models were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffusionPaths {
    /// The Stable Diffusion diffusers folder.
    pub sd: PathBuf,
    /// The ControlNet diffusers folder, when present.
    pub controlnet: Option<PathBuf>,
}

impl DiffusionPaths {
    /// The names recorded with every render (folder names).
    pub fn model_ids(&self) -> ModelIds {
        ModelIds {
            checkpoint: folder_name(&self.sd),
            controlnet: self.controlnet.as_deref().map(folder_name),
        }
    }
}

/// The first file (by name) in `folder` whose extension is `extension`
/// (case-insensitive); `None` when there is none or the folder cannot be read.
pub fn first_file_with_extension(folder: &Path, extension: &str) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().next()
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Whether rendering is possible, as the render panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DiffusionAvailability {
    /// The models folders have not been searched yet.
    #[default]
    Checking,
    /// No usable Stable Diffusion folder was found.
    Missing {
        /// Where the checkpoint is expected (the first models directory).
        expected: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The models are there (not loaded yet: that happens in the first render).
    Ready(DiffusionPaths),
}

/// Looks for `sd15/` (diffusers layout) and `controlnet-canny/` in each
/// directory in turn; the first directory with a complete `sd15/` wins.
pub fn locate_diffusion(model_dirs: &[PathBuf]) -> DiffusionAvailability {
    let Some(first) = model_dirs.first() else {
        return DiffusionAvailability::Missing {
            expected: PathBuf::from("models").join(SD_FOLDER),
            reason: "no models folder is configured".into(),
        };
    };
    let mut reason = None;
    for dir in model_dirs {
        let sd = dir.join(SD_FOLDER);
        if !sd.is_dir() {
            continue;
        }
        let missing: Vec<&str> = [
            ("unet", "unet/config.json"),
            ("vae", "vae/config.json"),
            ("text_encoder", "text_encoder/config.json"),
            ("scheduler", "scheduler/scheduler_config.json"),
        ]
        .into_iter()
        .filter(|(_, file)| !sd.join(file).is_file())
        .map(|(name, _)| name)
        .chain((!has_tokenizer(&sd)).then_some("tokenizer"))
        .collect();
        if missing.is_empty() {
            let cn = dir.join(CONTROLNET_FOLDER);
            return DiffusionAvailability::Ready(DiffusionPaths {
                sd,
                controlnet: cn.join("config.json").is_file().then_some(cn),
            });
        }
        reason.get_or_insert_with(|| {
            format!(
                "{} lacks {} (a diffusers folder is needed)",
                sd.display(),
                missing.join(", ")
            )
        });
    }
    DiffusionAvailability::Missing {
        expected: first.join(SD_FOLDER),
        reason: reason.unwrap_or_else(|| "no Stable Diffusion 1.5 folder found".into()),
    }
}

fn has_tokenizer(sd: &Path) -> bool {
    let dir = sd.join("tokenizer");
    dir.join("tokenizer.json").is_file() || dir.join("vocab.json").is_file()
}

/// Loaded diffusion models, kept between renders.
pub struct DiffusionEngine {
    /// Where they were loaded from.
    pub paths: DiffusionPaths,
    /// The Stable Diffusion checkpoint.
    pub sd: StableDiffusion,
    /// The ControlNet, if one was found.
    pub controlnet: Option<ControlNet>,
}

impl DiffusionEngine {
    /// Loads both models (f32 on the CPU).
    pub fn load(paths: &DiffusionPaths) -> anyhow::Result<Self> {
        let device = Device::Cpu;
        let sd = StableDiffusion::load_diffusers(&paths.sd, DType::F32, &device)
            .with_context(|| format!("loading Stable Diffusion from {}", paths.sd.display()))?;
        let controlnet = paths
            .controlnet
            .as_ref()
            .map(|dir| {
                ControlNet::load(dir, DType::F32, &device)
                    .with_context(|| format!("loading the ControlNet from {}", dir.display()))
            })
            .transpose()?;
        Ok(Self {
            paths: paths.clone(),
            sd,
            controlnet,
        })
    }

    /// The models as the render function takes them.
    pub fn render_models(&self) -> RenderModels<'_> {
        RenderModels {
            models: self.sd.inpaint_models(self.controlnet.as_ref()),
            scheduler_config: &self.sd.scheduler_config,
        }
    }
}

/// What the model worker owns.
pub struct ModelResources {
    /// Its own connection to the store.
    pub store: Store,
    /// Content-addressed image files.
    pub images: ImageStore,
    /// Directories searched for models, in order.
    pub model_dirs: Vec<PathBuf>,
    /// The diffusion models, loaded by the first render and kept.
    pub diffusion: Option<DiffusionEngine>,
    /// The prompt model, loaded by the first suggestion job and kept.
    pub prompt_model: super::suggest::PromptModelSlot,
    /// The reward model, loaded by the first scoring job and kept.
    pub reward_model: super::scores::RewardModelSlot,
}

impl ModelResources {
    /// Resources with nothing loaded yet.
    pub fn new(store: Store, images: ImageStore, model_dirs: Vec<PathBuf>) -> Self {
        Self {
            store,
            images,
            prompt_model: super::suggest::PromptModelSlot::new(model_dirs.clone()),
            reward_model: super::scores::RewardModelSlot::new(model_dirs.clone()),
            model_dirs,
            diffusion: None,
        }
    }

    /// The diffusion engine for `paths`, loading it (or reloading it when
    /// the paths changed) first.
    pub fn diffusion_engine(&mut self, paths: &DiffusionPaths) -> anyhow::Result<&DiffusionEngine> {
        if self.diffusion.as_ref().is_none_or(|e| &e.paths != paths) {
            // Free the old models before loading new ones.
            self.diffusion = None;
            self.diffusion = Some(DiffusionEngine::load(paths)?);
        }
        self.diffusion
            .as_ref()
            .context("the diffusion engine was not kept after loading")
    }
}

/// What a model job returns.
pub enum ModelOutput {
    /// The result of searching the models folders.
    Diffusion(DiffusionAvailability),
    /// One variant was rendered and saved.
    Rendered(Box<LoadedVariant>),
    /// Background suggestions were written.
    Suggested(super::suggest::SuggestOutcome),
    /// A product's variants were scored (or their stored scores read).
    Scored(Option<Box<super::scores::VariantScores>>),
    /// The reward model was trained and saved.
    Trained(super::training::TrainOutcome),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, "{}").expect("write");
    }

    #[test]
    fn an_incomplete_folder_is_named_with_what_it_lacks() {
        let tmp = tempfile::tempdir().expect("tmp");
        let first = tmp.path().join("a");
        let second = tmp.path().join("b");
        match locate_diffusion(&[first.clone(), second.clone()]) {
            DiffusionAvailability::Missing { expected, .. } => {
                assert_eq!(expected, first.join(SD_FOLDER));
            }
            other => panic!("expected Missing, got {other:?}"),
        }
        touch(&second.join("sd15/unet/config.json"));
        touch(&second.join("sd15/vae/config.json"));
        match locate_diffusion(&[first.clone(), second.clone()]) {
            DiffusionAvailability::Missing { reason, .. } => {
                assert!(
                    reason.contains("text_encoder, scheduler, tokenizer"),
                    "{reason}"
                );
                assert!(reason.contains(&second.join("sd15").display().to_string()));
            }
            other => panic!("expected Missing, got {other:?}"),
        }
        touch(&second.join("sd15/text_encoder/config.json"));
        touch(&second.join("sd15/scheduler/scheduler_config.json"));
        touch(&second.join("sd15/tokenizer/vocab.json"));
        let found = locate_diffusion(&[first.clone(), second.clone()]);
        assert_eq!(
            found,
            DiffusionAvailability::Ready(DiffusionPaths {
                sd: second.join("sd15"),
                controlnet: None,
            })
        );
        touch(&second.join("controlnet-canny/config.json"));
        let DiffusionAvailability::Ready(paths) = locate_diffusion(&[first, second.clone()]) else {
            panic!("expected Ready");
        };
        assert_eq!(paths.controlnet, Some(second.join("controlnet-canny")));
        assert_eq!(
            paths.model_ids(),
            ModelIds {
                checkpoint: "sd15".into(),
                controlnet: Some("controlnet-canny".into()),
            }
        );
    }
}
