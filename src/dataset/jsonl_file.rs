//! Writing rows as JSON Lines: one JSON object per line, keys named like
//! the Parquet columns.

use std::io::{BufWriter, Write as _};
use std::path::Path;

use serde::Serialize;

use super::atomic::write_atomically;
use super::error::DatasetError;

/// Writes `rows` to `out` (atomically), one object per line; no rows
/// gives an empty file.
pub fn write_jsonl<T: Serialize>(out: &Path, rows: &[T]) -> Result<(), DatasetError> {
    write_atomically(out, |file| {
        let mut writer = BufWriter::new(file);
        for row in rows {
            serde_json::to_writer(&mut writer, row).map_err(|source| DatasetError::Json {
                path: out.to_path_buf(),
                source,
            })?;
            writer
                .write_all(b"\n")
                .map_err(|e| DatasetError::write(out, e))?;
        }
        writer
            .into_inner()
            .map_err(|e| DatasetError::write(out, e.into_error()))
    })
}
