//! Placing the product on the ad canvas and preparing everything the
//! renderer needs (inpaint mask and ControlNet image, see [`super::guides`]).

use std::sync::Arc;

use image::{GrayImage, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};

pub use super::aspect::AspectPreset;
pub use super::guides::{control_image, inpaint_mask};

use super::error::ProductError;
use super::layer::{bounding_box, product_alpha, render_layer, LayerMap};

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

    /// The source-to-canvas map of the placed product.
    pub fn layer_map(&self) -> LayerMap {
        let scale = f64::from(self.scale);
        LayerMap {
            origin_x: f64::from(self.offset_x) - f64::from(self.crop_x) * scale,
            origin_y: f64::from(self.offset_y) - f64::from(self.crop_y) * scale,
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
    /// The refined mask the product was placed with, in source pixels
    /// (kept so a saved render can record it for exports at other sizes).
    pub source_mask: Arc<GrayImage>,
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
    settings.validate()?;
    let alpha = product_alpha(img, mask)?;
    let (bx0, by0, bx1, by1) = bounding_box(mask, 128).ok_or(ProductError::NoProduct)?;
    if bounding_box(&alpha, 1).is_none() {
        return Err(ProductError::NoProduct);
    }
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
    let rgba = render_layer(img, &alpha, placement.layer_map(), (canvas_w, canvas_h))?;
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
        source_mask: Arc::new(mask.clone()),
    })
}
