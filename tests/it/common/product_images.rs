//! Synthetic product pictures for the product module's tests.
#![allow(dead_code)]

use image::{GrayImage, Luma, Rgba, RgbaImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Supersampling factor used for anti-aliased shapes.
const SS: u32 = 4;

/// Anti-aliased coverage mask (0..=255) of a shape given by `inside(x, y)`.
pub fn coverage(w: u32, h: u32, inside: impl Fn(f32, f32) -> bool) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| {
        let mut hits = 0u32;
        for sy in 0..SS {
            for sx in 0..SS {
                let px = x as f32 + (sx as f32 + 0.5) / SS as f32;
                let py = y as f32 + (sy as f32 + 0.5) / SS as f32;
                if inside(px, py) {
                    hits += 1;
                }
            }
        }
        Luma([((hits * 255 + SS * SS / 2) / (SS * SS)) as u8])
    })
}

/// Anti-aliased disc.
pub fn disc(w: u32, h: u32, cx: f32, cy: f32, r: f32) -> GrayImage {
    coverage(w, h, |x, y| (x - cx).powi(2) + (y - cy).powi(2) <= r * r)
}

/// Anti-aliased rounded rectangle spanning [x0, x1) x [y0, y1).
pub fn rounded_rect(w: u32, h: u32, rect: [f32; 4], radius: f32) -> GrayImage {
    let [x0, y0, x1, y1] = rect;
    coverage(w, h, move |x, y| {
        if x < x0 || x >= x1 || y < y0 || y >= y1 {
            return false;
        }
        let cx = x.clamp(x0 + radius, x1 - radius);
        let cy = y.clamp(y0 + radius, y1 - radius);
        (x - cx).powi(2) + (y - cy).powi(2) <= radius * radius
    })
}

/// A product of flat colour with the mask as its alpha (transparent PNG
/// style); transparent pixels get `garbage` as their colour.
pub fn cutout(mask: &GrayImage, colour: [u8; 3], garbage: [u8; 3]) -> RgbaImage {
    RgbaImage::from_fn(mask.width(), mask.height(), |x, y| {
        let a = mask.get_pixel(x, y).0[0];
        if a == 0 {
            Rgba([garbage[0], garbage[1], garbage[2], 0])
        } else {
            Rgba([colour[0], colour[1], colour[2], a])
        }
    })
}

/// Saves a `w` x `h` PNG product: a disc of radius `r` and flat `colour`,
/// centred, anti-aliased ([`disc`]), on transparency.
pub fn save_disc_product(path: &std::path::Path, w: u32, h: u32, r: f32, colour: [u8; 3]) {
    let mask = disc(w, h, w as f32 / 2.0, h as f32 / 2.0, r);
    cutout(&mask, colour, [0, 0, 0])
        .save(path)
        .expect("save product");
}

/// Opaque photo: `product(x, y)` blended over a flat backdrop by `mask`,
/// the backdrop carrying uniform noise of +-`noise`.
pub fn on_backdrop(
    mask: &GrayImage,
    product: impl Fn(u32, u32) -> [u8; 3],
    backdrop: [u8; 3],
    noise: i32,
    seed: u64,
) -> RgbaImage {
    let mut rng = StdRng::seed_from_u64(seed);
    RgbaImage::from_fn(mask.width(), mask.height(), |x, y| {
        let a = f32::from(mask.get_pixel(x, y).0[0]) / 255.0;
        let p = product(x, y);
        let mut out = [0u8, 0, 0, 255];
        for c in 0..3 {
            let n = if noise > 0 {
                rng.random_range(-noise..=noise)
            } else {
                0
            };
            let bg = (i32::from(backdrop[c]) + n).clamp(0, 255) as f32;
            out[c] = (f32::from(p[c]) * a + bg * (1.0 - a)).round() as u8;
        }
        Rgba(out)
    })
}

/// Opaque image of random colours (nothing to key).
pub fn noise_image(w: u32, h: u32, seed: u64) -> RgbaImage {
    let mut rng = StdRng::seed_from_u64(seed);
    RgbaImage::from_fn(w, h, |_, _| {
        Rgba([rng.random(), rng.random(), rng.random(), 255])
    })
}

/// Intersection over union of two masks binarised at 128.
pub fn iou(a: &GrayImage, b: &GrayImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut inter, mut union) = (0u64, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let (x, y) = (p.0[0] >= 128, q.0[0] >= 128);
        inter += u64::from(x && y);
        union += u64::from(x || y);
    }
    inter as f64 / union.max(1) as f64
}

/// Number of mask pixels >= 128.
pub fn area(mask: &GrayImage) -> u64 {
    mask.pixels().filter(|p| p.0[0] >= 128).count() as u64
}

/// Inclusive bounding box (x0, y0, x1, y1) of alpha >= 128.
pub fn alpha_bbox(img: &RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[3] >= 128 {
            bbox = Some(match bbox {
                None => (x, y, x, y),
                Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
            });
        }
    }
    bbox
}

/// CRC-32 (IEEE) as used by PNG chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk with its length and CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// The header of an RGBA8 PNG claiming the given size, with no pixel data.
pub fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}
