//! Whether rendering is possible, as the render panel shows it.

use std::path::PathBuf;

use crate::studio::{MissingModel, RoleStatus};

/// The diffusion models' state, from the model registry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DiffusionAvailability {
    /// The registry has not been asked yet.
    #[default]
    Checking,
    /// No usable Stable Diffusion model was found.
    Missing {
        /// Where the checkpoint is expected (the first models folder).
        expected: PathBuf,
        /// What is missing or wrong, everywhere it was looked for.
        reason: String,
    },
    /// The models are there (loaded by the first render).
    Ready {
        /// The checkpoint's name.
        checkpoint: String,
        /// The ControlNet's name, when one was found.
        controlnet: Option<String>,
        /// TAESD's name (full-size previews, draft decoding), when found.
        taesd: Option<String>,
        /// The LCM-LoRA's name (drafts), when found.
        lcm_lora: Option<String>,
    },
}

impl DiffusionAvailability {
    /// Why a draft cannot run (no LCM-LoRA), when models are ready.
    pub fn draft_blocker(&self) -> Option<String> {
        match self {
            DiffusionAvailability::Ready { lcm_lora: None, .. } => Some(
                "A draft needs an LCM-LoRA for SD 1.5 (model role lcm-lora, \
                 e.g. models/lcm-lora/pytorch_lora_weights.safetensors)."
                    .into(),
            ),
            _ => None,
        }
    }

    /// The availability the registry's status gives.
    pub fn from_status(status: &[RoleStatus]) -> Self {
        use crate::studio::ModelRole;
        let find = |role| status.iter().find(|s| s.role == role).map(|s| &s.found);
        let found = |role| find(role).and_then(|c| c.as_ref().ok()).map(|c| c.id());
        match find(ModelRole::Sd15) {
            Some(Ok(sd)) => DiffusionAvailability::Ready {
                checkpoint: sd.id(),
                controlnet: found(ModelRole::ControlnetCanny),
                taesd: found(ModelRole::Taesd),
                lcm_lora: found(ModelRole::LcmLora),
            },
            Some(Err(missing)) => Self::missing(missing),
            None => DiffusionAvailability::Checking,
        }
    }

    fn missing(missing: &MissingModel) -> Self {
        DiffusionAvailability::Missing {
            expected: missing.expected.clone(),
            reason: missing.to_string(),
        }
    }
}
