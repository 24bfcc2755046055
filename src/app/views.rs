//! Display images of a mask build, made on the worker so the UI thread
//! only uploads textures.

use std::sync::Arc;

use image::{GrayImage, Rgba, RgbaImage};

use crate::studio::MaskedProduct;

use super::output::MaskViews;

/// The tint of background pixels in the mask overlay (RGB).
pub const MASK_OVERLAY_RGB: [u8; 3] = [230, 40, 90];
/// The two greys of the checkerboard behind transparent pixels.
pub const CHECKER_GREYS: [u8; 2] = [205, 160];

/// The display images of a built mask.
pub fn mask_views(masked: &MaskedProduct) -> MaskViews {
    let prepared = &masked.prepared;
    MaskViews {
        overlay: Arc::new(mask_overlay(&masked.mask)),
        canvas: Arc::new(on_checkerboard(&prepared.placed.rgba)),
        inpaint: Arc::new(
            image::DynamicImage::ImageLuma8(prepared.inpaint_mask.clone()).to_rgba8(),
        ),
        control: Arc::new(image::DynamicImage::ImageRgb8(prepared.control.clone()).to_rgba8()),
    }
}

/// The mask as an overlay: background tinted at half strength, product
/// clear.
fn mask_overlay(mask: &GrayImage) -> RgbaImage {
    let [r, g, b] = MASK_OVERLAY_RGB;
    RgbaImage::from_fn(mask.width(), mask.height(), |x, y| {
        let background = 255 - mask.get_pixel(x, y).0[0];
        Rgba([r, g, b, background / 2])
    })
}

/// The placed product over a checkerboard, so transparency is visible.
fn on_checkerboard(rgba: &RgbaImage) -> RgbaImage {
    let [light, dark] = CHECKER_GREYS;
    RgbaImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y);
        let back = if ((x / 16) + (y / 16)) % 2 == 0 {
            light
        } else {
            dark
        };
        let a = u16::from(p.0[3]);
        let mix = |c: u8| ((u16::from(c) * a + u16::from(back) * (255 - a) + 127) / 255) as u8;
        Rgba([mix(p.0[0]), mix(p.0[1]), mix(p.0[2]), 255])
    })
}

/// An RGBA image as egui takes it (unmultiplied alpha).
pub fn color_image(rgba: &RgbaImage) -> egui::ColorImage {
    egui::ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    )
}
