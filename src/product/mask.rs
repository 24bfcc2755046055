//! Mask settings and the basic mask operations: alpha mask, grow/shrink
//! and feather. Background keying lives in [`super::key`] and is
//! re-exported here.

use image::{DynamicImage, GrayImage, RgbaImage};
use imageproc::morphology::{grayscale_dilate, grayscale_erode, Mask};
use serde::{Deserialize, Serialize};

pub use super::key::key_background;

/// Which source produced the base mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaskSource {
    /// The image's own alpha channel.
    Alpha,
    /// Background keying (flood fill from the border).
    Key,
    /// A salient-object model (U²-Net-p) found the product.
    Saliency,
}

impl MaskSource {
    /// The stored name: "alpha", "key" or "saliency".
    pub fn as_str(self) -> &'static str {
        match self {
            MaskSource::Alpha => "alpha",
            MaskSource::Key => "key",
            MaskSource::Saliency => "saliency",
        }
    }
}

/// The user's choice of mask source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MaskSourceChoice {
    /// Alpha when the image has transparency, keying otherwise.
    #[default]
    Auto,
    /// Always use the alpha channel.
    Alpha,
    /// Always key out the background.
    Key,
    /// Always use the salient-object model.
    Saliency,
}

impl MaskSourceChoice {
    /// Every choice, in the order menus, help texts and the README list them.
    pub const ALL: [MaskSourceChoice; 4] = [
        MaskSourceChoice::Auto,
        MaskSourceChoice::Alpha,
        MaskSourceChoice::Key,
        MaskSourceChoice::Saliency,
    ];

    /// The name on the command line: "auto", "alpha", "key" or "saliency".
    pub fn name(self) -> &'static str {
        match self {
            MaskSourceChoice::Auto => "auto",
            MaskSourceChoice::Alpha => "alpha",
            MaskSourceChoice::Key => "key",
            MaskSourceChoice::Saliency => "saliency",
        }
    }

    /// One line saying what the choice does (help texts).
    pub fn description(self) -> &'static str {
        match self {
            MaskSourceChoice::Auto => {
                "alpha if the image is transparent, else the keyed backdrop, else the salient-object model"
            }
            MaskSourceChoice::Alpha => "the image's alpha channel",
            MaskSourceChoice::Key => "key out a plain backdrop (flood fill from the border)",
            MaskSourceChoice::Saliency => "the U²-Net-p salient-object model",
        }
    }

    /// The choice called `name` (as returned by [`Self::name`], any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Every name joined by `separator`, e.g. `auto|alpha|key|saliency`.
    pub fn names(separator: &str) -> String {
        Self::ALL.map(Self::name).join(separator)
    }
}

/// Settings of background keying.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeySettings {
    /// Colour distance (largest per-channel difference, 0..=255) within
    /// which a pixel counts as background.
    pub tolerance: f32,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self { tolerance: 24.0 }
    }
}

/// Everything that shapes the product mask before brush edits.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskSettings {
    /// Where the base mask comes from.
    pub source: MaskSourceChoice,
    /// Keying settings (used when the source is keying).
    pub key: KeySettings,
    /// Pixels to grow the mask by (negative values shrink it).
    pub grow_px: i32,
    /// Width of the soft edge in pixels (0 = hard edge as is).
    pub feather_px: f32,
}

/// The alpha channel of `img` as a mask (255 = product).
pub fn alpha_mask(img: &RgbaImage) -> GrayImage {
    let alpha: Vec<u8> = img.as_raw().chunks_exact(4).map(|p| p[3]).collect();
    GrayImage::from_raw(img.width(), img.height(), alpha)
        .unwrap_or_else(|| GrayImage::new(img.width(), img.height()))
}

/// Grows (`px > 0`) or shrinks (`px < 0`) a mask by grey-level dilation or
/// erosion with a disk of radius `|px|` (at most 255).
pub fn grow_shrink(mask: &GrayImage, px: i32) -> GrayImage {
    if px == 0 || mask.width() == 0 || mask.height() == 0 {
        return mask.clone();
    }
    let radius = u8::try_from(px.unsigned_abs()).unwrap_or(u8::MAX);
    let disk = Mask::disk(radius);
    if px > 0 {
        grayscale_dilate(mask, &disk)
    } else {
        grayscale_erode(mask, &disk)
    }
}

/// Softens the mask edge with a gaussian blur of sigma `px / 2` (so the
/// ramp is roughly `px` wide on each side). `px <= 0` returns the mask
/// unchanged. A flat interior stays exactly 255 and flat background 0.
///
/// Uses `image`'s gaussian blur on 8-bit grey: it is compiled with the
/// dependency's optimisation level, about 100x faster in debug builds than
/// a generic blur instantiated in this crate.
pub fn feather(mask: &GrayImage, px: f32) -> GrayImage {
    if !px.is_finite() || px <= 0.0 || mask.width() == 0 || mask.height() == 0 {
        return mask.clone();
    }
    DynamicImage::ImageLuma8(mask.clone())
        .blur(px / 2.0)
        .into_luma8()
}

/// True when the mask holds at least one product pixel (value >= 128).
pub fn has_product(mask: &GrayImage) -> bool {
    mask.as_raw().iter().any(|&v| v >= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_source_names_round_trip() {
        for choice in MaskSourceChoice::ALL {
            assert_eq!(MaskSourceChoice::from_name(choice.name()), Some(choice));
            assert!(!choice.description().is_empty());
        }
        assert_eq!(
            MaskSourceChoice::from_name(" Saliency "),
            Some(MaskSourceChoice::Saliency)
        );
        assert_eq!(MaskSourceChoice::from_name("u2net"), None);
        assert_eq!(MaskSourceChoice::names("|"), "auto|alpha|key|saliency");
    }
}
