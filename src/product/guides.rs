//! Guides for the renderer derived from the placed product: the inpaint
//! mask and the ControlNet canny image.

use image::{GrayImage, Luma, Rgb, RgbImage};
use imageproc::edges::canny;
use imageproc::morphology::{grayscale_dilate, Mask};

use super::canvas::PlacedProduct;

/// Canny thresholds used for the ControlNet image (as in CAIG).
const CANNY_LOW: f32 = 100.0;
/// Upper canny threshold.
const CANNY_HIGH: f32 = 200.0;

/// The repaint mask: 255 - alpha, grey-level dilated with a square of side
/// `2 * dilate_px + 1` (at most 511), so the repaint zone reaches about
/// `dilate_px` pixels into the product edge and hides seams.
pub fn inpaint_mask(placed: &PlacedProduct, dilate_px: u32) -> GrayImage {
    let rgba = &placed.rgba;
    let inverse = GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        Luma([255 - rgba.get_pixel(x, y).0[3]])
    });
    if dilate_px == 0 {
        return inverse;
    }
    let radius = u8::try_from(dilate_px).unwrap_or(u8::MAX);
    grayscale_dilate(&inverse, &Mask::square(radius))
}

/// The ControlNet image: canny edges (thresholds 100/200) of the product's
/// luma with the background black where alpha < 128, replicated to three
/// equal channels.
pub fn control_image(placed: &PlacedProduct) -> RgbImage {
    let rgba = &placed.rgba;
    let luma = GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        if p[3] < 128 {
            Luma([0])
        } else {
            Luma([rec709_luma(p[0], p[1], p[2])])
        }
    });
    let edges = canny(&luma, CANNY_LOW, CANNY_HIGH);
    RgbImage::from_fn(edges.width(), edges.height(), |x, y| {
        let v = edges.get_pixel(x, y).0[0];
        Rgb([v, v, v])
    })
}

/// Rec. 709 luma in integer maths (the same weights `image` uses).
fn rec709_luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b);
    ((y + 5000) / 10_000) as u8
}
