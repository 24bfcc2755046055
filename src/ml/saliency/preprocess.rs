//! Image <-> tensor conversions, following rembg's u2netp session.
//!
//! Input: the RGB image is resized to 320x320 with Lanczos-3, divided by
//! its largest channel value, then normalised with the ImageNet mean and
//! standard deviation. Output: the fused map is min-max normalised over
//! the image, quantised to u8 (truncating, as `astype(uint8)`) and resized
//! back to the image size with Lanczos-3.

use candle_core::{Device, Tensor};
use image::imageops::{resize, FilterType};
use image::{GrayImage, RgbImage};

use super::error::SaliencyError;

/// ImageNet channel means used by rembg.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations used by rembg.
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Smallest accepted image side in pixels: the product intake's rule
/// ([`crate::product::MIN_SIDE`]), so no decoded product photo is refused here.
pub const MIN_SIDE: u32 = crate::product::MIN_SIDE;
/// Largest accepted ratio of the long side to the short side: the product
/// intake's rule ([`crate::product::MAX_ASPECT`]).
pub const MAX_ASPECT: u32 = crate::product::MAX_ASPECT;

/// Rejects images too small or too elongated for a square 320x320 model
/// input (the same limits as [`crate::product::check_image_size`], for
/// images that did not come through the product intake).
pub fn check_image_size(width: u32, height: u32) -> Result<(), SaliencyError> {
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(SaliencyError::ImageTooSmall {
            width,
            height,
            min: MIN_SIDE,
        });
    }
    let (long, short) = (width.max(height), width.min(height));
    if u64::from(long) > u64::from(MAX_ASPECT) * u64::from(short) {
        return Err(SaliencyError::ImageTooWide {
            width,
            height,
            max_aspect: MAX_ASPECT,
        });
    }
    Ok(())
}

/// Resizes to `size` x `size` with Lanczos-3 (rembg uses PIL's LANCZOS).
pub fn resize_input(img: &RgbImage, size: u32) -> RgbImage {
    if img.dimensions() == (size, size) {
        return img.clone();
    }
    resize(img, size, size, FilterType::Lanczos3)
}

/// Normalises an already resized RGB image into a (1, 3, H, W) tensor:
/// x / max(x) then (x - mean) / std per channel. An all-black image keeps
/// its zeros (rembg would divide by zero).
pub fn normalize(img: &RgbImage, device: &Device) -> Result<Tensor, SaliencyError> {
    let (w, h) = img.dimensions();
    let (w, h) = (w as usize, h as usize);
    let max = img.as_raw().iter().copied().max().unwrap_or(0);
    let scale = if max == 0 { 1.0 } else { 1.0 / f64::from(max) };
    let mut data = vec![0f32; 3 * w * h];
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            // f64 then f32, as numpy computes in float64 before astype(float32).
            let v = (f64::from(px[c]) * scale - f64::from(MEAN[c])) / f64::from(STD[c]);
            data[c * w * h + i] = v as f32;
        }
    }
    Ok(Tensor::from_vec(data, (1, 3, h, w), device)?)
}

/// Min-max normalises a (1, 1, H, W) or (H, W) map to a u8 image of size
/// H x W (values truncated, as rembg's `astype("uint8")`). A constant map
/// becomes all zeros.
pub fn map_to_gray(map: &Tensor) -> Result<GrayImage, SaliencyError> {
    let (h, w) = {
        let d = map.dims();
        match d.len() {
            2 => (d[0], d[1]),
            4 if d[0] == 1 && d[1] == 1 => (d[2], d[3]),
            _ => {
                return Err(SaliencyError::InputShape {
                    channels: 1,
                    found: d.to_vec(),
                })
            }
        }
    };
    let values = map
        .to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in &values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let range = hi - lo;
    let pixels: Vec<u8> = values
        .iter()
        .map(|&v| {
            if range > 0.0 {
                // Truncation toward zero, clamped to the u8 range.
                (((v - lo) / range) * 255.0).clamp(0.0, 255.0) as u8
            } else {
                0
            }
        })
        .collect();
    let (w32, h32) = (
        u32::try_from(w).map_err(|_| too_big(w, h))?,
        u32::try_from(h).map_err(|_| too_big(w, h))?,
    );
    GrayImage::from_raw(w32, h32, pixels).ok_or_else(|| too_big(w, h))
}

fn too_big(w: usize, h: usize) -> SaliencyError {
    SaliencyError::InputShape {
        channels: 1,
        found: vec![h, w],
    }
}

/// Resizes a mask to the image size with Lanczos-3 (rembg uses PIL's LANCZOS).
pub fn resize_mask(mask: &GrayImage, width: u32, height: u32) -> GrayImage {
    if mask.dimensions() == (width, height) {
        return mask.clone();
    }
    resize(mask, width, height, FilterType::Lanczos3)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn size_checks() {
        assert!(check_image_size(16, 16).is_ok());
        assert!(matches!(
            check_image_size(15, 100),
            Err(SaliencyError::ImageTooSmall { .. })
        ));
        assert!(check_image_size(800, 100).is_ok());
        assert!(matches!(
            check_image_size(801, 100),
            Err(SaliencyError::ImageTooWide { .. })
        ));
        assert!(matches!(
            check_image_size(100, 900),
            Err(SaliencyError::ImageTooWide { .. })
        ));
    }

    #[test]
    fn agrees_with_the_product_intake_rule() {
        for (w, h) in [
            (16, 16),
            (15, 100),
            (800, 100),
            (801, 100),
            (4000, 10),
            (10, 4000),
        ] {
            assert_eq!(
                check_image_size(w, h).is_ok(),
                crate::product::check_image_size(w, h).is_ok(),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn normalize_divides_by_max_then_uses_imagenet_stats() {
        let img = RgbImage::from_fn(2, 1, |x, _| {
            if x == 0 {
                image::Rgb([200, 100, 0])
            } else {
                image::Rgb([0, 0, 0])
            }
        });
        let t = normalize(&img, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[1, 3, 1, 2]);
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // Channel-major: R(x0), R(x1), G(x0), G(x1), B(x0), B(x1).
        assert!((v[0] - (1.0 - 0.485) / 0.229).abs() < 1e-6);
        assert!((v[2] - (0.5 - 0.456) / 0.224).abs() < 1e-6);
        assert!((v[5] - (0.0 - 0.406) / 0.225).abs() < 1e-6);
    }

    #[test]
    fn gray_map_is_min_max_normalised_and_truncated() {
        let t = Tensor::from_vec(vec![0.2f32, 0.4, 0.6, 0.7], (1, 1, 2, 2), &Device::Cpu).unwrap();
        let g = map_to_gray(&t).unwrap();
        // (0.4-0.2)/0.5*255 = 102.0 (float rounding may give 101.99..), 0.8*255 = 204.
        assert_eq!(g.get_pixel(0, 0)[0], 0);
        assert!((101..=102).contains(&g.get_pixel(1, 0)[0]));
        assert!((203..=204).contains(&g.get_pixel(0, 1)[0]));
        assert_eq!(g.get_pixel(1, 1)[0], 255);
    }
}
