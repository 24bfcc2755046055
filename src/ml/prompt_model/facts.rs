//! Facts measured on a product image for text-only prompt models: dominant
//! colour names, aspect ratio of the product and its brightness.

use image::RgbaImage;

use super::error::{PromptModelError, Result};
use super::instructions::ImageFacts;

/// Pixels with alpha below this are background.
const ALPHA_THRESHOLD: u8 = 128;
/// A colour must cover at least this share of the product to be named.
const MIN_COLOR_SHARE: f32 = 0.12;
/// At most this many colours are named.
const MAX_COLORS: usize = 3;

/// A colour name for an sRGB pixel, from its hue, saturation and value.
pub fn color_name(r: u8, g: u8, b: u8) -> &'static str {
    let (r, g, b) = (r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let v = max;
    let s = if max > 0.0 { (max - min) / max } else { 0.0 };
    if v < 0.18 {
        return "black";
    }
    if s < 0.15 {
        return if v > 0.85 {
            "white"
        } else if v > 0.6 {
            "light gray"
        } else {
            "gray"
        };
    }
    let d = max - min;
    let hue = if max == r {
        60.0 * (((g - b) / d).rem_euclid(6.0))
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    if (20.0..50.0).contains(&hue) && s < 0.35 && v > 0.7 {
        return "beige";
    }
    match hue {
        h if !(15.0..345.0).contains(&h) => {
            if v < 0.45 {
                "dark red"
            } else {
                "red"
            }
        }
        h if h < 45.0 => {
            if v < 0.6 {
                "brown"
            } else {
                "orange"
            }
        }
        h if h < 70.0 => {
            if v < 0.5 {
                "olive"
            } else {
                "yellow"
            }
        }
        h if h < 160.0 => "green",
        h if h < 200.0 => "teal",
        h if h < 250.0 => {
            if v < 0.45 {
                "navy blue"
            } else {
                "blue"
            }
        }
        h if h < 290.0 => "purple",
        _ => "pink",
    }
}

/// Measures [`ImageFacts`] on an RGBA product image; pixels with alpha < 128
/// are background (an opaque image counts every pixel as product).
pub fn image_facts(image: &RgbaImage) -> Result<ImageFacts> {
    let (w, h) = image.dimensions();
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    let mut luminance = 0f64;
    let mut total = 0usize;
    for (x, y, p) in image.enumerate_pixels() {
        let [r, g, b, a] = p.0;
        if a < ALPHA_THRESHOLD {
            continue;
        }
        total += 1;
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
        luminance += (0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * b as f64) / 255.0;
        let name = color_name(r, g, b);
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    if total == 0 || w == 0 || h == 0 {
        return Err(PromptModelError::Input(
            "the product image has no opaque pixels".to_string(),
        ));
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let dominant_colors = counts
        .iter()
        .filter(|(_, c)| *c as f32 >= MIN_COLOR_SHARE * total as f32)
        .take(MAX_COLORS)
        .map(|(n, _)| n.to_string())
        .collect();
    Ok(ImageFacts {
        dominant_colors,
        aspect: Some((x1 - x0 + 1) as f32 / (y1 - y0 + 1) as f32),
        brightness: Some((luminance / total as f64) as f32),
        category_words: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_basic_colors() {
        assert_eq!(color_name(250, 250, 250), "white");
        assert_eq!(color_name(10, 10, 10), "black");
        assert_eq!(color_name(220, 30, 30), "red");
        assert_eq!(color_name(30, 60, 200), "blue");
        assert_eq!(color_name(20, 30, 90), "navy blue");
        assert_eq!(color_name(40, 170, 60), "green");
        assert_eq!(color_name(120, 70, 30), "brown");
    }

    #[test]
    fn measures_a_red_tall_product_on_transparent_background() {
        let mut img = RgbaImage::new(100, 100);
        for y in 10..90 {
            for x in 40..60 {
                let px = if y < 70 {
                    [200, 20, 20, 255]
                } else {
                    [250, 250, 250, 255]
                };
                img.put_pixel(x, y, image::Rgba(px));
            }
        }
        let facts = image_facts(&img).expect("facts");
        assert_eq!(
            facts.dominant_colors,
            vec!["red".to_string(), "white".to_string()]
        );
        assert!((facts.aspect.expect("aspect") - 0.25).abs() < 1e-6);
        let b = facts.brightness.expect("brightness");
        assert!(b > 0.2 && b < 0.6, "{b}");
        assert!(image_facts(&RgbaImage::new(4, 4)).is_err());
    }
}
