//! File digests: sha256 (the manifest's checksums, LFS ETags) and the git
//! blob sha1 (the hub's ETag of a small, non-LFS file).

use std::io::Read;
use std::path::Path;

use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::error::FetchError;

/// Both digests of a file, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// sha256 of the content.
    pub sha256: String,
    /// git's blob id: sha1 of `blob {len}\0` + content.
    pub git_sha1: String,
    /// The size in bytes.
    pub size: u64,
}

/// Reads `path` once and returns its digests.
pub fn digests(path: &Path) -> Result<Digests, FetchError> {
    let len = std::fs::metadata(path)
        .map_err(|e| FetchError::io(path, e))?
        .len();
    let mut file = std::fs::File::open(path).map_err(|e| FetchError::io(path, e))?;
    let mut sha256 = Sha256::new();
    let mut sha1 = Sha1::new();
    sha1.update(format!("blob {len}\0").as_bytes());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| FetchError::io(path, e))?;
        if n == 0 {
            break;
        }
        sha256.update(&buf[..n]);
        sha1.update(&buf[..n]);
    }
    Ok(Digests {
        sha256: hex::encode(sha256.finalize()),
        git_sha1: hex::encode(sha1.finalize()),
        size: len,
    })
}

/// What a file is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A sha256 (from the manifest or an LFS ETag).
    Sha256(String),
    /// A git blob sha1 (a non-LFS ETag).
    GitSha1(String),
    /// Nothing known (an ETag of another form).
    Unknown,
}

impl Expected {
    /// The check for a file: the manifest's sha256 when given, else what
    /// the ETag is (64 hex digits: sha256; 40: git sha1).
    pub fn from(manifest_sha256: Option<&str>, etag: &str) -> Expected {
        let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
        match manifest_sha256 {
            Some(sha) => Expected::Sha256(sha.to_ascii_lowercase()),
            None if etag.len() == 64 && hex(etag) => Expected::Sha256(etag.to_ascii_lowercase()),
            None if etag.len() == 40 && hex(etag) => Expected::GitSha1(etag.to_ascii_lowercase()),
            None => Expected::Unknown,
        }
    }

    /// `Ok` when `d` matches; the mismatch error (naming `file`) otherwise.
    pub fn check(&self, file: &str, d: &Digests) -> Result<(), FetchError> {
        let (expected, actual) = match self {
            Expected::Sha256(e) => (e, &d.sha256),
            Expected::GitSha1(e) => (e, &d.git_sha1),
            Expected::Unknown => return Ok(()),
        };
        if expected == actual {
            Ok(())
        } else {
            Err(FetchError::ChecksumMismatch {
                file: file.to_string(),
                expected: expected.clone(),
                actual: actual.clone(),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values_and_mismatches_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        std::fs::write(&path, b"hello\n").unwrap();
        let d = digests(&path).unwrap();
        // `printf 'hello\n' | sha256sum` and `git hash-object`.
        assert_eq!(
            d.sha256,
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(d.git_sha1, "ce013625030ba8dba906f756967f9e9ca394464a");
        Expected::from(None, &d.sha256).check("f", &d).unwrap();
        Expected::from(None, &d.git_sha1).check("f", &d).unwrap();
        let wrong = "0".repeat(64);
        let err = Expected::from(Some(&wrong), &d.sha256)
            .check("unet/x.safetensors", &d)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unet/x.safetensors"), "{err}");
        assert_eq!(Expected::from(None, "W/abc"), Expected::Unknown);
    }
}
