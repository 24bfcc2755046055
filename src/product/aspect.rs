//! Ad aspect-ratio presets and canvas sizes.

use serde::{Deserialize, Serialize};

/// The ad formats offered for the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AspectPreset {
    /// 1:1, feeds and marketplaces.
    #[default]
    Square,
    /// 4:5 portrait feed post.
    Portrait4x5,
    /// 1.91:1 landscape link ad.
    Landscape191x100,
    /// 9:16 story / reel.
    Story9x16,
}

impl AspectPreset {
    /// Every preset, in menu order.
    pub const ALL: [AspectPreset; 4] = [
        AspectPreset::Square,
        AspectPreset::Portrait4x5,
        AspectPreset::Landscape191x100,
        AspectPreset::Story9x16,
    ];

    /// The label shown to users and accepted by [`AspectPreset::parse`].
    pub fn label(&self) -> &'static str {
        match self {
            AspectPreset::Square => "1:1",
            AspectPreset::Portrait4x5 => "4:5",
            AspectPreset::Landscape191x100 => "1.91:1",
            AspectPreset::Story9x16 => "9:16",
        }
    }

    /// Parses a label such as "4:5" (surrounding spaces are ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|p| p.label() == s)
    }

    /// Long side divided by short side.
    fn long_ratio(&self) -> f64 {
        match self {
            AspectPreset::Square => 1.0,
            AspectPreset::Portrait4x5 => 1.25,
            AspectPreset::Landscape191x100 => 1.91,
            AspectPreset::Story9x16 => 16.0 / 9.0,
        }
    }

    /// Canvas (width, height) for a short side, both multiples of 8: the
    /// short side is rounded to a multiple of 8 (at least 8), the long side
    /// is the multiple of 8 nearest to short side x ratio.
    /// For 512: 1:1 512x512, 4:5 512x640, 1.91:1 976x512, 9:16 512x912.
    pub fn size(&self, short_side: u32) -> (u32, u32) {
        let short = round_to_8(f64::from(short_side));
        let long = round_to_8(f64::from(short) * self.long_ratio());
        match self {
            AspectPreset::Landscape191x100 => (long, short),
            _ => (short, long),
        }
    }
}

impl std::fmt::Display for AspectPreset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Nearest multiple of 8, at least 8.
fn round_to_8(v: f64) -> u32 {
    let m = ((v / 8.0).round() * 8.0).clamp(8.0, f64::from(u32::MAX - 7));
    m as u32
}
