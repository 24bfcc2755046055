//! Why a fetch or a verification failed.

use std::path::PathBuf;

/// A download or verification that did not succeed. Every variant names the
/// file or folder concerned; none leaves a partial file where a model is
/// loaded from.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The hub could not be reached (no network, refused, or no answer
    /// within the timeouts). Boxed: it is much larger than the others.
    #[error("{0}")]
    Offline(Box<Offline>),
    /// A downloaded (or cached) file does not have the expected checksum;
    /// it was deleted.
    #[error("checksum mismatch for {file}: expected sha256 {expected}, got {actual}; the file was discarded")]
    ChecksumMismatch {
        /// The file (path in the repository).
        file: String,
        /// The expected digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// A downloaded file does not have the size the hub announced.
    #[error("{file}: got {actual} bytes, the hub announced {expected}; the file was discarded")]
    SizeMismatch {
        /// The file.
        file: String,
        /// Announced size.
        expected: u64,
        /// Received size.
        actual: u64,
    },
    /// The repository has no such file at this revision (HTTP 404).
    #[error("{repo} has no file {file} at revision {revision} (HTTP 404); the manifest entry is out of date")]
    NotInRepo {
        /// Repository id.
        repo: String,
        /// Revision.
        revision: String,
        /// The file.
        file: String,
    },
    /// The hub refused access (gated or private repository).
    #[error("{url}: access refused (HTTP {status}); accept the model's terms on the hub and set HF_TOKEN")]
    Unauthorized {
        /// The URL.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Any other HTTP failure.
    #[error("{url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The transfer stopped making progress.
    #[error(
        "{file}: the download stalled (no data for {seconds} s); run the fetch again to resume"
    )]
    Stalled {
        /// The file.
        file: String,
        /// How long nothing arrived.
        seconds: u64,
    },
    /// The user cancelled.
    #[error("download cancelled; the part already downloaded is kept and resumed next time")]
    Cancelled,
    /// The licence restricts use and was not accepted.
    #[error("{name} is under the {licence} licence, which restricts use; read it on the model card and accept it (--accept-licence, or the model manager's checkbox)")]
    LicenceNotAccepted {
        /// The entry.
        name: String,
        /// Its licence.
        licence: String,
    },
    /// The entry has no hub repository.
    #[error("{name} cannot be fetched from the hub: {hint}")]
    NoHubSource {
        /// The entry.
        name: String,
        /// Where it comes from instead.
        hint: String,
    },
    /// No entry has that name or role.
    #[error("no manifest entry or role {0:?} (see `adstudio models list`)")]
    UnknownEntry(String),
    /// The disk is full.
    #[error(
        "no room left on the disk writing {path}: free space there (the partial download is kept)"
    )]
    NoRoom {
        /// The file being written.
        path: PathBuf,
    },
    /// Another I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The hub's answer lacked something needed.
    #[error("{url}: {reason}")]
    BadResponse {
        /// The URL.
        url: String,
        /// What was missing or malformed.
        reason: String,
    },
    /// The installed model does not match its record.
    #[error("{0}")]
    Verify(String),
}

impl FetchError {
    /// An I/O error on `path` (a full disk gets its own message).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::StorageFull {
            FetchError::NoRoom { path }
        } else {
            FetchError::Io { path, source }
        }
    }
}

/// What an offline fetch reports: the hub, why, and what to put where.
#[derive(Debug, Clone)]
pub struct Offline {
    /// The hub endpoint.
    pub endpoint: String,
    /// The transport error.
    pub reason: String,
    /// The role.
    pub role: String,
    /// The missing files, one per line.
    pub files: String,
    /// The role's folder.
    pub folder: PathBuf,
    /// The command that fetches them.
    pub command: String,
}

impl std::fmt::Display for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let folder = self.folder.display();
        write!(
            f,
            "cannot reach {} ({}).\n{} needs these files, missing from {folder}:\n{}\n\
             Put them there (same layout), or on a machine with internet run `{}` and copy {folder} here.",
            self.endpoint, self.reason, self.role, self.files, self.command
        )
    }
}
