//! Writing a file atomically: into a temporary sibling, synced, then
//! renamed over the target, so a reader never sees a half-written file
//! and a failed export leaves the old file (if any) in place.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::DatasetError;

/// The temporary sibling of `out`: `<name>.part` in the same directory
/// (same file system, so the rename is atomic).
pub fn temp_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    out.with_file_name(name)
}

/// Creates the temporary file, lets `write` fill it (returning the file
/// when done), syncs it and renames it to `out`. On any failure the
/// temporary file is removed and `out` is left untouched.
pub fn write_atomically(
    out: &Path,
    write: impl FnOnce(File) -> Result<File, DatasetError>,
) -> Result<(), DatasetError> {
    let temp = temp_path(out);
    let result = File::create(&temp)
        .map_err(|e| DatasetError::write(out, e))
        .and_then(write)
        .and_then(|file| file.sync_all().map_err(|e| DatasetError::write(out, e)))
        .and_then(|()| std::fs::rename(&temp, out).map_err(|e| DatasetError::write(out, e)));
    if result.is_err() {
        // Best effort: the temporary file may not exist.
        let _ = std::fs::remove_file(&temp);
    }
    result
}
