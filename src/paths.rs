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
//! e.g. a shared PostgreSQL database.
//!
//! The images are in its `images` folder unless `--images` /
//! `ADSTUDIO_IMAGES` names another folder or an `s3://bucket/prefix`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::store::{ImageLocation, ImageStore, StoreError, StoreLocation};

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

/// Environment variable that puts the images elsewhere than the data
/// directory's `images` folder: a folder or `s3://bucket/prefix`.
pub const IMAGES_ENV: &str = "ADSTUDIO_IMAGES";

/// The process's `--images` choice (see [`set_image_location`]).
static IMAGE_LOCATION: OnceLock<ImageLocation> = OnceLock::new();

/// Sets where the images of every [`DataDir::resolve`]d data directory of
/// this process are (the CLI's global `--images`). Only the first call
/// counts; it returns false for later ones.
pub fn set_image_location(location: ImageLocation) -> bool {
    IMAGE_LOCATION.set(location).is_ok()
}

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
    /// [`IMAGES_ENV`] is set to something that is not an image location.
    #[error("{IMAGES_ENV}: {0}")]
    Images(#[source] StoreError),
    /// The chosen path exists but is not a directory.
    #[error("data directory {path} exists but is not a directory")]
    NotADirectory {
        /// The offending path.
        path: PathBuf,
    },
}

/// The location in [`IMAGES_ENV`], when set and not empty.
fn images_from_env() -> Result<Option<ImageLocation>, PathsError> {
    match std::env::var(IMAGES_ENV) {
        Ok(text) if !text.is_empty() => ImageLocation::parse(&text)
            .map(Some)
            .map_err(PathsError::Images),
        _ => Ok(None),
    }
}

/// The directory that holds adstudio's database, images and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
    store: Option<StoreLocation>,
    /// Where the images are when not in `<root>/images`.
    images: Option<ImageLocation>,
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
        let mut data = DataDir::at(root)?;
        data.store = STORE_OVERRIDE.get().cloned();
        data.images = match IMAGE_LOCATION.get() {
            Some(location) => Some(location.clone()),
            None => images_from_env()?,
        };
        Ok(data)
    }

    /// The same data directory with its images at `location`.
    pub fn with_images(mut self, location: ImageLocation) -> DataDir {
        self.images = Some(location);
        self
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
        Ok(DataDir {
            root,
            store: None,
            images: None,
        })
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

    /// Where the images are: `--images` / [`IMAGES_ENV`] when given
    /// (through [`DataDir::resolve`] or [`DataDir::with_images`]), else
    /// the [`DataDir::images_dir`] folder.
    pub fn image_location(&self) -> ImageLocation {
        self.images
            .clone()
            .unwrap_or_else(|| ImageLocation::Folder(self.images_dir()))
    }

    /// `<root>/image-cache`: local copies of a bucket's images.
    pub fn image_cache_dir(&self) -> PathBuf {
        self.root.join("image-cache")
    }

    /// The image store at [`DataDir::image_location`] (a bucket's images
    /// cached in [`DataDir::image_cache_dir`]).
    pub fn image_store(&self) -> Result<ImageStore, StoreError> {
        ImageStore::open(&self.image_location(), self.image_cache_dir())
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
