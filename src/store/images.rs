//! Content-addressed images: `<store>/ab/abcdef….ext`, named by the
//! SHA-256 of their bytes, in a local folder (the default) or an
//! S3-compatible bucket (`s3://bucket/prefix`), through the
//! `object_store` crate. Writes are atomic and a put of stored content is
//! a no-op. A bucket's images are also kept in a local cache folder (for
//! code that needs a file path), verified by hash when read.

mod cache;
mod location;
mod objects;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::codecs::png::PngEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat, RgbaImage};
use serde::Serialize;

pub use location::ImageLocation;

use super::error::StoreError;
use objects::Objects;

/// An image file in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredImage {
    /// SHA-256 of the file's bytes, 64 lowercase hex digits.
    pub hash: String,
    /// Where the file is on this machine (for a bucket: its cached copy).
    pub path: PathBuf,
}

/// Images named by the SHA-256 of their bytes. Writing the same bytes
/// twice stores one object.
#[derive(Debug, Clone)]
pub struct ImageStore {
    objects: Arc<Objects>,
    /// A folder: the folder itself; a bucket: the local cache.
    dir: PathBuf,
}

impl PartialEq for ImageStore {
    fn eq(&self, other: &Self) -> bool {
        self.location() == other.location() && self.dir == other.dir
    }
}

impl Eq for ImageStore {}

impl ImageStore {
    /// An image store in the local folder `dir` (usually
    /// `DataDir::images_dir()`). Directories are created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> ImageStore {
        let dir = dir.into();
        ImageStore {
            objects: Arc::new(Objects::folder(&dir)),
            dir,
        }
    }

    /// An image store at `location`; a bucket's images are cached in
    /// `cache_dir` (unused for a folder). Fails when a bucket's settings
    /// are unusable (no credentials in the environment, ...); the bucket
    /// itself is first contacted by the first read or write.
    pub fn open(
        location: &ImageLocation,
        cache_dir: impl Into<PathBuf>,
    ) -> Result<ImageStore, StoreError> {
        ImageStore::open_with(location, cache_dir, &[])
    }

    /// [`ImageStore::open`] with bucket settings that override the
    /// environment's, by the same names (`AWS_ENDPOINT`,
    /// `AWS_ACCESS_KEY_ID`, ...).
    pub fn open_with(
        location: &ImageLocation,
        cache_dir: impl Into<PathBuf>,
        settings: &[(&str, &str)],
    ) -> Result<ImageStore, StoreError> {
        let dir = match location {
            ImageLocation::Folder(dir) => dir.clone(),
            ImageLocation::S3 { .. } => cache_dir.into(),
        };
        Ok(ImageStore {
            objects: Arc::new(Objects::open(location, settings)?),
            dir,
        })
    }

    /// Where the images are.
    pub fn location(&self) -> &ImageLocation {
        self.objects.location()
    }

    /// The local directory: the folder itself, or a bucket's cache.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The object's key in the store (`<prefix>/ab/abcdef….ext` in a
    /// bucket, the file's path in a folder).
    pub fn key_for(&self, hash: &str, ext: &str) -> Result<String, StoreError> {
        Ok(self.objects.key(&relative_key(hash, ext)?))
    }

    /// Where the file with this hash and extension lives on this machine
    /// (whether or not it exists): in the folder, or in a bucket's cache
    /// (see [`ImageStore::local_path`] to fetch it there). The extension
    /// is lower-cased.
    pub fn path_for(&self, hash: &str, ext: &str) -> Result<PathBuf, StoreError> {
        Ok(self.dir.join(relative_key(hash, ext)?))
    }

    /// The path of a local file with the stored bytes: the folder's file
    /// (no I/O, as [`ImageStore::path_for`]), or a bucket's object, fetched
    /// into the cache (verified by hash) unless a copy is there already.
    pub fn local_path(&self, hash: &str, ext: &str) -> Result<PathBuf, StoreError> {
        let path = self.path_for(hash, ext)?;
        if self.is_remote() && !path.is_file() {
            self.read(hash, ext)?;
        }
        Ok(path)
    }

    /// A local file of an image a row recorded as `recorded` (the path
    /// where the machine that made it saved it) with content hash `hash`:
    /// `recorded` itself when it is a file here, else the stored object,
    /// fetched into the cache if the store is a bucket (the extension
    /// taken from `recorded`, `png` without one). This is how a render
    /// made on another machine of the team is read.
    pub fn file_of(&self, recorded: &str, hash: &str) -> Result<PathBuf, StoreError> {
        let path = Path::new(recorded);
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| !e.is_empty())
            .unwrap_or("png");
        self.local_path(hash, ext)
    }

    /// Stores `bytes` under their SHA-256 with extension `ext` ("png",
    /// "jpg", ...). An existing object with the same hash and size is
    /// reused. Writes are atomic, so readers never see a partial object;
    /// on error nothing is left behind and the error names the path or the
    /// bucket and key (disk full gets [`StoreError::ImageDiskFull`]). A
    /// bucket's new object is also copied into the local cache.
    pub fn put_bytes(&self, bytes: &[u8], ext: &str) -> Result<StoredImage, StoreError> {
        let hash = cache::sha256_hex(bytes);
        let relative = relative_key(&hash, ext)?;
        if self.objects.size(&relative)? != Some(bytes.len() as u64) {
            self.objects.put(&relative, bytes)?;
        }
        let path = self.dir.join(&relative);
        if self.is_remote() && cache::read_verified(&path, &hash).is_none() {
            cache::write_atomically(&path, bytes)?;
        }
        Ok(StoredImage { hash, path })
    }
    /// Encodes `image` as PNG and stores it (see [`ImageStore::put_bytes`]).
    pub fn put_png(&self, image: &DynamicImage) -> Result<StoredImage, StoreError> {
        let mut buf = Cursor::new(Vec::new());
        image
            .write_to(&mut buf, ImageFormat::Png)
            .map_err(|source| self.encode_err(source))?;
        self.put_bytes(buf.get_ref(), "png")
    }

    /// Encodes an RGBA image as PNG and stores it, without copying it into a
    /// [`DynamicImage`] first.
    pub fn put_rgba_png(&self, image: &RgbaImage) -> Result<StoredImage, StoreError> {
        let mut buf = Vec::new();
        PngEncoder::new(&mut buf)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                ExtendedColorType::Rgba8,
            )
            .map_err(|source| self.encode_err(source))?;
        self.put_bytes(&buf, "png")
    }

    /// Whether an object with this hash and extension is stored.
    pub fn contains(&self, hash: &str, ext: &str) -> Result<bool, StoreError> {
        Ok(self.objects.size(&relative_key(hash, ext)?)?.is_some())
    }

    /// Reads the stored bytes, checking that they hash to `hash`
    /// ([`StoreError::ImageCorrupt`] otherwise; [`StoreError::ImageMissing`]
    /// when there is no such object). A bucket's object is served from the
    /// cache when a verified copy is there, else fetched and cached.
    pub fn read(&self, hash: &str, ext: &str) -> Result<Vec<u8>, StoreError> {
        let relative = relative_key(hash, ext)?;
        let cached = self.dir.join(&relative);
        if self.is_remote() {
            if let Some(bytes) = cache::read_verified(&cached, hash) {
                return Ok(bytes);
            }
        }
        let bytes = self.objects.get(&relative)?;
        let actual = cache::sha256_hex(&bytes);
        if actual != hash {
            return Err(StoreError::ImageCorrupt {
                url: self.location().to_string(),
                key: self.objects.key(&relative),
                actual,
            });
        }
        if self.is_remote() {
            cache::write_atomically(&cached, &bytes)?;
        }
        Ok(bytes)
    }

    fn is_remote(&self) -> bool {
        self.location().is_remote()
    }

    fn encode_err(&self, source: image::ImageError) -> StoreError {
        StoreError::ImageEncode {
            dir: self.dir.clone(),
            source,
        }
    }
}

/// `ab/abcdef….ext` for a valid hash and extension.
fn relative_key(hash: &str, ext: &str) -> Result<String, StoreError> {
    let hash = check_hash(hash)?;
    let ext = check_ext(ext)?;
    Ok(format!("{}/{hash}.{ext}", &hash[..2]))
}

fn check_hash(hash: &str) -> Result<&str, StoreError> {
    let ok = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(hash)
    } else {
        Err(StoreError::InvalidImageKey {
            message: format!("{hash:?} is not a lowercase hex SHA-256"),
        })
    }
}

fn check_ext(ext: &str) -> Result<String, StoreError> {
    let ext = ext.trim_start_matches('.').to_ascii_lowercase();
    let ok = !ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(ext)
    } else {
        Err(StoreError::InvalidImageKey {
            message: format!("{ext:?} is not a valid image file extension"),
        })
    }
}
