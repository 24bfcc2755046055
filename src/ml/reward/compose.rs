//! Side-by-side composition of two ads into one image, the input of the
//! LLaVA-style reward model (CAIG: both ads at 512x512, joined to 1024x512).

use image::imageops::FilterType;
use image::RgbImage;

use super::error::{Result, RewardError};

/// Resizes both ads to `side` x `side` (Catmull-Rom) and joins them into one
/// `2 * side` x `side` image: `left` on the left, `right` on the right.
pub fn side_by_side(left: &RgbImage, right: &RgbImage, side: u32) -> Result<RgbImage> {
    if side == 0 {
        return Err(RewardError::Input(
            "cannot compose ads at side 0".to_string(),
        ));
    }
    for (name, img) in [("left", left), ("right", right)] {
        if img.width() == 0 || img.height() == 0 {
            return Err(RewardError::Input(format!(
                "the {name} ad is empty ({}x{})",
                img.width(),
                img.height()
            )));
        }
    }
    let fit = |img: &RgbImage| {
        if img.width() == side && img.height() == side {
            img.clone()
        } else {
            image::imageops::resize(img, side, side, FilterType::CatmullRom)
        }
    };
    let mut out = RgbImage::new(2 * side, side);
    image::imageops::replace(&mut out, &fit(left), 0, 0);
    image::imageops::replace(&mut out, &fit(right), i64::from(side), 0);
    Ok(out)
}
