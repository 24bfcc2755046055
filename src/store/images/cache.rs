//! The local copies of a bucket's images (`<cache>/ab/abcdef….ext`), for
//! the code that needs a file path (textures, exports, decoders): written
//! atomically, read back only when their bytes still hash to their name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::StoreError;

/// Suffix of in-progress temporary files (never a valid image extension).
const TEMP_SUFFIX: &str = ".part";

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes of the cached copy at `path` if it exists and hashes to
/// `hash`; `None` otherwise (a corrupt copy is removed).
pub(super) fn read_verified(path: &Path, hash: &str) -> Option<Vec<u8>> {
    let bytes = fs::read(path).ok()?;
    if sha256_hex(&bytes) == hash {
        Some(bytes)
    } else {
        // Best effort: a fresh copy replaces it anyway.
        let _ = fs::remove_file(path);
        None
    }
}

/// Writes `bytes` to `path` via a synced temporary file and a rename, so
/// no reader sees a partial file; on error nothing is left behind and the
/// error names the path.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
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
