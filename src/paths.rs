//! Where adstudio keeps its data.
//!
//! One data directory holds the SQLite database and the content-addressed
//! image files. It is chosen, in this order, from the CLI's `--data-dir`
//! option, the `ADSTUDIO_DATA_DIR` environment variable, and the platform's
//! per-user data directory (for example `~/.local/share/adstudio` on Linux).
//!
//! The store itself is, by default, the SQLite file in that directory; the
//! CLI's global `--store URL` (or `ADSTUDIO_STORE`, see
//! [`set_store_override`]) or the studio's setting selects another one,
//! e.g. a shared PostgreSQL database. Images stay under the data directory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::store::StoreLocation;

/// The store named on the command line (`--store` / `ADSTUDIO_STORE`), set
/// once by the binary before any command runs.
static STORE_OVERRIDE: OnceLock<StoreLocation> = OnceLock::new();

/// Makes every [`DataDir::resolve`] of this process use `location` as its
/// store (the CLI's `--store`). Only the first call has an effect.
pub fn set_store_override(location: StoreLocation) {
    if STORE_OVERRIDE.set(location).is_err() {
        log::warn!("the store override was already set; keeping the first one");
    }
}

/// Environment variable that overrides the platform data directory.
pub const DATA_DIR_ENV: &str = "ADSTUDIO_DATA_DIR";

/// File name of the SQLite database inside the data directory.
pub const DATABASE_FILE_NAME: &str = "adstudio.sqlite3";

/// Errors while choosing or creating the data directory.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// Neither an override nor a platform data directory is available
    /// (no home directory could be determined).
    #[error(
        "no data directory: pass --data-dir or set {DATA_DIR_ENV} \
         (the platform data directory could not be determined)"
    )]
    NoPlatformDir,
    /// The chosen directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    Create {
        /// The directory that could not be created.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The chosen path exists but is not a directory.
    #[error("data directory {path} exists but is not a directory")]
    NotADirectory {
        /// The offending path.
        path: PathBuf,
    },
}

/// The directory that holds adstudio's database, images and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
    store: Option<StoreLocation>,
}

impl DataDir {
    /// Chooses the data directory and creates it if needed.
    ///
    /// Order: `cli_override` (the CLI's `--data-dir`), then the
    /// [`DATA_DIR_ENV`] environment variable (ignored when empty), then the
    /// platform data directory for "adstudio".
    pub fn resolve(cli_override: Option<PathBuf>) -> Result<DataDir, PathsError> {
        let env_value = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let root = match cli_override.or(env_value) {
            Some(path) => path,
            None => directories::ProjectDirs::from("", "", "adstudio")
                .map(|dirs| dirs.data_dir().to_path_buf())
                .ok_or(PathsError::NoPlatformDir)?,
        };
        let mut dir = DataDir::at(root)?;
        dir.store = STORE_OVERRIDE.get().cloned();
        Ok(dir)
    }

    /// Uses exactly `path` as the data directory, creating it if needed.
    /// Meant for tests and for callers that already know the location.
    pub fn at(path: impl Into<PathBuf>) -> Result<DataDir, PathsError> {
        let root = path.into();
        if root.exists() && !root.is_dir() {
            return Err(PathsError::NotADirectory { path: root });
        }
        std::fs::create_dir_all(&root).map_err(|source| PathsError::Create {
            path: root.clone(),
            source,
        })?;
        Ok(DataDir { root, store: None })
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of the SQLite database (`<root>/adstudio.sqlite3`).
    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE_NAME)
    }

    /// The same directory with its store at `location` (`None`: the SQLite
    /// file inside it).
    pub fn with_store(mut self, location: Option<StoreLocation>) -> DataDir {
        self.store = location;
        self
    }

    /// Whether a store other than the default file was chosen (by
    /// `--store`, `ADSTUDIO_STORE` or [`DataDir::with_store`]).
    pub fn has_store_override(&self) -> bool {
        self.store.is_some()
    }

    /// The store to open: the chosen one, else the SQLite file
    /// [`DataDir::database_path`].
    pub fn store_location(&self) -> StoreLocation {
        self.store
            .clone()
            .unwrap_or_else(|| StoreLocation::Sqlite(self.database_path()))
    }

    /// Directory of the content-addressed image files (`<root>/images`).
    /// Not created here; the image store creates it on first write.
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    /// Default directory for exported images and metadata (`<root>/exports`).
    /// Not created here; exporters create it when they write.
    pub fn exports_dir(&self) -> PathBuf {
        self.root.join("exports")
    }

    /// `<root>/models`: where downloaded or copied model weights live.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }
}
