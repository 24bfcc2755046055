//! Writing export files: encoded in memory, written to a temporary name in
//! the same folder and renamed, so a failed write (a full disk) never
//! leaves a half file under the final name, and the temporary file is
//! removed.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use serde::Serialize;

use super::error::ExportError;

/// The file format of exported images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum OutputFormat {
    /// Lossless PNG.
    #[default]
    Png,
    /// JPEG at a quality of 1..=100.
    Jpeg {
        /// Encoder quality.
        quality: u8,
    },
}

impl OutputFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg { .. } => "jpg",
        }
    }

    /// Encodes `image` into bytes.
    pub fn encode(self, image: &RgbImage, path: &Path) -> Result<Vec<u8>, ExportError> {
        let mut bytes = Vec::new();
        let (w, h) = image.dimensions();
        let result = match self {
            OutputFormat::Png => {
                PngEncoder::new(&mut bytes).write_image(image, w, h, ExtendedColorType::Rgb8)
            }
            OutputFormat::Jpeg { quality } => JpegEncoder::new_with_quality(
                &mut bytes,
                quality.clamp(1, 100),
            )
            .write_image(image, w, h, ExtendedColorType::Rgb8),
        };
        result.map_err(|source| ExportError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(bytes)
    }
}

/// Writes whole files; the export writes through this so a test can make a
/// write fail half way (a full disk).
pub trait FileWriter: Sync {
    /// Creates `path` (which must not exist) and writes `bytes` durably.
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskWriter;

impl FileWriter for DiskWriter {
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }
}

/// The temporary name `path` is written under before the rename.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{:016x}.part", rand::random::<u64>()))
}

/// Writes `bytes` to `path` through a temporary file and a rename
/// (replacing an existing file); on any error the temporary file is
/// removed and `path` is left as it was.
pub fn write_atomically(
    writer: &dyn FileWriter,
    path: &Path,
    bytes: &[u8],
) -> Result<(), ExportError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| ExportError::OutputDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let temp = temp_path(path);
    let written = writer
        .write_new(&temp, bytes)
        .and_then(|()| fs::rename(&temp, path));
    if let Err(source) = written {
        // Best effort: the temporary file may not exist.
        let _ = fs::remove_file(&temp);
        return Err(ExportError::write(path.to_path_buf(), source));
    }
    Ok(())
}

/// Creates the output folder (and its parents) and checks it is a folder.
pub fn prepare_out_dir(dir: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(dir).map_err(|source| ExportError::OutputDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let meta = fs::metadata(dir).map_err(|source| ExportError::OutputDir {
        path: dir.to_path_buf(),
        source,
    })?;
    if meta.permissions().readonly() {
        return Err(ExportError::OutputDir {
            path: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "the folder is read-only"),
        });
    }
    Ok(())
}
