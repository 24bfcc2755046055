//! The product as a layer: the original photo, with the mask as alpha,
//! resampled once onto a frame of any size by a uniform scale and an
//! origin. [`super::place_product`] uses it for the ad canvas; the winner
//! export uses it at platform sizes, straight from the source photo.

use image::{GrayImage, RgbaImage};

use super::error::ProductError;
use super::resample::{resample_into, AxisMap, DestRect, Source};

/// A uniform map from source pixels to frame pixels:
/// `frame = origin + source * scale` on each axis (pixel edges at
/// integers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerMap {
    /// Frame x of the source's left edge.
    pub origin_x: f64,
    /// Frame y of the source's top edge.
    pub origin_y: f64,
    /// Frame pixels per source pixel.
    pub scale: f64,
}

impl LayerMap {
    /// Maps a source position to the frame.
    pub fn source_to_frame(&self, p: [f64; 2]) -> [f64; 2] {
        [
            self.origin_x + p[0] * self.scale,
            self.origin_y + p[1] * self.scale,
        ]
    }

    fn axis(&self, horizontal: bool) -> AxisMap {
        AxisMap {
            origin: if horizontal {
                self.origin_x
            } else {
                self.origin_y
            },
            scale: self.scale,
        }
    }
}

/// The alpha the product layer uses: the mask, limited by the image's own
/// alpha (transparent source pixels have no colour to show).
pub fn product_alpha(img: &RgbaImage, mask: &GrayImage) -> Result<GrayImage, ProductError> {
    if img.dimensions() != mask.dimensions() {
        return Err(ProductError::SizeMismatch {
            what: "the product mask".to_string(),
            expected: img.dimensions(),
            actual: mask.dimensions(),
        });
    }
    let limited: Vec<u8> = mask
        .as_raw()
        .iter()
        .zip(img.as_raw().chunks_exact(4))
        .map(|(&m, p)| m.min(p[3]))
        .collect();
    GrayImage::from_raw(img.width(), img.height(), limited).ok_or_else(|| {
        ProductError::SizeMismatch {
            what: "the product mask".to_string(),
            expected: img.dimensions(),
            actual: mask.dimensions(),
        }
    })
}

/// Resamples the product (colours of `img`, alpha `alpha` from
/// [`product_alpha`]) once onto a transparent `width x height` frame with
/// `map`: area averaging when shrinking, bilinear when enlarging, on
/// premultiplied alpha. Pixels outside the product are (0, 0, 0, 0).
pub fn render_layer(
    img: &RgbaImage,
    alpha: &GrayImage,
    map: LayerMap,
    (width, height): (u32, u32),
) -> Result<RgbaImage, ProductError> {
    if img.dimensions() != alpha.dimensions() {
        return Err(ProductError::SizeMismatch {
            what: "the product alpha".to_string(),
            expected: img.dimensions(),
            actual: alpha.dimensions(),
        });
    }
    let mut rgba = RgbaImage::new(width, height);
    let Some((sx0, sy0, sx1, sy1)) = bounding_box(alpha, 1) else {
        return Ok(rgba);
    };
    let (mx, my) = (map.axis(true), map.axis(false));
    let rect = DestRect {
        x0: frame_start(mx, sx0, width),
        x1: frame_end(mx, sx1, width),
        y0: frame_start(my, sy0, height),
        y1: frame_end(my, sy1, height),
    };
    let source = Source { rgb: img, alpha };
    resample_into(&source, mx, my, rect, &mut rgba);
    Ok(rgba)
}

/// Inclusive bounding box (x0, y0, x1, y1) of pixels >= `threshold`.
pub fn bounding_box(mask: &GrayImage, threshold: u8) -> Option<(u32, u32, u32, u32)> {
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

/// First frame pixel touched by source pixel `s` (one pixel of margin for
/// the bilinear filter).
fn frame_start(map: AxisMap, s: u32, len: u32) -> u32 {
    let c = (map.origin + f64::from(s) * map.scale).floor() - 1.0;
    c.clamp(0.0, f64::from(len)) as u32
}

/// One past the last frame pixel touched by source pixel `s`.
fn frame_end(map: AxisMap, s: u32, len: u32) -> u32 {
    let c = (map.origin + f64::from(s + 1) * map.scale).ceil() + 1.0;
    c.clamp(0.0, f64::from(len)) as u32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn identity_map_copies_the_product_pixels() {
        let img = RgbaImage::from_fn(20, 10, |x, y| {
            image::Rgba([x as u8 * 9, y as u8 * 20, 7, 255])
        });
        let mask = GrayImage::from_fn(20, 10, |x, _| image::Luma([if x < 12 { 255 } else { 0 }]));
        let alpha = product_alpha(&img, &mask).unwrap();
        let map = LayerMap {
            origin_x: 3.0,
            origin_y: 2.0,
            scale: 1.0,
        };
        let layer = render_layer(&img, &alpha, map, (30, 15)).unwrap();
        for y in 0..10 {
            for x in 0..12 {
                assert_eq!(
                    layer.get_pixel(x + 3, y + 2),
                    img.get_pixel(x, y),
                    "({x}, {y})"
                );
            }
            assert_eq!(layer.get_pixel(12 + 3, y + 2).0[3], 0);
        }
    }

    #[test]
    fn alpha_is_limited_by_the_photo_alpha() {
        let img = RgbaImage::from_pixel(4, 4, image::Rgba([1, 2, 3, 100]));
        let mask = GrayImage::from_pixel(4, 4, image::Luma([255]));
        let alpha = product_alpha(&img, &mask).unwrap();
        assert!(alpha.pixels().all(|p| p.0[0] == 100));
        assert!(product_alpha(&img, &GrayImage::new(3, 4)).is_err());
    }
}
