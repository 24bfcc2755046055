//! The Adapters section's state: the stored PCPO adapters as last listed
//! (read on the studio worker). Which one is active is a [`UiPrefs`]
//! setting (`prompt_adapter`).
//!
//! [`UiPrefs`]: super::UiPrefs

use crate::jobs::JobId;
use crate::studio::AdapterInfo;

/// The Adapters section's state (runtime only).
#[derive(Debug, Clone, Default)]
pub struct AdaptersState {
    /// The stored adapters, newest first.
    pub listed: Vec<AdapterInfo>,
    /// Whether a listing arrived since the start.
    pub loaded: bool,
    /// The listing job, while it runs.
    pub job: Option<JobId>,
    /// Why the last listing failed.
    pub error: Option<String>,
}

impl AdaptersState {
    /// The listed adapter named `name`.
    pub fn named(&self, name: &str) -> Option<&AdapterInfo> {
        self.listed.iter().find(|a| a.name == name)
    }
}
