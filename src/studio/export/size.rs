//! Export sizes: the ad-platform presets and custom `WIDTHxHEIGHT`.

use serde::Serialize;

use super::error::ExportError;

/// Smallest accepted side of a custom size, in pixels.
pub const MIN_SIDE: u32 = 16;
/// Largest accepted side of a custom size, in pixels.
pub const MAX_SIDE: u32 = 8192;
/// Share of the longer side the product fills on the marketplace preset.
pub const MARKETPLACE_FILL: f64 = 0.85;
/// Share of a 9:16 Stories/Reels frame at the top kept free of key
/// content (the platform's profile name and buttons): 14 %, 269 of 1920
/// pixels, the figure usually given for Meta's Stories and Reels.
pub const SAFE_ZONE_TOP: f32 = 0.14;
/// Share of a 9:16 Stories/Reels frame at the bottom kept free of key
/// content (captions and the call to action): 20 %, 384 of 1920 pixels.
pub const SAFE_ZONE_BOTTOM: f32 = 0.20;

/// Largest relative difference between an export size's aspect ratio and
/// the render's before the export refuses (the canvas sides are multiples
/// of 8, so e.g. a 9:16 canvas is 512x912, 0.2 % off 1080x1920).
pub const ASPECT_TOLERANCE: f64 = 0.02;

/// What an export size puts behind the product.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Backdrop {
    /// The winning render, upscaled (Lanczos3) to the size.
    Render,
    /// Pure white; the product alone, its bounding box filling `fill` of
    /// the frame's width or height (whichever limits).
    White {
        /// Share of the frame the product may fill (0..=1).
        fill: f64,
    },
}

/// One size to export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportSize {
    /// Preset name (`meta-feed`, ...) or `WIDTHxHEIGHT`; used in file names.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// What goes behind the product.
    pub backdrop: Backdrop,
    /// Shown in the studio's export dialog.
    pub label: String,
}

/// (name, width, height, label) of the render-backed presets.
const RENDER_PRESETS: [(&str, u32, u32, &str); 4] = [
    ("meta-feed", 1080, 1080, "Meta feed 1:1 (1080x1080)"),
    ("meta-feed-45", 1080, 1350, "Meta feed 4:5 (1080x1350)"),
    ("reels", 1080, 1920, "Stories / Reels 9:16 (1080x1920)"),
    ("link", 1200, 628, "Link ad 1.91:1 (1200x628)"),
];

impl ExportSize {
    /// Every preset, in menu order.
    pub fn presets() -> Vec<ExportSize> {
        let mut all: Vec<ExportSize> = RENDER_PRESETS
            .iter()
            .map(|&(name, width, height, label)| ExportSize {
                name: name.to_string(),
                width,
                height,
                backdrop: Backdrop::Render,
                label: label.to_string(),
            })
            .collect();
        all.push(ExportSize {
            name: "marketplace".to_string(),
            width: 2000,
            height: 2000,
            backdrop: Backdrop::White {
                fill: MARKETPLACE_FILL,
            },
            label: "Marketplace, product on white (2000x2000)".to_string(),
        });
        all
    }

    /// The preset names, comma-separated (for messages and `--help`).
    pub fn preset_names() -> String {
        Self::presets()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses a preset name (`stories` is an alias of `reels`) or a custom
    /// `WIDTHxHEIGHT` (on the render).
    pub fn parse(given: &str) -> Result<ExportSize, ExportError> {
        let name = given.trim().to_ascii_lowercase();
        let name = if name == "stories" {
            "reels".into()
        } else {
            name
        };
        if let Some(preset) = Self::presets().into_iter().find(|p| p.name == name) {
            return Ok(preset);
        }
        let Some((w, h)) = name.split_once('x') else {
            return Err(ExportError::UnknownSize {
                given: given.to_string(),
                known: Self::preset_names(),
            });
        };
        let (Ok(width), Ok(height)) = (w.trim().parse::<u32>(), h.trim().parse::<u32>()) else {
            return Err(ExportError::UnknownSize {
                given: given.to_string(),
                known: Self::preset_names(),
            });
        };
        let bad = |reason: String| ExportError::BadCustomSize {
            given: given.to_string(),
            reason,
        };
        for side in [width, height] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
                return Err(bad(format!(
                    "each side must be between {MIN_SIDE} and {MAX_SIDE} pixels"
                )));
            }
        }
        Ok(ExportSize {
            name: format!("{width}x{height}"),
            width,
            height,
            backdrop: Backdrop::Render,
            label: format!("Custom {width}x{height}"),
        })
    }

    /// Parses a comma-separated list; repeated sizes are kept once.
    pub fn parse_list(list: &str) -> Result<Vec<ExportSize>, ExportError> {
        let mut sizes: Vec<ExportSize> = Vec::new();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            let size = Self::parse(part)?;
            if !sizes.iter().any(|s| s.name == size.name) {
                sizes.push(size);
            }
        }
        if sizes.is_empty() {
            return Err(ExportError::NoSizes {
                known: Self::preset_names(),
            });
        }
        Ok(sizes)
    }

    /// Whether this size needs a render behind the product.
    pub fn needs_render(&self) -> bool {
        self.backdrop == Backdrop::Render
    }

    /// Whether a render of `render_w x render_h` has this size's aspect
    /// ratio (within [`ASPECT_TOLERANCE`]).
    pub fn matches_aspect(&self, render_w: u32, render_h: u32) -> bool {
        let export = f64::from(self.width) / f64::from(self.height);
        let render = f64::from(render_w) / f64::from(render_h.max(1));
        (export / render - 1.0).abs() <= ASPECT_TOLERANCE
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::product::AspectPreset;

    #[test]
    fn presets_match_their_canvas_aspect() {
        let presets = ExportSize::presets();
        for (name, aspect) in [
            ("meta-feed", AspectPreset::Square),
            ("meta-feed-45", AspectPreset::Portrait4x5),
            ("reels", AspectPreset::Story9x16),
            ("link", AspectPreset::Landscape191x100),
        ] {
            let p = presets.iter().find(|p| p.name == name).unwrap();
            let (w, h) = aspect.size(512);
            assert!(p.matches_aspect(w, h), "{name} vs {aspect}");
            for other in AspectPreset::ALL.into_iter().filter(|a| *a != aspect) {
                let (w, h) = other.size(512);
                assert!(!p.matches_aspect(w, h), "{name} should refuse {other}");
            }
        }
    }

    #[test]
    fn parses_presets_custom_sizes_and_refuses_the_rest() {
        let sizes = ExportSize::parse_list("meta-feed, stories,1600x900,reels").unwrap();
        let names: Vec<&str> = sizes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["meta-feed", "reels", "1600x900"]);
        assert_eq!((sizes[2].width, sizes[2].height), (1600, 900));
        assert!(matches!(
            ExportSize::parse("square"),
            Err(ExportError::UnknownSize { .. })
        ));
        assert!(matches!(
            ExportSize::parse("10x900"),
            Err(ExportError::BadCustomSize { .. })
        ));
        assert!(matches!(
            ExportSize::parse_list(" , "),
            Err(ExportError::NoSizes { .. })
        ));
    }
}
