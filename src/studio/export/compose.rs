//! Composing one export image, pure pixel code.
//!
//! On a render: the render is upscaled with Lanczos3 to cover the export
//! size (uniform scale, centred crop of at most [`super::size::ASPECT_TOLERANCE`]
//! of a side: sizes of another aspect are refused) and the product is
//! resampled **once** from the original photo and its soft mask to its
//! place at the export size (the render's placement, scaled), then blended
//! over it with the soft alpha. Nothing of the product comes from the
//! 512-pixel canvas except under the soft edge, where the blend shows the
//! background by `255 - alpha`. On white: the product alone, its bounding
//! box filling a share of the frame, centred.

use image::imageops::{self, FilterType};
use image::{GrayImage, Rgb, RgbImage, RgbaImage};

use crate::product::layer::bounding_box;
use crate::product::{
    composite_layer, place_product, product_alpha, render_layer, CanvasSettings, LayerMap,
    ProductError,
};

use super::error::ExportError;
use super::size::{Backdrop, ExportSize};

/// An export image and how it was made.
#[derive(Debug, Clone)]
pub struct Composed {
    /// The final image.
    pub image: RgbImage,
    /// The product layer at the export size (alpha = the resampled mask).
    pub layer: RgbaImage,
    /// What the layer was blended over.
    pub background: RgbImage,
    /// Where the source photo landed at the export size.
    pub map: LayerMap,
}

/// How a render covers an export frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverFit {
    /// Export pixels per render pixel.
    pub scale: f64,
    /// Size of the upscaled render before the crop.
    pub resized: (u32, u32),
    /// Top-left corner of the crop in the upscaled render.
    pub crop: (u32, u32),
}

/// The cover fit of a `render` size onto `frame`.
pub fn cover_fit(render: (u32, u32), frame: (u32, u32)) -> CoverFit {
    let sx = f64::from(frame.0) / f64::from(render.0);
    let sy = f64::from(frame.1) / f64::from(render.1);
    let scale = sx.max(sy);
    let rw = ((f64::from(render.0) * scale).round() as u32).max(frame.0);
    let rh = ((f64::from(render.1) * scale).round() as u32).max(frame.1);
    CoverFit {
        scale,
        resized: (rw, rh),
        crop: ((rw - frame.0) / 2, (rh - frame.1) / 2),
    }
}

/// The render upscaled (Lanczos3) and centre-cropped to the frame.
pub fn upscale_background(render: &RgbImage, fit: &CoverFit, frame: (u32, u32)) -> RgbImage {
    let resized = imageops::resize(render, fit.resized.0, fit.resized.1, FilterType::Lanczos3);
    imageops::crop_imm(&resized, fit.crop.0, fit.crop.1, frame.0, frame.1).to_image()
}

/// Composes `size` from a render made on `canvas` with the product photo
/// `original` and its `mask` (source pixels, the mask the render was
/// placed with).
pub fn compose_on_render(
    original: &RgbaImage,
    mask: &GrayImage,
    canvas: &CanvasSettings,
    render: &RgbImage,
    size: &ExportSize,
) -> Result<Composed, ExportError> {
    let frame = (size.width, size.height);
    let (render_w, render_h) = render.dimensions();
    if !size.matches_aspect(render_w, render_h) {
        return Err(ExportError::AspectMismatch {
            size: size.name.clone(),
            width: size.width,
            height: size.height,
            render_w,
            render_h,
        });
    }
    let placed = place_product(original, mask, canvas)?;
    let fit = cover_fit((render_w, render_h), frame);
    let canvas_map = placed.placement.layer_map();
    let map = LayerMap {
        origin_x: canvas_map.origin_x * fit.scale - f64::from(fit.crop.0),
        origin_y: canvas_map.origin_y * fit.scale - f64::from(fit.crop.1),
        scale: canvas_map.scale * fit.scale,
    };
    let alpha = product_alpha(original, mask)?;
    check_inside(&alpha, map, size)?;
    let layer = render_layer(original, &alpha, map, frame)?;
    let background = upscale_background(render, &fit, frame);
    let image = composite_layer(&layer, &background)?;
    Ok(Composed {
        image,
        layer,
        background,
        map,
    })
}

/// Composes the product alone on white: its bounding box (mask >= 128, as
/// on the canvas) fills `fill` of the frame's width or height, centred.
pub fn compose_on_white(
    original: &RgbaImage,
    mask: &GrayImage,
    size: &ExportSize,
    fill: f64,
) -> Result<Composed, ExportError> {
    let frame = (size.width, size.height);
    let alpha = product_alpha(original, mask)?;
    let (x0, y0, x1, y1) = bounding_box(mask, 128).ok_or(ProductError::NoProduct)?;
    let (crop_w, crop_h) = (f64::from(x1 - x0 + 1), f64::from(y1 - y0 + 1));
    let scale = (fill * f64::from(frame.0) / crop_w).min(fill * f64::from(frame.1) / crop_h);
    let map = LayerMap {
        origin_x: (f64::from(frame.0) - crop_w * scale) / 2.0 - f64::from(x0) * scale,
        origin_y: (f64::from(frame.1) - crop_h * scale) / 2.0 - f64::from(y0) * scale,
        scale,
    };
    let layer = render_layer(original, &alpha, map, frame)?;
    let background = RgbImage::from_pixel(frame.0, frame.1, Rgb([255, 255, 255]));
    let image = composite_layer(&layer, &background)?;
    Ok(Composed {
        image,
        layer,
        background,
        map,
    })
}

/// Composes `size` for a render (or on white, whatever the size asks).
pub fn compose(
    original: &RgbaImage,
    mask: &GrayImage,
    canvas: &CanvasSettings,
    render: Option<&RgbImage>,
    size: &ExportSize,
) -> Result<Composed, ExportError> {
    match (size.backdrop, render) {
        (Backdrop::White { fill }, _) => compose_on_white(original, mask, size, fill),
        (Backdrop::Render, Some(render)) => compose_on_render(original, mask, canvas, render, size),
        (Backdrop::Render, None) => Err(ExportError::BadRender {
            render: 0,
            reason: format!("{} needs a render behind the product", size.name),
        }),
    }
}

/// Refuses a map that puts any visible product pixel more than one pixel
/// outside the frame.
fn check_inside(alpha: &GrayImage, map: LayerMap, size: &ExportSize) -> Result<(), ExportError> {
    let Some((x0, y0, x1, y1)) = bounding_box(alpha, 1) else {
        return Ok(());
    };
    let [left, top] = map.source_to_frame([f64::from(x0), f64::from(y0)]);
    let [right, bottom] = map.source_to_frame([f64::from(x1 + 1), f64::from(y1 + 1)]);
    let inside = left >= -1.0
        && top >= -1.0
        && right <= f64::from(size.width) + 1.0
        && bottom <= f64::from(size.height) + 1.0;
    if inside {
        Ok(())
    } else {
        Err(ExportError::ProductCut {
            size: size.name.clone(),
            width: size.width,
            height: size.height,
        })
    }
}
