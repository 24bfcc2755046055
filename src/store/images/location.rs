//! Where an [`ImageStore`](super::ImageStore) keeps its objects: a local
//! folder or an S3-compatible bucket, written as a path or an
//! `s3://bucket/prefix` URL.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::store::StoreError;

/// The place of an image store's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLocation {
    /// A local folder (`<folder>/ab/abcdef….ext`), the default.
    Folder(PathBuf),
    /// An S3-compatible bucket: objects at `<prefix>/ab/abcdef….ext`.
    /// Credentials and endpoint come from the `AWS_*` environment.
    S3 {
        /// The bucket name.
        bucket: String,
        /// The key prefix, without leading or trailing `/` (may be empty).
        prefix: String,
    },
}

impl ImageLocation {
    /// Parses `s3://bucket[/prefix]` or a folder path (`file://` allowed).
    /// Other URL schemes are refused rather than read as folder names.
    pub fn parse(text: &str) -> Result<ImageLocation, StoreError> {
        let invalid = |message: &str| StoreError::ImageStoreConfig {
            url: text.to_string(),
            message: message.to_string(),
        };
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if !valid_bucket(bucket) {
                return Err(invalid(
                    "the bucket name must be 3-63 characters of a-z, 0-9, '.' and '-'",
                ));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
                return Err(invalid("the key prefix has an empty, '.' or '..' part"));
            }
            return Ok(ImageLocation::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if let Some(path) = text.strip_prefix("file://") {
            return Ok(ImageLocation::Folder(PathBuf::from(path)));
        }
        if text.is_empty() {
            return Err(invalid(
                "empty location: give a folder or s3://bucket/prefix",
            ));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(invalid(&format!(
                "unsupported scheme {scheme:?}: use a folder or s3://bucket/prefix"
            )));
        }
        Ok(ImageLocation::Folder(PathBuf::from(text)))
    }

    /// True for a bucket (objects leave this machine).
    pub fn is_remote(&self) -> bool {
        matches!(self, ImageLocation::S3 { .. })
    }
}

impl fmt::Display for ImageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageLocation::Folder(dir) => write!(f, "{}", dir.display()),
            ImageLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            ImageLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl FromStr for ImageLocation {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageLocation::parse(s)
    }
}

/// S3's bucket naming rules (the subset that matters for a URL).
fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_buckets_folders_and_refuses_others() {
        let s3 = ImageLocation::parse("s3://my-bucket/team/images/").expect("s3");
        assert_eq!(
            s3,
            ImageLocation::S3 {
                bucket: "my-bucket".into(),
                prefix: "team/images".into()
            }
        );
        assert_eq!(s3.to_string(), "s3://my-bucket/team/images");
        assert!(s3.is_remote());
        let bare = ImageLocation::parse("s3://bucket").expect("bare");
        assert_eq!(bare.to_string(), "s3://bucket");
        let folder = ImageLocation::parse("/data/images").expect("folder");
        assert_eq!(folder, ImageLocation::Folder("/data/images".into()));
        assert!(!folder.is_remote());
        assert_eq!(
            ImageLocation::parse("file:///x/y").expect("file"),
            ImageLocation::Folder("/x/y".into())
        );
        for bad in ["s3://", "s3://UPPER", "s3://b/../x", "gs://bucket/x", ""] {
            let err = ImageLocation::parse(bad).expect_err(bad);
            assert!(
                matches!(err, StoreError::ImageStoreConfig { ref url, .. } if url == bad),
                "{bad}: {err}"
            );
        }
    }
}
