//! Pasting the original product back over the generated image.

use image::{Rgb, RgbImage};

use super::canvas::PlacedProduct;
use super::error::ProductError;

/// Blends the generated image under the placed product:
/// `final = (1 - m) * placed + m * generated` with `m = (255 - alpha) / 255`
/// (the soft, undilated mask).
///
/// Integer maths with rounding: pixels with alpha 255 are bit-identical to
/// the placed product and pixels with alpha 0 are the generated image.
pub fn composite(placed: &PlacedProduct, generated: &RgbImage) -> Result<RgbImage, ProductError> {
    let rgba = &placed.rgba;
    if rgba.dimensions() != generated.dimensions() {
        return Err(ProductError::SizeMismatch {
            what: "the generated image".to_string(),
            expected: rgba.dimensions(),
            actual: generated.dimensions(),
        });
    }
    Ok(RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let g = generated.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let mix =
            |c: usize| ((u32::from(p[c]) * a + u32::from(g[c]) * (255 - a) + 127) / 255) as u8;
        Rgb([mix(0), mix(1), mix(2)])
    }))
}
