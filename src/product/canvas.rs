//! Placing the product on the ad canvas and preparing everything the
//! renderer needs (inpaint mask and ControlNet image, see [`super::guides`]).

use image::{GrayImage, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};

pub use super::aspect::AspectPreset;
pub use super::guides::{control_image, inpaint_mask};

use super::error::ProductError;
use super::resample::{resample_into, AxisMap, DestRect, Source};

/// Largest accepted short side of the canvas, in pixels.
pub const MAX_SHORT_SIDE: u32 = 4096;

/// How the product is laid out on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanvasSettings {
    /// The ad format.
    pub aspect: AspectPreset,
    /// Length of the canvas's short side in pixels (rounded to a multiple of 8).
    pub short_side: u32,
    /// Share of the canvas width and height the product may fill (0..=1).
    pub fit_fraction: f32,
    /// How far the repaint zone reaches into the product edge, in pixels.
    pub inpaint_dilate_px: u32,
}

impl Default for CanvasSettings {
    fn default() -> Self {
        Self {
            aspect: AspectPreset::Square,
            short_side: 512,
            fit_fraction: 0.78,
            inpaint_dilate_px: 10,
        }
    }
}

impl CanvasSettings {
    /// Canvas (width, height) for these settings.
    pub fn canvas_size(&self) -> (u32, u32) {
        self.aspect.size(self.short_side)
    }

    /// Checks that every setting is in range.
    pub fn validate(&self) -> Result<(), ProductError> {
        if !(self.fit_fraction > 0.0 && self.fit_fraction <= 1.0) {
            return Err(ProductError::InvalidSettings {
                detail: format!(
                    "the product fit must be above 0 and at most 1 (100 %), got {}",
                    self.fit_fraction
                ),
            });
        }
        if self.short_side == 0 || self.short_side > MAX_SHORT_SIDE {
            return Err(ProductError::InvalidSettings {
                detail: format!(
                    "the canvas short side must be between 8 and {MAX_SHORT_SIDE} pixels, got {}",
                    self.short_side
                ),
            });
        }
        Ok(())
    }
}

/// Where the product's crop landed on the canvas.
///
/// A source pixel position `s` maps to `offset + (s - crop) * scale` on the
/// canvas; the product's bounding box covers `placed_w x placed_h` canvas
/// pixels starting at (`offset_x`, `offset_y`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Left edge of the product's bounding box in the source image.
    pub crop_x: u32,
    /// Top edge of the product's bounding box in the source image.
    pub crop_y: u32,
    /// Width of the bounding box in source pixels.
    pub crop_w: u32,
    /// Height of the bounding box in source pixels.
    pub crop_h: u32,
    /// Canvas pixels per source pixel.
    pub scale: f32,
    /// Left edge of the placed product on the canvas.
    pub offset_x: u32,
    /// Top edge of the placed product on the canvas.
    pub offset_y: u32,
    /// Width of the placed product on the canvas.
    pub placed_w: u32,
    /// Height of the placed product on the canvas.
    pub placed_h: u32,
}

impl Placement {
    /// Maps a source image position to the canvas.
    pub fn source_to_canvas(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.offset_x as f32 + (p[0] - self.crop_x as f32) * self.scale,
            self.offset_y as f32 + (p[1] - self.crop_y as f32) * self.scale,
        ]
    }

    /// Maps a canvas position back to the source image.
    pub fn canvas_to_source(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.crop_x as f32 + (p[0] - self.offset_x as f32) / self.scale,
            self.crop_y as f32 + (p[1] - self.offset_y as f32) / self.scale,
        ]
    }

    /// The source-to-canvas map of one axis (x when `horizontal`).
    fn axis(&self, horizontal: bool) -> AxisMap {
        let (offset, crop) = if horizontal {
            (self.offset_x, self.crop_x)
        } else {
            (self.offset_y, self.crop_y)
        };
        let scale = f64::from(self.scale);
        AxisMap {
            origin: f64::from(offset) - f64::from(crop) * scale,
            scale,
        }
    }
}

/// The product on a transparent canvas.
#[derive(Debug, Clone)]
pub struct PlacedProduct {
    /// Canvas-sized image: product colours with alpha = the refined mask,
    /// fully transparent (0, 0, 0, 0) elsewhere.
    pub rgba: RgbaImage,
    /// Where the product landed.
    pub placement: Placement,
}

/// Everything the renderer needs for one canvas.
#[derive(Debug, Clone)]
pub struct PreparedCanvas {
    /// The product on its transparent canvas.
    pub placed: PlacedProduct,
    /// 255 = repaint (see [`inpaint_mask`]).
    pub inpaint_mask: GrayImage,
    /// ControlNet canny image (see [`control_image`]).
    pub control: RgbImage,
}

/// Crops the product (bounding box of mask >= 128), scales it to fit
/// inside `fit_fraction` of the canvas keeping its aspect ratio, and
/// centres it on a transparent canvas.
///
/// The alpha of the placed product is the mask, limited by the image's own
/// alpha (pixels that are transparent in the source have no colour to
/// show). Colours are resampled on premultiplied alpha: area averaging
/// when shrinking, bilinear when enlarging.
pub fn place_product(
    img: &RgbaImage,
    mask: &GrayImage,
    settings: &CanvasSettings,
) -> Result<PlacedProduct, ProductError> {
    check_same_size(img, mask)?;
    settings.validate()?;
    let (bx0, by0, bx1, by1) = bounding_box(mask, 128).ok_or(ProductError::NoProduct)?;
    let limited: Vec<u8> = mask
        .as_raw()
        .iter()
        .zip(img.as_raw().chunks_exact(4))
        .map(|(&m, p)| m.min(p[3]))
        .collect();
    let alpha = GrayImage::from_raw(img.width(), img.height(), limited).ok_or_else(|| {
        ProductError::SizeMismatch {
            what: "the product mask".to_string(),
            expected: img.dimensions(),
            actual: mask.dimensions(),
        }
    })?;
    let (sx0, sy0, sx1, sy1) = bounding_box(&alpha, 1).ok_or(ProductError::NoProduct)?;

    let (canvas_w, canvas_h) = settings.canvas_size();
    let (crop_w, crop_h) = (bx1 - bx0 + 1, by1 - by0 + 1);
    let fit = f64::from(settings.fit_fraction);
    let scale = (fit * f64::from(canvas_w) / f64::from(crop_w))
        .min(fit * f64::from(canvas_h) / f64::from(crop_h));
    let placed_w = ((f64::from(crop_w) * scale).round() as u32).clamp(1, canvas_w);
    let placed_h = ((f64::from(crop_h) * scale).round() as u32).clamp(1, canvas_h);
    let placement = Placement {
        crop_x: bx0,
        crop_y: by0,
        crop_w,
        crop_h,
        scale: scale as f32,
        offset_x: (canvas_w - placed_w) / 2,
        offset_y: (canvas_h - placed_h) / 2,
        placed_w,
        placed_h,
    };

    let (mx, my) = (placement.axis(true), placement.axis(false));
    let rect = DestRect {
        x0: canvas_start(mx, sx0, canvas_w),
        x1: canvas_end(mx, sx1, canvas_w),
        y0: canvas_start(my, sy0, canvas_h),
        y1: canvas_end(my, sy1, canvas_h),
    };
    let mut rgba = RgbaImage::new(canvas_w, canvas_h);
    let source = Source {
        rgb: img,
        alpha: &alpha,
    };
    resample_into(&source, mx, my, rect, &mut rgba);
    Ok(PlacedProduct { rgba, placement })
}

/// Places the product and derives the inpaint mask and control image.
pub fn prepare_canvas(
    img: &RgbaImage,
    mask: &GrayImage,
    settings: &CanvasSettings,
) -> Result<PreparedCanvas, ProductError> {
    let placed = place_product(img, mask, settings)?;
    let inpaint = inpaint_mask(&placed, settings.inpaint_dilate_px);
    let control = control_image(&placed);
    Ok(PreparedCanvas {
        placed,
        inpaint_mask: inpaint,
        control,
    })
}

/// Refuses a mask whose size differs from the image's.
fn check_same_size(img: &RgbaImage, mask: &GrayImage) -> Result<(), ProductError> {
    if img.dimensions() != mask.dimensions() {
        return Err(ProductError::SizeMismatch {
            what: "the product mask".to_string(),
            expected: img.dimensions(),
            actual: mask.dimensions(),
        });
    }
    Ok(())
}

/// Inclusive bounding box (x0, y0, x1, y1) of pixels >= `threshold`.
fn bounding_box(mask: &GrayImage, threshold: u8) -> Option<(u32, u32, u32, u32)> {
    let width = mask.width() as usize;
    if width == 0 {
        return None;
    }
    let mut bbox: Option<(usize, usize, usize, usize)> = None;
    for (y, row) in mask.as_raw().chunks_exact(width).enumerate() {
        let Some(first) = row.iter().position(|&v| v >= threshold) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v >= threshold).unwrap_or(first);
        bbox = Some(match bbox {
            None => (first, y, last, y),
            Some((x0, y0, x1, _)) => (x0.min(first), y0, x1.max(last), y),
        });
    }
    bbox.map(|(x0, y0, x1, y1)| (x0 as u32, y0 as u32, x1 as u32, y1 as u32))
}

/// First canvas pixel touched by source pixel `s` (one pixel of margin
/// for the bilinear filter).
fn canvas_start(map: AxisMap, s: u32, canvas: u32) -> u32 {
    let c = (map.origin + f64::from(s) * map.scale).floor() - 1.0;
    c.clamp(0.0, f64::from(canvas)) as u32
}

/// One past the last canvas pixel touched by source pixel `s`.
fn canvas_end(map: AxisMap, s: u32, canvas: u32) -> u32 {
    let c = (map.origin + f64::from(s + 1) * map.scale).ceil() + 1.0;
    c.clamp(0.0, f64::from(canvas)) as u32
}
