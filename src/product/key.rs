//! Background keying: flood fill from the image border over a near-uniform
//! backdrop (pure white or a flat studio colour).
//!
//! Only background connected to the border is removed, so white areas
//! enclosed by the product (labels, highlights) stay product.

use image::{GrayImage, Luma, RgbaImage};

use super::error::ProductError;
use super::mask::{has_product, KeySettings};

/// Share of border pixels that must be within tolerance of the estimated
/// backdrop colour for keying to be trusted.
const MIN_UNIFORM_BORDER: f32 = 0.6;

/// Half-size of the window searched for the local product colour when the
/// soft edge is estimated (2 = a 5x5 window).
const EDGE_WINDOW: i64 = 2;

/// Removes a near-uniform backdrop and returns the product mask
/// (255 = product, 0 = background, values in between on the soft edge).
///
/// The backdrop colour is the per-channel median of the border pixels; at
/// least 60 % of the border must lie within `settings.tolerance` of it,
/// otherwise [`ProductError::NoKeyableBackground`] is returned. Pixels
/// already transparent in `img` stay background.
pub fn key_background(img: &RgbaImage, settings: &KeySettings) -> Result<GrayImage, ProductError> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(ProductError::NoProduct);
    }
    let tolerance = settings.tolerance;
    if !tolerance.is_finite() || !(0.0..=255.0).contains(&tolerance) {
        return Err(ProductError::InvalidSettings {
            detail: format!("key tolerance must be between 0 and 255, got {tolerance}"),
        });
    }
    let border = border_indices(w, h);
    let background = median_colour(img, &border);
    let distance: Vec<f32> = img
        .pixels()
        .map(|p| colour_distance([p.0[0], p.0[1], p.0[2]], background))
        .collect();

    let uniform = border.iter().filter(|&&i| distance[i] <= tolerance).count();
    let share = uniform as f32 / border.len() as f32;
    if share < MIN_UNIFORM_BORDER {
        return Err(ProductError::NoKeyableBackground {
            detail: format!(
                "only {:.0} % of the image border is close to the backdrop colour RGB({}, {}, {}) within tolerance {tolerance:.0} (at least {:.0} % is needed)",
                share * 100.0,
                background[0],
                background[1],
                background[2],
                MIN_UNIFORM_BORDER * 100.0
            ),
        });
    }

    let filled = flood_fill(w, h, &border, |i| distance[i] <= tolerance);
    let mut mask = GrayImage::new(w, h);
    for (i, value) in mask.as_mut().iter_mut().enumerate() {
        *value = if filled[i] { 0 } else { 255 };
    }
    soften_edge(&mut mask, &filled, &distance, tolerance);
    for (value, pixel) in mask.as_mut().iter_mut().zip(img.pixels()) {
        *value = ((u16::from(*value) * u16::from(pixel.0[3]) + 127) / 255) as u8;
    }
    if !has_product(&mask) {
        return Err(ProductError::NoProduct);
    }
    Ok(mask)
}

/// Largest per-channel difference between two colours (0..=255).
fn colour_distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    let d = (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0);
    f32::from(d)
}

/// Linear indices of the pixels on the image border, each listed once.
fn border_indices(w: u32, h: u32) -> Vec<usize> {
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::with_capacity(2 * (w + h));
    for y in 0..h {
        if y == 0 || y == h - 1 {
            out.extend((0..w).map(|x| y * w + x));
        } else {
            out.push(y * w);
            if w > 1 {
                out.push(y * w + w - 1);
            }
        }
    }
    out
}

/// Per-channel median colour of the given pixels.
fn median_colour(img: &RgbaImage, indices: &[usize]) -> [u8; 3] {
    let raw = img.as_raw();
    let mut out = [0u8; 3];
    for (c, slot) in out.iter_mut().enumerate() {
        let mut histogram = [0usize; 256];
        for &i in indices {
            histogram[usize::from(raw[i * 4 + c])] += 1;
        }
        let half = indices.len().div_ceil(2);
        let mut seen = 0;
        for (value, count) in histogram.iter().enumerate() {
            seen += count;
            if seen >= half {
                *slot = value as u8;
                break;
            }
        }
    }
    out
}

/// 4-connected flood fill from every seed that passes `inside`, spreading
/// only over pixels that pass `inside`. Returns the filled set.
fn flood_fill(w: u32, h: u32, seeds: &[usize], inside: impl Fn(usize) -> bool) -> Vec<bool> {
    let (w, h) = (w as usize, h as usize);
    let mut filled = vec![false; w * h];
    let mut stack: Vec<usize> = Vec::new();
    for &s in seeds {
        if !filled[s] && inside(s) {
            filled[s] = true;
            stack.push(s);
        }
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let mut visit = |j: usize| {
            if !filled[j] && inside(j) {
                filled[j] = true;
                stack.push(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    filled
}

/// Gives product pixels that touch the removed background a partial alpha.
///
/// A pixel at colour distance `d` from the backdrop gets
/// `(d - tol) / (d_ref - tol)`, where `d_ref` is the largest distance among
/// nearby product pixels (at least `2 * tol`). Against a strongly
/// contrasting product this is a linear matte of the anti-aliased edge;
/// against a product close to the backdrop colour it is a ramp from
/// `tol` to `2 * tol`.
fn soften_edge(mask: &mut GrayImage, filled: &[bool], distance: &[f32], tolerance: f32) {
    let (w, h) = (i64::from(mask.width()), i64::from(mask.height()));
    let at = |x: i64, y: i64| (y * w + x) as usize;
    for y in 0..h {
        for x in 0..w {
            let i = at(x, y);
            if filled[i] || !touches_filled(filled, x, y, w, h) {
                continue;
            }
            let mut reference = 2.0 * tolerance;
            for ny in (y - EDGE_WINDOW).max(0)..=(y + EDGE_WINDOW).min(h - 1) {
                for nx in (x - EDGE_WINDOW).max(0)..=(x + EDGE_WINDOW).min(w - 1) {
                    let j = at(nx, ny);
                    if !filled[j] {
                        reference = reference.max(distance[j]);
                    }
                }
            }
            let span = (reference - tolerance).max(1.0);
            let alpha = ((distance[i] - tolerance) / span).clamp(0.0, 1.0);
            mask.put_pixel(x as u32, y as u32, Luma([(alpha * 255.0).round() as u8]));
        }
    }
}

/// True when one of the 8 neighbours of (x, y) is filled background.
fn touches_filled(filled: &[bool], x: i64, y: i64, w: i64, h: i64) -> bool {
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (nx, ny) = (x + dx, y + dy);
            if (dx != 0 || dy != 0)
                && nx >= 0
                && ny >= 0
                && nx < w
                && ny < h
                && filled[(ny * w + nx) as usize]
            {
                return true;
            }
        }
    }
    false
}
