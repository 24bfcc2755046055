//! Exact position debiasing: a pair is always run in one canonical order
//! (both orders, averaged), and the other order's answer is the exact
//! complement, so `prefer(b, a).p_left == 1.0 - prefer(a, b).p_left` holds
//! bit for bit, and `prefer(a, a).p_left == 0.5`.

use std::cmp::Ordering;

use image::RgbImage;

/// A total order on images (size, then pixel bytes) used to pick the order
/// a pair is computed in.
pub fn canonical_order(a: &RgbImage, b: &RgbImage) -> Ordering {
    (a.width(), a.height())
        .cmp(&(b.width(), b.height()))
        .then_with(|| a.as_raw().cmp(b.as_raw()))
}

/// Rounds a probability `p` (that the first image wins) to f32 as a pair
/// `(p, 1 - p)` whose members are exact complements in f32: the member of
/// at least 0.5 is rounded, the other is `1 - it` (exact by Sterbenz'
/// lemma), so `1.0 - q == p` and `1.0 - p == q` hold exactly.
pub fn complementary_pair(p: f64) -> (f32, f32) {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    if p >= 0.5 {
        let hi = p as f32;
        (hi, 1.0 - hi)
    } else {
        let hi = (1.0 - p) as f32;
        (1.0 - hi, hi)
    }
}

/// `P(first wins)` from 2-way logits `[first, second]`, in f64.
pub fn first_wins(logits: [f32; 2]) -> f64 {
    let d = f64::from(logits[1]) - f64::from(logits[0]);
    1.0 / (1.0 + d.exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complements_are_exact_both_ways() {
        for p in [
            0.0, 1e-9, 0.1, 0.3333333, 0.4999999, 0.5, 0.5000001, 0.77, 0.99999, 1.0,
        ] {
            let (a, b) = complementary_pair(p);
            assert_eq!(1.0 - a, b, "{p}");
            assert_eq!(1.0 - b, a, "{p}");
            assert!((f64::from(a) - p).abs() < 1e-6);
        }
        assert_eq!(complementary_pair(f64::NAN), (0.5, 0.5));
    }

    #[test]
    fn canonical_order_is_total() {
        let a = RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 3]));
        let b = RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 4]));
        let c = RgbImage::from_pixel(3, 1, image::Rgb([0, 0, 0]));
        assert_eq!(canonical_order(&a, &b), Ordering::Less);
        assert_eq!(canonical_order(&b, &a), Ordering::Greater);
        assert_eq!(canonical_order(&a, &a), Ordering::Equal);
        assert_eq!(canonical_order(&c, &a), Ordering::Greater);
        assert!((first_wins([2.0, 2.0]) - 0.5).abs() < 1e-12);
        assert!(first_wins([3.0, 0.0]) > 0.9);
    }
}
