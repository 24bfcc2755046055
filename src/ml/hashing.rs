//! Content hashes that tie a fine-tuned adapter to what it was made from:
//! the base model's weights and the training data. Pure and streaming (a
//! model file is read in fixed-size chunks, never whole).

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes read per chunk while hashing a file.
const CHUNK: usize = 1 << 20;

/// A hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model folder holds no `.safetensors` weight file.
    #[error("{0}: no .safetensors weight files to hash")]
    NoWeights(PathBuf),
}

fn feed_file(hasher: &mut Sha256, path: &Path) -> Result<(), HashError> {
    let io = |source| HashError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// The `.safetensors` files directly in `dir`, sorted by file name.
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, HashError> {
    let io = |source| HashError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "safetensors") {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if files.is_empty() {
        return Err(HashError::NoWeights(dir.to_path_buf()));
    }
    Ok(files)
}

/// Lower-case hex SHA-256 of a model: of the file's bytes for a single file
/// (e.g. `.gguf`), or of the folder's `.safetensors` files' bytes, one after
/// the other in file-name order. Config and tokenizer files do not count.
pub fn model_hash(path: &Path) -> Result<String, HashError> {
    let mut hasher = Sha256::new();
    if path.is_dir() {
        for file in weight_files(path)? {
            feed_file(&mut hasher, &file)?;
        }
    } else {
        feed_file(&mut hasher, path)?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The id a model is known by: its file or folder name.
pub fn model_id(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Lower-case hex SHA-256 over `records` in order, each followed by a
/// newline (records are expected to be canonical one-line texts, such as
/// compact JSON, so the boundaries are unambiguous).
pub fn records_hash<I, S>(records: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut hasher = Sha256::new();
    for r in records {
        hasher.update(r.as_ref().as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn file_hash_is_the_sha256_of_its_bytes_and_folders_hash_weights_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.gguf");
        let bytes: Vec<u8> = (0..3 * CHUNK + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(
            model_hash(&file).unwrap(),
            hex::encode(Sha256::digest(&bytes))
        );

        let folder = dir.path().join("f");
        std::fs::create_dir(&folder).unwrap();
        assert!(matches!(model_hash(&folder), Err(HashError::NoWeights(_))));
        std::fs::write(folder.join("b.safetensors"), b"second").unwrap();
        std::fs::write(folder.join("a.safetensors"), b"first-").unwrap();
        std::fs::write(folder.join("config.json"), b"{}").unwrap();
        assert_eq!(
            model_hash(&folder).unwrap(),
            hex::encode(Sha256::digest(b"first-second"))
        );
        assert_eq!(model_id(&folder), "f");
    }

    #[test]
    fn records_hash_depends_on_content_and_order() {
        let ab = records_hash(["a", "b"]);
        assert_eq!(ab, hex::encode(Sha256::digest(b"a\nb\n")));
        assert_ne!(ab, records_hash(["b", "a"]));
        assert_ne!(
            ab,
            records_hash(["a\nb"; 1].iter().map(|s| format!("{s}x")))
        );
    }
}
