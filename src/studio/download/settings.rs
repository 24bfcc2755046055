//! Where downloads come from and go: the hub endpoint, the token and the
//! cache folder, read through `hf-hub` from `HF_ENDPOINT`, `HF_HOME` (and
//! its `token` file) and `HF_TOKEN`, plus the network timeouts.

use std::time::Duration;

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};

/// The default hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Connection settings of the downloads.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// The hub (`HF_ENDPOINT`, default [`DEFAULT_ENDPOINT`]).
    pub endpoint: String,
    /// The download cache (`$HF_HOME/hub`, default `~/.cache/huggingface/hub`).
    pub cache: Cache,
    /// Sent as `Authorization: Bearer` (`HF_TOKEN`, else `$HF_HOME/token`).
    pub token: Option<String>,
    /// Connect timeout of every request.
    pub connect_timeout: Duration,
    /// Whole-request budget of a metadata request (the first contact, so
    /// an unreachable hub is reported within it).
    pub metadata_timeout: Duration,
    /// How long a transfer may go without data before it counts as
    /// stalled (one ranged request's body budget).
    pub stall_timeout: Duration,
    /// Bytes asked for per ranged request.
    pub chunk_bytes: u64,
}

impl HubSettings {
    /// The settings of this process's environment.
    pub fn from_env() -> Self {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let cache = Cache::from_env();
        let token = std::env::var("HF_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| cache.token());
        Self::new(&endpoint, cache, token)
    }

    /// Settings for `endpoint`, downloading into `cache` (e.g.
    /// `Cache::new(hf_home.join("hub"))`), sending `token`.
    pub fn new(endpoint: &str, cache: Cache, token: Option<String>) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            cache,
            token,
            connect_timeout: Duration::from_secs(4),
            metadata_timeout: Duration::from_secs(8),
            stall_timeout: Duration::from_secs(15),
            chunk_bytes: 64 << 20,
        }
    }

    /// The hub repository at `revision`.
    pub fn repo(&self, repo: &str, revision: &str) -> Repo {
        Repo::with_revision(repo.to_string(), RepoType::Model, revision.to_string())
    }

    /// The download URL of `file` (hf-hub's `resolve` URL layout).
    pub fn file_url(&self, repo: &Repo, file: &str) -> String {
        match ApiBuilder::from_cache(self.cache.clone())
            .with_endpoint(self.endpoint.clone())
            .with_progress(false)
            .build()
        {
            Ok(api) => api.repo(repo.clone()).url(file),
            // Building only fails for TLS setup problems; the URL layout is
            // the same without it.
            Err(_) => format!(
                "{}/{}/resolve/{}/{file}",
                self.endpoint,
                repo.url(),
                repo.url_revision()
            ),
        }
    }
}
