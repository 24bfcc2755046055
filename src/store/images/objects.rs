//! The object store behind an [`ImageStore`](super::ImageStore), through
//! the `object_store` crate: a local folder (`LocalFileSystem`, fsynced
//! staged writes published by rename) or an S3-compatible bucket
//! (`AmazonS3`, configured from the `AWS_*` environment). The crate is
//! async; the rest of adstudio is not, so every call is driven to the end
//! on one small private tokio runtime shared by the process.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::runtime::Runtime;

use super::location::ImageLocation;
use crate::store::StoreError;

/// Connect timeout towards a bucket's endpoint: an unreachable endpoint
/// fails within seconds, not minutes.
const CONNECT_TIMEOUT: &str = "3s";
/// Whole-request timeout (images are at most a few MB).
const REQUEST_TIMEOUT: &str = "60s";

/// An image store's objects: where they are and the client that reaches
/// them.
#[derive(Debug)]
pub(super) struct Objects {
    location: ImageLocation,
    store: Arc<dyn ObjectStore>,
    /// The folder's absolute path (folders only): keys are absolute paths.
    folder: Option<PathBuf>,
}

impl Objects {
    /// A local folder (created on the first write).
    pub(super) fn folder(dir: &Path) -> Objects {
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        Objects {
            location: ImageLocation::Folder(dir.to_path_buf()),
            store: Arc::new(LocalFileSystem::new().with_fsync(true)),
            folder: Some(absolute),
        }
    }

    /// The objects at `location`. A bucket needs `AWS_ACCESS_KEY_ID` (or
    /// `AWS_SKIP_SIGNATURE=true`): without them object_store would ask the
    /// cloud's instance metadata service, which is not what a studio
    /// outside the cloud wants.
    /// `settings` are `AWS_*` names and values that override the
    /// environment's.
    pub(super) fn open(
        location: &ImageLocation,
        settings: &[(&str, &str)],
    ) -> Result<Objects, StoreError> {
        let (bucket, _) = match location {
            ImageLocation::Folder(dir) => return Ok(Objects::folder(dir)),
            ImageLocation::S3 { bucket, prefix } => (bucket, prefix),
        };
        let config_err = |message: String| StoreError::ImageStoreConfig {
            url: location.to_string(),
            message,
        };
        let has = |var: &str| {
            settings.iter().any(|(k, v)| *k == var && !v.is_empty())
                || std::env::var_os(var).is_some_and(|v| !v.is_empty())
        };
        if !has("AWS_ACCESS_KEY_ID") && !has("AWS_SKIP_SIGNATURE") {
            return Err(config_err(
                "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 (and AWS_ENDPOINT, AWS_REGION, AWS_ALLOW_HTTP as needed)"
                    .to_string(),
            ));
        }
        // reqwest's TLS has no provider of its own here (see Cargo.toml):
        // ring, installed once for the process (a later call is a no-op).
        // rustls deprecates ring's provider only for its lack of post-quantum
        // key exchange; aws-lc-rs is left out on purpose (a long C build).
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env();
        for (name, value) in settings {
            let key: AmazonS3ConfigKey = name
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| config_err(format!("unknown setting {name}")))?;
            builder = builder.with_config(key, *value);
        }
        let s3 = builder
            .with_bucket_name(bucket)
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                CONNECT_TIMEOUT,
            )
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                REQUEST_TIMEOUT,
            )
            .with_retry(quick_retries())
            .build()
            .map_err(|e| config_err(error_text(&e)))?;
        Ok(Objects {
            location: location.clone(),
            store: Arc::new(s3),
            folder: None,
        })
    }

    /// Where the objects are.
    pub(super) fn location(&self) -> &ImageLocation {
        &self.location
    }

    /// The key of `relative` (`ab/abcdef….ext`) as this store names it:
    /// the bucket's prefix before it, or the folder's path.
    pub(super) fn key(&self, relative: &str) -> String {
        match (&self.location, &self.folder) {
            (ImageLocation::S3 { prefix, .. }, _) if !prefix.is_empty() => {
                format!("{prefix}/{relative}")
            }
            (_, Some(folder)) => folder.join(relative).display().to_string(),
            _ => relative.to_string(),
        }
    }

    /// The stored object's size, or `None` when there is none.
    pub(super) fn size(&self, relative: &str) -> Result<Option<u64>, StoreError> {
        let path = self.object_path(relative)?;
        match block_on(self.store.head(&path))? {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(relative, e)),
        }
    }

    /// Writes the object (atomically: readers see the old state or all of
    /// the bytes).
    pub(super) fn put(&self, relative: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.object_path(relative)?;
        let payload = object_store::PutPayload::from(bytes.to_vec());
        block_on(self.store.put(&path, payload))?
            .map(|_| ())
            .map_err(|e| self.error(relative, e))
    }

    /// Reads the object's bytes.
    pub(super) fn get(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.object_path(relative)?;
        let got = block_on(async { self.store.get(&path).await?.bytes().await })?;
        got.map(|b| b.to_vec()).map_err(|e| self.error(relative, e))
    }

    fn object_path(&self, relative: &str) -> Result<ObjectPath, StoreError> {
        let key = self.key(relative);
        let parsed = match &self.folder {
            Some(_) => ObjectPath::from_absolute_path(&key),
            None => ObjectPath::parse(&key),
        };
        parsed.map_err(|e| StoreError::InvalidImageKey {
            message: format!("{key}: {e}"),
        })
    }

    /// An object_store error as a [`StoreError`] naming the location and
    /// the key; a folder's I/O errors keep their path and kind (disk full).
    fn error(&self, relative: &str, e: object_store::Error) -> StoreError {
        let key = self.key(relative);
        if let object_store::Error::NotFound { .. } = e {
            return StoreError::ImageMissing {
                url: self.location.to_string(),
                key,
            };
        }
        if self.folder.is_some() {
            let kind = io_kind(&e).unwrap_or(io::ErrorKind::Other);
            return match kind {
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                    StoreError::ImageDiskFull { path: key.into() }
                }
                _ => StoreError::ImageIo {
                    path: key.into(),
                    source: io::Error::new(kind, error_text(&e)),
                },
            };
        }
        StoreError::ImageObject {
            url: self.location.to_string(),
            key,
            message: error_text(&e),
        }
    }
}

/// Few, short retries: a bucket that does not answer fails in seconds.
fn quick_retries() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(8),
    }
}

/// The process's runtime for object store calls: one worker thread,
/// started on first use.
fn runtime() -> Result<&'static Runtime, StoreError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("adstudio-images")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    built.as_ref().map_err(|e| StoreError::ImageStoreConfig {
        url: String::new(),
        message: format!("cannot start the image store's runtime: {e}"),
    })
}

/// Runs `future` to completion on [`runtime`]; the caller may be any
/// thread that is not itself inside a tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, StoreError> {
    Ok(runtime()?.block_on(future))
}

/// The first I/O error kind in `e`'s causes.
fn io_kind(e: &object_store::Error) -> Option<io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

/// `e` and its causes, each once, joined by ": ".
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        let part = err.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = err.source();
    }
    text
}
