//! Resampling of a product onto the canvas on premultiplied alpha.
//!
//! Downscaling uses exact pixel-area averaging (each canvas pixel is the
//! area-weighted mean of the source pixels it covers); upscaling uses
//! bilinear interpolation. Both work on colours premultiplied by alpha, so
//! the colour of transparent pixels never bleeds into the product.

use image::{GrayImage, RgbaImage};

/// Linear map from source to canvas coordinates along one axis:
/// `canvas = origin + source * scale` (pixel edges at integers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AxisMap {
    /// Canvas coordinate of the source's left/top edge.
    pub origin: f64,
    /// Canvas pixels per source pixel.
    pub scale: f64,
}

/// Half-open range of canvas pixels to fill, `start..end` per axis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DestRect {
    /// First canvas column.
    pub x0: u32,
    /// One past the last canvas column.
    pub x1: u32,
    /// First canvas row.
    pub y0: u32,
    /// One past the last canvas row.
    pub y1: u32,
}

/// The source pixels one canvas pixel draws from along one axis.
struct Taps {
    /// (source index, weight) pairs; weights of a fully covered pixel sum to 1.
    taps: Vec<(usize, f32)>,
}

/// Everything the resampler reads: colours and the alpha to use.
pub(crate) struct Source<'a> {
    /// Source colours (their own alpha channel is ignored).
    pub rgb: &'a RgbaImage,
    /// The alpha to give each source pixel (same size as `rgb`).
    pub alpha: &'a GrayImage,
}

/// Resamples `src` into `dst` over `rect`, mapping with `mx` and `my`.
pub(crate) fn resample_into(
    src: &Source<'_>,
    mx: AxisMap,
    my: AxisMap,
    rect: DestRect,
    dst: &mut RgbaImage,
) {
    if rect.x0 >= rect.x1 || rect.y0 >= rect.y1 {
        return;
    }
    let xt: Vec<Taps> = (rect.x0..rect.x1)
        .map(|d| axis_taps(d, mx, src.rgb.width()))
        .collect();
    let yt: Vec<Taps> = (rect.y0..rect.y1)
        .map(|d| axis_taps(d, my, src.rgb.height()))
        .collect();
    let rows = yt.iter().flat_map(|t| t.taps.iter().map(|&(i, _)| i));
    let (Some(row_min), Some(row_max)) = (rows.clone().min(), rows.max()) else {
        return;
    };
    let cols = xt.len();
    // Horizontal pass: premultiplied sums for every needed source row.
    let mut horizontal = vec![[0f32; 4]; (row_max - row_min + 1) * cols];
    let width = src.rgb.width() as usize;
    let (rgb, alpha) = (src.rgb.as_raw(), src.alpha.as_raw());
    for row in row_min..=row_max {
        let out = &mut horizontal[(row - row_min) * cols..(row - row_min + 1) * cols];
        for (acc, taps) in out.iter_mut().zip(&xt) {
            for &(col, weight) in &taps.taps {
                let i = row * width + col;
                let a = f32::from(alpha[i]) / 255.0 * weight;
                if a > 0.0 {
                    acc[0] += f32::from(rgb[i * 4]) * a;
                    acc[1] += f32::from(rgb[i * 4 + 1]) * a;
                    acc[2] += f32::from(rgb[i * 4 + 2]) * a;
                    acc[3] += a;
                }
            }
        }
    }
    // Vertical pass and un-premultiplication.
    for (dy, taps) in yt.iter().enumerate() {
        for (dx, _) in xt.iter().enumerate() {
            let mut sum = [0f32; 4];
            for &(row, weight) in &taps.taps {
                let h = horizontal[(row - row_min) * cols + dx];
                for (s, v) in sum.iter_mut().zip(h) {
                    *s += v * weight;
                }
            }
            let a = (sum[3] * 255.0).round().clamp(0.0, 255.0) as u8;
            let pixel = if a == 0 {
                [0, 0, 0, 0]
            } else {
                let unmul = |v: f32| (v / sum[3]).round().clamp(0.0, 255.0) as u8;
                [unmul(sum[0]), unmul(sum[1]), unmul(sum[2]), a]
            };
            dst.put_pixel(rect.x0 + dx as u32, rect.y0 + dy as u32, image::Rgba(pixel));
        }
    }
}

/// Source taps of canvas pixel `d`: area weights when shrinking, bilinear
/// weights when enlarging. Taps outside the source are dropped (they are
/// transparent).
fn axis_taps(d: u32, map: AxisMap, src_len: u32) -> Taps {
    let d = f64::from(d);
    let len = i64::from(src_len);
    let mut taps = Vec::new();
    let mut push = |i: i64, w: f64| {
        if i >= 0 && i < len && w > 0.0 {
            taps.push((i as usize, w as f32));
        }
    };
    if map.scale <= 1.0 {
        let a = (d - map.origin) / map.scale;
        let b = (d + 1.0 - map.origin) / map.scale;
        let first = a.floor() as i64;
        let last = b.ceil() as i64;
        for i in first.max(0)..last.min(len) {
            let lo = a.max(i as f64);
            let hi = b.min(i as f64 + 1.0);
            push(i, (hi - lo) * map.scale);
        }
    } else {
        let s = (d + 0.5 - map.origin) / map.scale - 0.5;
        let i0 = s.floor();
        let f = s - i0;
        push(i0 as i64, 1.0 - f);
        push(i0 as i64 + 1, f);
    }
    Taps { taps }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(t: &Taps) -> f32 {
        t.taps.iter().map(|&(_, w)| w).sum()
    }

    #[test]
    fn area_taps_cover_each_canvas_pixel_once() {
        let map = AxisMap {
            origin: 3.25,
            scale: 0.3,
        };
        for d in 5..30 {
            let t = axis_taps(d, map, 200);
            assert!((total(&t) - 1.0).abs() < 1e-5, "pixel {d}: {}", total(&t));
        }
    }

    #[test]
    fn bilinear_taps_sum_to_one_inside_and_drop_outside() {
        let map = AxisMap {
            origin: 10.0,
            scale: 4.0,
        };
        let inside = axis_taps(30, map, 10);
        assert!((total(&inside) - 1.0).abs() < 1e-6);
        assert!(axis_taps(0, map, 10).taps.is_empty());
    }

    #[test]
    fn identity_map_copies_pixels() {
        let map = AxisMap {
            origin: 0.0,
            scale: 1.0,
        };
        let t = axis_taps(4, map, 10);
        assert_eq!(t.taps.len(), 1);
        assert_eq!(t.taps[0].0, 4);
        assert!((t.taps[0].1 - 1.0).abs() < 1e-6);
    }
}
