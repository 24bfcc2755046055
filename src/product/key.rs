//! Background keying: flood fill from the image border over a near-uniform
//! backdrop (pure white or a flat studio colour).
//!
//! Only background connected to the border is removed, so white areas
//! enclosed by the product (labels, highlights) stay product.

use image::{GrayImage, RgbaImage};

use super::error::ProductError;
use super::mask::{has_product, KeySettings};

/// Share of border pixels that must be within tolerance of the estimated
/// backdrop colour for keying to be trusted.
const MIN_UNIFORM_BORDER: f32 = 0.6;

/// Half-size of the window searched for the local product colour when the
/// soft edge is estimated (2 = a 5x5 window).
const EDGE_WINDOW: usize = 2;

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
    let distance: Vec<u8> = img
        .as_raw()
        .chunks_exact(4)
        .map(|p| colour_distance([p[0], p[1], p[2]], background))
        .collect();
    let is_background = |i: usize| f32::from(distance[i]) <= tolerance;

    let uniform = border.iter().filter(|&&i| is_background(i)).count();
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

    let fill = flood_fill(w, h, &border, is_background);
    let mut values: Vec<u8> = fill
        .filled
        .iter()
        .map(|&f| if f { 0 } else { 255 })
        .collect();
    let edge = EdgeInput {
        width: w as usize,
        height: h as usize,
        filled: &fill.filled,
        distance: &distance,
        tolerance,
    };
    for &i in &fill.boundary {
        values[i] = edge.alpha(i);
    }
    for (value, pixel) in values.iter_mut().zip(img.as_raw().chunks_exact(4)) {
        *value = ((u16::from(*value) * u16::from(pixel[3]) + 127) / 255) as u8;
    }
    let mask = GrayImage::from_raw(w, h, values).ok_or(ProductError::NoProduct)?;
    if !has_product(&mask) {
        return Err(ProductError::NoProduct);
    }
    Ok(mask)
}

/// Largest per-channel difference between two colours (0..=255).
fn colour_distance(a: [u8; 3], b: [u8; 3]) -> u8 {
    a[0].abs_diff(b[0])
        .max(a[1].abs_diff(b[1]))
        .max(a[2].abs_diff(b[2]))
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

/// Result of a flood fill.
struct Fill {
    /// Pixels reached (background).
    filled: Vec<bool>,
    /// Unreached pixels 4-adjacent to a reached one, each listed once.
    boundary: Vec<usize>,
}

/// 4-connected flood fill from every seed that passes `inside`, spreading
/// only over pixels that pass `inside`. O(pixels): each pixel is pushed at
/// most once.
fn flood_fill(w: u32, h: u32, seeds: &[usize], inside: impl Fn(usize) -> bool) -> Fill {
    let (w, h) = (w as usize, h as usize);
    let mut filled = vec![false; w * h];
    let mut rejected = vec![false; w * h];
    let mut boundary = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut visit = |j: usize, filled: &mut Vec<bool>, stack: &mut Vec<usize>| {
        if filled[j] || rejected[j] {
            return;
        }
        if inside(j) {
            filled[j] = true;
            stack.push(j);
        } else {
            rejected[j] = true;
            boundary.push(j);
        }
    };
    for &s in seeds {
        if !filled[s] && inside(s) {
            filled[s] = true;
            stack.push(s);
        }
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        if x > 0 {
            visit(i - 1, &mut filled, &mut stack);
        }
        if x + 1 < w {
            visit(i + 1, &mut filled, &mut stack);
        }
        if y > 0 {
            visit(i - w, &mut filled, &mut stack);
        }
        if y + 1 < h {
            visit(i + w, &mut filled, &mut stack);
        }
    }
    Fill { filled, boundary }
}

/// What the soft-edge estimate reads.
struct EdgeInput<'a> {
    width: usize,
    height: usize,
    filled: &'a [bool],
    distance: &'a [u8],
    tolerance: f32,
}

impl EdgeInput<'_> {
    /// Partial alpha of a product pixel that touches the removed background.
    ///
    /// A pixel at colour distance `d` from the backdrop gets
    /// `(d - tol) / (d_ref - tol)`, where `d_ref` is the largest distance
    /// among nearby product pixels (at least `2 * tol`). Against a strongly
    /// contrasting product this is a linear matte of the anti-aliased edge;
    /// against a product close to the backdrop colour it is a ramp from
    /// `tol` to `2 * tol`.
    fn alpha(&self, i: usize) -> u8 {
        let (x, y) = (i % self.width, i / self.width);
        let mut reference = 2.0 * self.tolerance;
        let ys = y.saturating_sub(EDGE_WINDOW)..=(y + EDGE_WINDOW).min(self.height - 1);
        for ny in ys {
            let xs = x.saturating_sub(EDGE_WINDOW)..=(x + EDGE_WINDOW).min(self.width - 1);
            for nx in xs {
                let j = ny * self.width + nx;
                if !self.filled[j] {
                    reference = reference.max(f32::from(self.distance[j]));
                }
            }
        }
        let span = (reference - self.tolerance).max(1.0);
        let alpha = ((f32::from(self.distance[i]) - self.tolerance) / span).clamp(0.0, 1.0);
        (alpha * 255.0).round() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn border_lists_each_pixel_once() {
        for (w, h) in [(1, 1), (1, 5), (5, 1), (2, 2), (7, 4)] {
            let b = border_indices(w, h);
            let mut sorted = b.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), b.len(), "{w}x{h}");
            let expected = if w == 1 || h == 1 {
                (w * h) as usize
            } else {
                (2 * (w + h) - 4) as usize
            };
            assert_eq!(b.len(), expected, "{w}x{h}");
        }
    }

    #[test]
    fn median_ignores_a_minority_of_outliers() {
        let mut img = RgbaImage::from_pixel(5, 1, image::Rgba([40, 90, 160, 255]));
        img.put_pixel(0, 0, image::Rgba([255, 0, 0, 255]));
        img.put_pixel(1, 0, image::Rgba([0, 255, 0, 255]));
        assert_eq!(median_colour(&img, &[0, 1, 2, 3, 4]), [40, 90, 160]);
    }

    #[test]
    fn flood_fill_stops_at_walls() {
        // 5x3 with a wall in column 2: only the left part is reachable.
        let wall = |i: usize| i % 5 != 2;
        let fill = flood_fill(5, 3, &[0], wall);
        let reached: Vec<usize> = (0..15).filter(|&i| fill.filled[i]).collect();
        assert_eq!(reached, vec![0, 1, 5, 6, 10, 11]);
        let mut boundary = fill.boundary.clone();
        boundary.sort_unstable();
        assert_eq!(boundary, vec![2, 7, 12]);
    }
}
