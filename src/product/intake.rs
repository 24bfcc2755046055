//! Reading product photos: size limits, format detection from content,
//! EXIF orientation and conversion to 8-bit RGBA.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits, RgbaImage};
use serde::{Deserialize, Serialize};

use super::error::ProductError;

/// Largest product photo file accepted, in bytes (100 MiB).
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// Largest product photo accepted, in pixels (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Smallest accepted side of a product photo, in pixels (the salient-object
/// model and the canvas placement need at least this much to work with).
pub const MIN_SIDE: u32 = 16;

/// Largest accepted ratio of the long side to the short side (8:1): more
/// elongated pictures are strips, not product photos, and squeeze into a
/// few rows of the square salient-object input.
pub const MAX_ASPECT: u32 = 8;

/// Upper bound on what a decoder may allocate: the largest accepted image
/// at 16 bits per channel RGBA, plus room for the decoder's own buffers.
const MAX_DECODER_ALLOC: u64 = MAX_PIXELS * 8 + 64 * 1024 * 1024;

/// A decoded product photo, upright and converted to 8-bit RGBA.
#[derive(Debug, Clone)]
pub struct ProductImage {
    /// The pixels, with EXIF orientation already applied.
    pub rgba: RgbaImage,
    /// The source has an alpha channel and at least one pixel with alpha < 255.
    pub has_transparency: bool,
    /// What the source file was.
    pub info: SourceInfo,
}

/// Facts about the source file, kept for display and for the job record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Container format detected from the content, e.g. "PNG" or "JPEG".
    pub format: String,
    /// Colour layout of the source, e.g. "Rgba16" or "L8".
    pub color_type: String,
    /// Width after orientation was applied.
    pub width: u32,
    /// Height after orientation was applied.
    pub height: u32,
    /// An EXIF orientation other than "upright" was found and applied.
    pub orientation_applied: bool,
}

/// Loads a product photo from disk.
///
/// The file size is checked from its metadata before anything is read, the
/// format is detected from the content (the extension is ignored) and the
/// pixel count is checked from the header before the image is decoded.
pub fn load_product_file(path: &Path) -> Result<ProductImage, ProductError> {
    let io_err = |source| ProductError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    check_file_size(meta.len())?;
    let file = File::open(path).map_err(io_err)?;
    decode(BufReader::new(file))
}

/// Loads a product photo from bytes in memory (same checks as
/// [`load_product_file`]).
pub fn load_product_bytes(bytes: &[u8]) -> Result<ProductImage, ProductError> {
    check_file_size(bytes.len() as u64)?;
    decode(Cursor::new(bytes))
}

/// Refuses files over [`MAX_FILE_BYTES`].
fn check_file_size(bytes: u64) -> Result<(), ProductError> {
    if bytes > MAX_FILE_BYTES {
        return Err(ProductError::FileTooLarge {
            bytes,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(())
}

/// Detects the format, checks the header, decodes and orients the image.
fn decode<R: BufRead + Seek>(reader: R) -> Result<ProductImage, ProductError> {
    let mut reader = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| ProductError::Corrupt {
            detail: e.to_string(),
        })?;
    let format = reader
        .format()
        .ok_or_else(|| ProductError::UnsupportedFormat {
            detail: "the content is not a recognised image format".to_string(),
        })?;
    // Reading the header allocates nothing image-sized; the decoder's own
    // limits would reject a huge header with a vaguer message than ours.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    decoder.set_limits(limits).map_err(map_image_error)?;
    let color_type = format!("{:?}", decoder.original_color_type());
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    let orientation_applied = orientation != image::metadata::Orientation::NoTransforms;
    image.apply_orientation(orientation);

    let has_alpha = image.color().has_alpha();
    let rgba = image.into_rgba8();
    let has_transparency = has_alpha && rgba.pixels().any(|p| p.0[3] < 255);
    let info = SourceInfo {
        format: format_name(format),
        color_type,
        width: rgba.width(),
        height: rgba.height(),
        orientation_applied,
    };
    Ok(ProductImage {
        rgba,
        has_transparency,
        info,
    })
}

/// Refuses empty images (as damaged) and, through [`check_image_size`],
/// degenerate ones.
fn check_pixels(width: u32, height: u32) -> Result<(), ProductError> {
    if width == 0 || height == 0 {
        return Err(ProductError::Corrupt {
            detail: format!("the header states an empty image ({width} x {height} pixels)"),
        });
    }
    check_image_size(width, height)
}

/// The one size rule for product photos, applied when any photo is decoded
/// (studio, `prepare`, `render`, `suggest`): at most [`MAX_PIXELS`] pixels,
/// the long side at most [`MAX_ASPECT`] times the short side, and both sides
/// at least [`MIN_SIDE`] pixels, checked in that order.
pub fn check_image_size(width: u32, height: u32) -> Result<(), ProductError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ProductError::TooManyPixels {
            width,
            height,
            limit: MAX_PIXELS,
        });
    }
    let (long, short) = (width.max(height), width.min(height));
    if u64::from(long) > u64::from(MAX_ASPECT) * u64::from(short) {
        return Err(ProductError::TooElongated {
            width,
            height,
            max_aspect: MAX_ASPECT,
        });
    }
    if short < MIN_SIDE {
        return Err(ProductError::TooSmall {
            width,
            height,
            min_side: MIN_SIDE,
        });
    }
    Ok(())
}

/// Short upper-case name of a format, e.g. "PNG".
fn format_name(format: image::ImageFormat) -> String {
    use image::ImageFormat as F;
    match format {
        F::Png => "PNG".to_string(),
        F::Jpeg => "JPEG".to_string(),
        F::WebP => "WEBP".to_string(),
        F::Bmp => "BMP".to_string(),
        F::Tiff => "TIFF".to_string(),
        other => format!("{other:?}").to_uppercase(),
    }
}

/// Translates decoder errors into designer-readable variants.
fn map_image_error(err: ImageError) -> ProductError {
    match err {
        ImageError::Unsupported(e) => ProductError::UnsupportedFormat {
            detail: e.to_string(),
        },
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ProductError::Truncated {
                detail: e.to_string(),
            }
        }
        ImageError::Limits(e) => ProductError::Corrupt {
            detail: format!("decoding would need too much memory ({e})"),
        },
        other => {
            let detail = other.to_string();
            if looks_truncated(&detail) {
                ProductError::Truncated { detail }
            } else {
                ProductError::Corrupt { detail }
            }
        }
    }
}

/// Some decoders report a short file only in their message text.
fn looks_truncated(detail: &str) -> bool {
    let lower = detail.to_lowercase();
    [
        "unexpected eof",
        "unexpected end",
        "truncated",
        "end of file",
        "not enough data",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_rule_limits_are_inclusive() {
        assert!(check_image_size(MIN_SIDE, MIN_SIDE).is_ok());
        assert!(check_image_size(8 * 100, 100).is_ok());
        assert!(check_image_size(100, 8 * 100).is_ok());
        assert!(matches!(
            check_image_size(801, 100),
            Err(ProductError::TooElongated { max_aspect: 8, .. })
        ));
        assert!(matches!(
            check_image_size(4000, 10),
            Err(ProductError::TooElongated { .. })
        ));
        assert!(matches!(
            check_image_size(15, 40),
            Err(ProductError::TooSmall { min_side: 16, .. })
        ));
        assert!(matches!(
            check_image_size(8000, 6000),
            Err(ProductError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn size_messages_name_the_size_and_the_limit() {
        let thin = check_image_size(4000, 10).expect_err("thin").to_string();
        assert!(thin.contains("4000 x 10 pixels"), "{thin}");
        assert!(thin.contains("400.0:1") && thin.contains("8:1"), "{thin}");
        let small = check_image_size(12, 20).expect_err("small").to_string();
        assert!(small.contains("12 x 20 pixels"), "{small}");
        assert!(small.contains("16 pixels"), "{small}");
    }
}
