//! Trivial baselines to compare reward models against.

use image::RgbImage;

/// Mean luma (Rec. 601) of an image, in [0, 255].
pub fn mean_brightness(img: &RgbImage) -> f64 {
    let n = (img.width() as usize * img.height() as usize).max(1);
    let sum: f64 = img
        .pixels()
        .map(|p| 0.299 * p.0[0] as f64 + 0.587 * p.0[1] as f64 + 0.114 * p.0[2] as f64)
        .sum();
    sum / n as f64
}

/// Pairwise accuracy of the "brighter image wins" rule over
/// `(better, worse)` image pairs (equal brightness counts as half right).
/// Returns `None` for an empty list.
pub fn brightness_rule_accuracy(pairs: &[(&RgbImage, &RgbImage)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let score: f64 = pairs
        .iter()
        .map(|(better, worse)| {
            let (b, w) = (mean_brightness(better), mean_brightness(worse));
            if b > w {
                1.0
            } else if b == w {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    Some(score / pairs.len() as f64)
}
