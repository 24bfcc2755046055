//! Content-addressed image files: `<dir>/ab/abcdef….ext`, named by the
//! SHA-256 of their bytes and written atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};

use image::codecs::png::PngEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat, RgbaImage};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::StoreError;

/// Suffix of in-progress temporary files (never a valid image extension).
const TEMP_SUFFIX: &str = ".part";

/// An image file in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredImage {
    /// SHA-256 of the file's bytes, 64 lowercase hex digits.
    pub hash: String,
    /// Where the file is.
    pub path: PathBuf,
}

/// Image files named by the SHA-256 of their bytes. Writing the same bytes
/// twice stores one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    /// An image store rooted at `dir` (usually `DataDir::images_dir()`).
    /// Directories are created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> ImageStore {
        ImageStore { dir: dir.into() }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this hash and extension lives (whether or not it
    /// exists). The extension is lower-cased.
    pub fn path_for(&self, hash: &str, ext: &str) -> Result<PathBuf, StoreError> {
        let hash = check_hash(hash)?;
        let ext = check_ext(ext)?;
        Ok(self.dir.join(&hash[..2]).join(format!("{hash}.{ext}")))
    }

    /// Stores `bytes` under their SHA-256 with extension `ext` ("png",
    /// "jpg", ...). An existing file with the same hash is reused. The file
    /// is written to a temporary file in the same directory, synced and
    /// renamed, so readers never see a partial file; on error nothing is
    /// left behind and the error names the path (disk full gets
    /// [`StoreError::ImageDiskFull`]).
    pub fn put_bytes(&self, bytes: &[u8], ext: &str) -> Result<StoredImage, StoreError> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self.path_for(&hash, ext)?;
        let reusable = fs::metadata(&path)
            .map(|m| m.is_file() && m.len() == bytes.len() as u64)
            .unwrap_or(false);
        if !reusable {
            write_atomically(&path, bytes)?;
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

    /// Whether a file with this hash and extension is stored.
    pub fn contains(&self, hash: &str, ext: &str) -> Result<bool, StoreError> {
        Ok(self.path_for(hash, ext)?.is_file())
    }

    /// Reads the stored file's bytes.
    pub fn read(&self, hash: &str, ext: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path_for(hash, ext)?;
        fs::read(&path).map_err(|source| io_err(&path, source))
    }

    fn encode_err(&self, source: image::ImageError) -> StoreError {
        StoreError::ImageEncode {
            dir: self.dir.clone(),
            source,
        }
    }
}

/// Writes `bytes` to `path` via a synced temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or_else(|| StoreError::InvalidImageKey {
        message: format!("{} has no parent directory", path.display()),
    })?;
    fs::create_dir_all(dir).map_err(|source| io_err(dir, source))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{file_name}.{:016x}{TEMP_SUFFIX}",
        rand::random::<u64>()
    ));
    let written = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if let Err(source) = written {
        // Best effort: the temp file may not exist if creating it failed.
        let _ = fs::remove_file(&temp);
        return Err(io_err(path, source));
    }
    sync_dir(dir).map_err(|source| io_err(dir, source))
}

/// Creates `temp` (which must not exist), writes `bytes` and fsyncs it.
fn write_synced(temp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename durable: fsync of the directory on Unix. Windows
/// cannot open directories as files and commits renames on its own.
fn sync_dir(dir: &Path) -> io::Result<()> {
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

fn io_err(path: &Path, source: io::Error) -> StoreError {
    match source.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StoreError::ImageDiskFull {
            path: path.to_path_buf(),
        },
        _ => StoreError::ImageIo {
            path: path.to_path_buf(),
            source,
        },
    }
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
