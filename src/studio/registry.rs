//! The model registry: where each model role is found.
//!
//! One rule for every role: an explicit path (command-line flag or a
//! setting) > the role's environment variable > `<data dir>/models/ROLE` >
//! `./models/ROLE`. An explicit path or a set variable that does not hold a
//! usable model is an error (it is never skipped silently); a models folder
//! without the role is skipped. The registry only finds models; loading and
//! caching are [`ModelHub`](super::ModelHub)'s job.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::roles;

/// What a model is for. Each role has one folder name, one environment
/// variable and one rule for what a usable model looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelRole {
    /// Stable Diffusion 1.5 (diffusers folder).
    Sd15,
    /// The 9-channel SD 1.5 inpainting UNet (a folder with `unet/`).
    Sd15Inpaint,
    /// ControlNet canny for SD 1.5 (diffusers folder).
    ControlnetCanny,
    /// LCM-LoRA for SD 1.5 (a `.safetensors` LoRA).
    LcmLora,
    /// TAESD, the tiny autoencoder for previews (diffusers folder).
    Taesd,
    /// The prompt model: a GGUF file or a Hugging Face folder.
    PromptModel,
    /// The compact reward-model checkpoint (`.safetensors`).
    RewardModel,
    /// U²-Net-p salient-object model (`u2netp.onnx`).
    U2netp,
    /// The relevance model: all-MiniLM-L6-v2 sentence embeddings (a folder
    /// with config.json, tokenizer.json and safetensors).
    Relevance,
    /// A CLIP vision tower for the reward model (Hugging Face CLIP folder).
    ClipVision,
}

impl ModelRole {
    /// Every role, in display order.
    pub const ALL: [ModelRole; 10] = [
        ModelRole::Sd15,
        ModelRole::Sd15Inpaint,
        ModelRole::ControlnetCanny,
        ModelRole::LcmLora,
        ModelRole::Taesd,
        ModelRole::PromptModel,
        ModelRole::RewardModel,
        ModelRole::ClipVision,
        ModelRole::U2netp,
        ModelRole::Relevance,
    ];

    /// The role's name: its folder under a models directory.
    pub fn name(self) -> &'static str {
        match self {
            ModelRole::Sd15 => "sd15",
            ModelRole::Sd15Inpaint => "sd15-inpaint",
            ModelRole::ControlnetCanny => "controlnet-canny",
            ModelRole::LcmLora => "lcm-lora",
            ModelRole::Taesd => "taesd",
            ModelRole::ClipVision => "clip-vision",
            ModelRole::PromptModel => "prompt-model",
            ModelRole::RewardModel => "reward-model",
            ModelRole::U2netp => "u2netp",
            ModelRole::Relevance => "minilm",
        }
    }

    /// The environment variable that points at the role's model.
    pub fn env_var(self) -> &'static str {
        match self {
            ModelRole::Sd15 => "ADSTUDIO_SD15",
            ModelRole::Sd15Inpaint => "ADSTUDIO_SD15_INPAINT",
            ModelRole::ControlnetCanny => "ADSTUDIO_CONTROLNET_CANNY",
            ModelRole::LcmLora => "ADSTUDIO_LCM_LORA",
            ModelRole::Taesd => "ADSTUDIO_TAESD",
            ModelRole::ClipVision => "ADSTUDIO_CLIP_VISION",
            ModelRole::PromptModel => "ADSTUDIO_PROMPT_MODEL",
            ModelRole::RewardModel => "ADSTUDIO_REWARD_MODEL",
            ModelRole::U2netp => "ADSTUDIO_U2NETP_ONNX",
            ModelRole::Relevance => "ADSTUDIO_MINILM",
        }
    }

    /// The role named `name` (as [`ModelRole::name`] spells it).
    pub fn parse(name: &str) -> Option<ModelRole> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What belongs at the role's path, for messages.
    pub fn expects(self) -> &'static str {
        roles::expects(self)
    }
}

impl fmt::Display for ModelRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which step of the lookup rule found a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A path given on the command line or in a setting.
    Explicit,
    /// The role's environment variable.
    Env,
    /// `<data dir>/models/ROLE`.
    DataDir,
    /// `./models/ROLE`.
    WorkingDir,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Explicit => "explicit path",
            Origin::Env => "environment variable",
            Origin::DataDir => "data directory",
            Origin::WorkingDir => "working directory",
        })
    }
}

/// A model that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Its role.
    pub role: ModelRole,
    /// The model file or folder itself (e.g. the `.gguf` inside
    /// `prompt-model/`).
    pub path: PathBuf,
    /// Which rule found it.
    pub origin: Origin,
}

impl Located {
    /// A short name for records and messages (file or folder name).
    pub fn id(&self) -> String {
        super::display_name(&self.path)
    }
}

/// Why a role has no usable model: every place looked at, and what was
/// wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", missing_message(self))]
pub struct MissingModel {
    /// The role.
    pub role: ModelRole,
    /// Where the model should go (the first models folder).
    pub expected: PathBuf,
    /// Each place looked at, with what was wrong ("not there" included).
    pub tried: Vec<(Origin, PathBuf, String)>,
}

fn missing_message(m: &MissingModel) -> String {
    let tried: Vec<String> = m
        .tried
        .iter()
        .map(|(origin, path, why)| format!("{} ({origin}): {why}", path.display()))
        .collect();
    format!(
        "no {} model: put {} at {} or set {} (looked at: {})",
        m.role,
        m.role.expects(),
        m.expected.display(),
        m.role.env_var(),
        if tried.is_empty() {
            "nothing".to_string()
        } else {
            tried.join("; ")
        }
    )
}

/// The state of one role, for a model manager or a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStatus {
    /// The role.
    pub role: ModelRole,
    /// Where it was found, or what is missing.
    pub found: Result<Located, MissingModel>,
}

/// Finds models by role (see the module docs for the rule).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelRegistry {
    explicit: HashMap<ModelRole, PathBuf>,
    env: HashMap<ModelRole, PathBuf>,
    data_models: Option<PathBuf>,
    working_models: Option<PathBuf>,
}

impl ModelRegistry {
    /// The registry of a run: the roles' environment variables, then
    /// `data_models` (`<data dir>/models`), then `./models`.
    pub fn from_env(data_models: Option<PathBuf>) -> Self {
        let env = ModelRole::ALL
            .into_iter()
            .filter_map(|role| {
                let value = std::env::var_os(role.env_var()).filter(|v| !v.is_empty())?;
                Some((role, PathBuf::from(value)))
            })
            .collect();
        Self {
            explicit: HashMap::new(),
            env,
            data_models,
            working_models: Some(PathBuf::from("models")),
        }
    }

    /// A registry that reads no environment: only the given models folders
    /// (for tests and for callers that manage paths themselves).
    pub fn with_dirs(data_models: Option<PathBuf>, working_models: Option<PathBuf>) -> Self {
        Self {
            data_models,
            working_models,
            ..Self::default()
        }
    }

    /// Points `role` at `path` (a command-line flag or a setting); it wins
    /// over every other rule.
    pub fn set_explicit(&mut self, role: ModelRole, path: impl Into<PathBuf>) {
        self.explicit.insert(role, path.into());
    }

    /// [`ModelRegistry::set_explicit`] when `path` is given.
    pub fn with_explicit(mut self, role: ModelRole, path: Option<&Path>) -> Self {
        if let Some(path) = path {
            self.set_explicit(role, path);
        }
        self
    }

    /// Sets the value the role's environment variable would have.
    pub fn set_env(&mut self, role: ModelRole, path: impl Into<PathBuf>) {
        self.env.insert(role, path.into());
    }

    /// The models folders searched after the explicit path and the
    /// environment, in order.
    pub fn model_dirs(&self) -> Vec<PathBuf> {
        self.data_models
            .iter()
            .chain(self.working_models.iter())
            .cloned()
            .collect()
    }

    /// Where a model of `role` belongs in the first models folder (where
    /// training writes and where a user is told to put it).
    pub fn install_dir(&self, role: ModelRole) -> PathBuf {
        self.model_dirs()
            .into_iter()
            .next()
            .unwrap_or_else(|| PathBuf::from("models"))
            .join(role.name())
    }

    /// The places looked at for `role`, in order.
    pub fn candidates(&self, role: ModelRole) -> Vec<(Origin, PathBuf)> {
        let mut out = Vec::new();
        if let Some(p) = self.explicit.get(&role) {
            out.push((Origin::Explicit, p.clone()));
        }
        if let Some(p) = self.env.get(&role) {
            out.push((Origin::Env, p.clone()));
        }
        if let Some(d) = &self.data_models {
            out.push((Origin::DataDir, d.join(role.name())));
        }
        if let Some(d) = &self.working_models {
            out.push((Origin::WorkingDir, d.join(role.name())));
        }
        out
    }

    /// Finds the model of `role`. An explicit path or environment variable
    /// that holds no usable model is an error, not skipped.
    pub fn locate(&self, role: ModelRole) -> Result<Located, MissingModel> {
        let mut tried = Vec::new();
        for (origin, path) in self.candidates(role) {
            match roles::resolve(role, &path) {
                Ok(resolved) => {
                    return Ok(Located {
                        role,
                        path: resolved,
                        origin,
                    })
                }
                Err(why) => {
                    let stop = matches!(origin, Origin::Explicit | Origin::Env);
                    tried.push((origin, path, why));
                    if stop {
                        break;
                    }
                }
            }
        }
        Err(MissingModel {
            role,
            expected: self.install_dir(role),
            tried,
        })
    }

    /// Every role's state: found where, or missing what.
    pub fn status(&self) -> Vec<RoleStatus> {
        ModelRole::ALL
            .into_iter()
            .map(|role| RoleStatus {
                role,
                found: self.locate(role),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn the_rule_is_explicit_then_env_then_data_dir_then_working_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let (data, cwd) = (tmp.path().join("data"), tmp.path().join("cwd"));
        let mut reg = ModelRegistry::with_dirs(Some(data.clone()), Some(cwd.clone()));
        touch(&cwd.join("u2netp/u2netp.onnx"));
        let found = reg.locate(ModelRole::U2netp).unwrap();
        assert_eq!(found.origin, Origin::WorkingDir);
        assert_eq!(found.path, cwd.join("u2netp/u2netp.onnx"));
        touch(&data.join("u2netp/u2netp.onnx"));
        assert_eq!(
            reg.locate(ModelRole::U2netp).unwrap().origin,
            Origin::DataDir
        );
        let env_file = tmp.path().join("env.onnx");
        touch(&env_file);
        reg.set_env(ModelRole::U2netp, &env_file);
        assert_eq!(reg.locate(ModelRole::U2netp).unwrap().path, env_file);
        let explicit = tmp.path().join("mine.onnx");
        touch(&explicit);
        reg.set_explicit(ModelRole::U2netp, &explicit);
        let found = reg.locate(ModelRole::U2netp).unwrap();
        assert_eq!((found.origin, found.path), (Origin::Explicit, explicit));
    }

    #[test]
    fn a_wrong_explicit_path_is_an_error_not_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("cwd");
        touch(&cwd.join("u2netp/u2netp.onnx"));
        let mut reg = ModelRegistry::with_dirs(None, Some(cwd));
        reg.set_explicit(ModelRole::U2netp, tmp.path().join("nope.onnx"));
        let err = reg.locate(ModelRole::U2netp).unwrap_err();
        assert_eq!(err.tried.len(), 1);
        let text = err.to_string();
        assert!(text.contains("nope.onnx"), "{text}");
        assert!(text.contains("ADSTUDIO_U2NETP_ONNX"), "{text}");
    }

    #[test]
    fn missing_models_name_every_place_and_what_is_lacking() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        touch(&data.join("sd15/unet/config.json"));
        let reg = ModelRegistry::with_dirs(Some(data.clone()), Some(tmp.path().join("cwd")));
        let err = reg.locate(ModelRole::Sd15).unwrap_err();
        assert_eq!(err.expected, data.join("sd15"));
        let text = err.to_string();
        assert!(
            text.contains("vae, text_encoder, scheduler, tokenizer"),
            "{text}"
        );
        let status = reg.status();
        assert_eq!(status.len(), ModelRole::ALL.len());
        assert!(status.iter().all(|s| s.found.is_err()));
        assert_eq!(
            ModelRole::parse("controlnet-canny"),
            Some(ModelRole::ControlnetCanny)
        );
        assert_eq!(ModelRole::parse("nope"), None);
    }
}
