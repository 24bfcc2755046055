//! Reading JSON configuration files, with errors that name the file.
//!
//! The one place in `ml` that turns a `config.json` (or a built-in JSON
//! text) into a value; each model module converts [`JsonError`] into its
//! own error type.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A JSON configuration that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON of the expected form.
    #[error("invalid configuration {path}: {source}")]
    Parse {
        /// The file (or a description of a built-in text).
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads and parses the JSON file at `path`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, JsonError> {
    let text = std::fs::read_to_string(path).map_err(|source| JsonError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_json(path, &text)
}

/// Parses JSON `text` that came from `origin` (named in the error).
pub fn parse_json<T: DeserializeOwned>(origin: &Path, text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|source| JsonError::Parse {
        path: origin.to_path_buf(),
        source,
    })
}

/// Reads an optional JSON file: `None` when it is missing, unreadable or
/// not JSON of the expected form (e.g. an optional `tokenizer_config.json`).
pub fn read_json_optional<T: DeserializeOwned>(path: &Path) -> Option<T> {
    read_json(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("absent.json");
        let err = read_json::<serde_json::Value>(&missing).expect_err("missing");
        assert!(matches!(err, JsonError::Io { .. }));
        assert!(err.to_string().contains("absent.json"), "{err}");

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{not json").expect("write");
        let err = read_json::<serde_json::Value>(&bad).expect_err("bad");
        assert!(matches!(err, JsonError::Parse { .. }));
        assert!(err.to_string().contains("bad.json"), "{err}");
        assert_eq!(read_json_optional::<serde_json::Value>(&bad), None);
    }

    #[test]
    fn reads_typed_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.json");
        std::fs::write(&path, r#"{"a": [1, 2]}"#).expect("write");
        #[derive(serde::Deserialize)]
        struct C {
            a: Vec<u32>,
        }
        let c: C = read_json(&path).expect("read");
        assert_eq!(c.a, vec![1, 2]);
    }
}
