//! Pasting the original product back over the generated image.

use image::{Rgb, RgbImage, RgbaImage};

use super::canvas::PlacedProduct;
use super::error::ProductError;

/// Blends the generated image under the placed product:
/// `final = (1 - m) * placed + m * generated` with `m = (255 - alpha) / 255`
/// (the soft, undilated mask).
///
/// Integer maths with rounding: pixels with alpha 255 are bit-identical to
/// the placed product and pixels with alpha 0 are the generated image.
pub fn composite(placed: &PlacedProduct, generated: &RgbImage) -> Result<RgbImage, ProductError> {
    composite_layer(&placed.rgba, generated)
}

/// Blends `background` under a product layer of the same size (see
/// [`composite`]): `final = (alpha * layer + (255 - alpha) * background +
/// 127) / 255` per channel, so alpha 255 keeps the layer's pixel exactly
/// and alpha 0 keeps the background's.
pub fn composite_layer(layer: &RgbaImage, background: &RgbImage) -> Result<RgbImage, ProductError> {
    if layer.dimensions() != background.dimensions() {
        return Err(ProductError::SizeMismatch {
            what: "the generated image".to_string(),
            expected: layer.dimensions(),
            actual: background.dimensions(),
        });
    }
    Ok(RgbImage::from_fn(layer.width(), layer.height(), |x, y| {
        let p = layer.get_pixel(x, y).0;
        let g = background.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let mix =
            |c: usize| ((u32::from(p[c]) * a + u32::from(g[c]) * (255 - a) + 127) / 255) as u8;
        Rgb([mix(0), mix(1), mix(2)])
    }))
}
