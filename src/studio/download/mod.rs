//! Model downloads from the Hugging Face hub: a manifest entry's files into
//! the `hf-hub` cache, checked, then linked into the role's folder
//! (`<data dir>/models/ROLE/`) where the registry finds them.
//!
//! Nothing partial is ever where a model is loaded from: files arrive in
//! the cache as `.part`, become blobs only after their size and checksum
//! match, and the role's folder is put in place in one rename after every
//! file of the entry is there. `verify` re-checks an installed folder
//! against the record written next to it.

pub mod checksum;
mod error;
mod http;
mod install;
mod settings;
mod transfer;

pub use error::{FetchError, Offline};
pub use install::{
    fetch_entry, installed_record, missing_files, verify_installed, FetchOptions, InstallRecord,
    Installed, RECORD_FILE,
};
pub use settings::{HubSettings, DEFAULT_ENDPOINT};

/// What a fetch reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// A file was already in the cache and checked out.
    Reused {
        /// Path in the repository.
        file: String,
        /// Its size.
        size: u64,
    },
    /// A download started (or resumed from `resumed_from` bytes).
    Started {
        /// Path in the repository.
        file: String,
        /// Its size.
        total: u64,
        /// Bytes already there from an earlier attempt.
        resumed_from: u64,
    },
    /// Bytes arrived.
    Progress {
        /// Path in the repository.
        file: String,
        /// Bytes now there.
        done: u64,
        /// Its size.
        total: u64,
    },
    /// The connection ended early; the transfer goes on from `at`.
    Resumed {
        /// Path in the repository.
        file: String,
        /// The offset asked for next.
        at: u64,
    },
    /// A downloaded file matched its checksum.
    Verified {
        /// Path in the repository.
        file: String,
        /// Its sha256.
        sha256: String,
    },
    /// The role's folder is in place.
    Installed {
        /// The folder.
        dir: std::path::PathBuf,
    },
}
