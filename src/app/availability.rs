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
    },
}

impl DiffusionAvailability {
    /// The availability the registry's status gives.
    pub fn from_status(status: &[RoleStatus]) -> Self {
        use crate::studio::ModelRole;
        let find = |role| status.iter().find(|s| s.role == role).map(|s| &s.found);
        match find(ModelRole::Sd15) {
            Some(Ok(sd)) => DiffusionAvailability::Ready {
                checkpoint: sd.id(),
                controlnet: find(ModelRole::ControlnetCanny)
                    .and_then(|c| c.as_ref().ok())
                    .map(|c| c.id()),
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
