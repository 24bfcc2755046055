//! The one error type of the product module.
//!
//! Messages are written for designers: they say what is wrong with the
//! picture (or the settings) and, where it helps, what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong while preparing a product photo.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    /// The file could not be opened or read.
    #[error("could not read the product photo {}: {source}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// The file is larger than [`crate::product::MAX_FILE_BYTES`].
    #[error(
        "the product photo is {} ({bytes} bytes); adstudio accepts files up to {}",
        human_bytes(*bytes),
        human_bytes(*limit)
    )]
    FileTooLarge {
        /// Size of the file in bytes.
        bytes: u64,
        /// The largest accepted size in bytes.
        limit: u64,
    },

    /// The image has more pixels than [`crate::product::MAX_PIXELS`].
    #[error(
        "the product photo is {width} x {height} pixels ({:.1} megapixels); the limit is {:.1} megapixels, please downscale it first",
        (*width as f64) * (*height as f64) / 1e6,
        (*limit as f64) / 1e6
    )]
    TooManyPixels {
        /// Width in pixels as stated by the file header.
        width: u32,
        /// Height in pixels as stated by the file header.
        height: u32,
        /// The largest accepted number of pixels.
        limit: u64,
    },

    /// The long side is more than [`crate::product::MAX_ASPECT`] times the
    /// short side.
    #[error(
        "the product photo is {width} x {height} pixels ({:.1}:1); adstudio accepts pictures up to {max_aspect}:1 between the long and the short side, please crop it with more room around the product",
        f64::from((*width).max(*height)) / f64::from((*width).min(*height)).max(1.0)
    )]
    TooElongated {
        /// Width in pixels as stated by the file header.
        width: u32,
        /// Height in pixels as stated by the file header.
        height: u32,
        /// The largest accepted long-side / short-side ratio.
        max_aspect: u32,
    },

    /// A side is shorter than [`crate::product::MIN_SIDE`].
    #[error(
        "the product photo is {width} x {height} pixels; both sides must be at least {min_side} pixels, please use a larger picture"
    )]
    TooSmall {
        /// Width in pixels as stated by the file header.
        width: u32,
        /// Height in pixels as stated by the file header.
        height: u32,
        /// The smallest accepted side in pixels.
        min_side: u32,
    },

    /// The file is not an image in a format adstudio reads.
    #[error("unsupported file type: {detail}; use PNG, JPEG, WebP, BMP or TIFF")]
    UnsupportedFormat {
        /// What was recognised (or not).
        detail: String,
    },

    /// The file looks like an image but its data is damaged.
    #[error("the product photo is damaged and cannot be decoded: {detail}")]
    Corrupt {
        /// The decoder's explanation.
        detail: String,
    },

    /// The file ends before the image data is complete.
    #[error("the product photo is incomplete (the file ends early; was the download or copy interrupted?): {detail}")]
    Truncated {
        /// The decoder's explanation.
        detail: String,
    },

    /// No product is left: the image is fully transparent or the mask is empty.
    #[error("no product found: the image is fully transparent or the mask is empty; paint the product with the brush or change the mask settings")]
    NoProduct,

    /// An opaque photo whose border is not a near-uniform backdrop.
    #[error("the background cannot be removed automatically: {detail}; use a photo on a plain backdrop or a PNG with transparency, or paint the mask with the brush")]
    NoKeyableBackground {
        /// Why keying was refused.
        detail: String,
    },

    /// The salient-object model was needed but is not available.
    #[error("no salient-object model is available: {detail}")]
    SaliencyUnavailable {
        /// Where it was looked for, or why it failed to load.
        detail: String,
    },

    /// The salient-object model failed on this image.
    #[error("the salient-object model failed: {detail}")]
    Saliency {
        /// The model's error.
        detail: String,
    },

    /// Two images that must have the same size do not.
    #[error("{what} is {}x{} pixels but {}x{} pixels were expected", actual.0, actual.1, expected.0, expected.1)]
    SizeMismatch {
        /// Which image has the wrong size (for example "the mask").
        what: String,
        /// The size that was expected (width, height).
        expected: (u32, u32),
        /// The size that was found (width, height).
        actual: (u32, u32),
    },

    /// A setting is outside its allowed range.
    #[error("invalid setting: {detail}")]
    InvalidSettings {
        /// Which setting and why.
        detail: String,
    },
}

/// Formats a byte count the way a file manager would (MB with one decimal).
fn human_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / MIB)
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}
