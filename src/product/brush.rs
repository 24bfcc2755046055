//! Mask brush: strokes that paint product or background, with undo/redo.

use image::GrayImage;
use serde::{Deserialize, Serialize};

/// What a brush stroke paints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrushMode {
    /// Paints product (towards 255).
    Product,
    /// Paints background (towards 0).
    Background,
}

/// One brush stroke in source-image pixel coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrushStroke {
    /// Product or background.
    pub mode: BrushMode,
    /// Brush radius in source pixels.
    pub radius: f32,
    /// Edge hardness from 0 (soft over the whole radius) to 1 (hard edge).
    pub hardness: f32,
    /// The polyline the brush followed, as `[x, y]` source pixel positions.
    pub points: Vec<[f32; 2]>,
}

/// Smallest radius a stroke is drawn with, in pixels.
const MIN_RADIUS: f32 = 0.5;

/// Guard against absurd coordinates: no segment is stamped more often.
const MAX_DABS_PER_SEGMENT: f32 = 1_000_000.0;

impl BrushStroke {
    /// Paints the stroke into `mask`.
    ///
    /// Discs are stamped along the polyline at most `radius / 4` apart.
    /// Each pixel keeps the strongest coverage of any dab (max for product,
    /// min for background), so overlapping dabs never build up artefacts
    /// and applying the same stroke twice changes nothing.
    pub fn apply(&self, mask: &mut GrayImage) {
        if !self.radius.is_finite() || self.points.is_empty() {
            return;
        }
        let radius = self.radius.max(MIN_RADIUS);
        let hardness = if self.hardness.is_finite() {
            self.hardness.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let spacing = (radius / 4.0).max(0.125);
        let points: Vec<[f32; 2]> = self
            .points
            .iter()
            .copied()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .collect();
        let Some(&first) = points.first() else {
            return;
        };
        let dab = Dab { radius, hardness };
        self.stamp(mask, first, &dab);
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let length = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
            let steps = (length / spacing).ceil().clamp(1.0, MAX_DABS_PER_SEGMENT) as u32;
            for s in 1..=steps {
                let t = s as f32 / steps as f32;
                let p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
                self.stamp(mask, p, &dab);
            }
        }
    }

    /// Stamps one disc centred on `centre`.
    fn stamp(&self, mask: &mut GrayImage, centre: [f32; 2], dab: &Dab) {
        let (w, h) = (mask.width() as f32, mask.height() as f32);
        let reach = dab.radius + 1.0;
        let x0 = (centre[0] - reach).floor().max(0.0);
        let y0 = (centre[1] - reach).floor().max(0.0);
        let x1 = (centre[0] + reach).ceil().min(w);
        let y1 = (centre[1] + reach).ceil().min(h);
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        for y in (y0 as u32)..(y1 as u32) {
            for x in (x0 as u32)..(x1 as u32) {
                let dx = x as f32 + 0.5 - centre[0];
                let dy = y as f32 + 0.5 - centre[1];
                let coverage = dab.coverage((dx * dx + dy * dy).sqrt());
                if coverage <= 0.0 {
                    continue;
                }
                let level = (coverage * 255.0).round() as u8;
                let pixel = mask.get_pixel_mut(x, y);
                pixel.0[0] = match self.mode {
                    BrushMode::Product => pixel.0[0].max(level),
                    BrushMode::Background => pixel.0[0].min(255 - level),
                };
            }
        }
    }
}

/// The shape of one brush dab.
struct Dab {
    radius: f32,
    hardness: f32,
}

impl Dab {
    /// Coverage (0..=1) at distance `d` from the centre: full inside
    /// `hardness * radius`, then a linear fall-off to the radius, with at
    /// least one pixel of anti-aliasing.
    fn coverage(&self, d: f32) -> f32 {
        let inner = self.hardness * self.radius - 0.5;
        let outer = (self.radius + 0.5).max(inner + 1.0);
        if d <= inner {
            1.0
        } else if d >= outer {
            0.0
        } else {
            (outer - d) / (outer - inner)
        }
    }
}

/// The ordered brush strokes of one product, with a redo stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskEdits {
    strokes: Vec<BrushStroke>,
    redo: Vec<BrushStroke>,
}

impl MaskEdits {
    /// Adds a stroke; clears the redo stack.
    pub fn push(&mut self, s: BrushStroke) {
        self.strokes.push(s);
        self.redo.clear();
    }

    /// Removes the last stroke; returns false when there was none.
    pub fn undo(&mut self) -> bool {
        match self.strokes.pop() {
            Some(s) => {
                self.redo.push(s);
                true
            }
            None => false,
        }
    }

    /// Re-applies the last undone stroke; returns false when there was none.
    pub fn redo(&mut self) -> bool {
        match self.redo.pop() {
            Some(s) => {
                self.strokes.push(s);
                true
            }
            None => false,
        }
    }

    /// True when there is a stroke to undo.
    pub fn can_undo(&self) -> bool {
        !self.strokes.is_empty()
    }

    /// True when there is a stroke to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The active strokes, oldest first.
    pub fn strokes(&self) -> &[BrushStroke] {
        &self.strokes
    }

    /// Paints every active stroke, in order, into `mask`.
    pub fn apply_all(&self, mask: &mut GrayImage) {
        for s in &self.strokes {
            s.apply(mask);
        }
    }

    /// True when there are no active strokes.
    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }

    /// Removes all strokes and the redo history.
    pub fn clear(&mut self) {
        self.strokes.clear();
        self.redo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dab_profile_is_monotone_and_bounded() {
        for hardness in [0.0, 0.5, 1.0] {
            let dab = Dab {
                radius: 10.0,
                hardness,
            };
            let mut last = 1.0;
            for i in 0..40 {
                let c = dab.coverage(i as f32 * 0.3);
                assert!((0.0..=1.0).contains(&c));
                assert!(c <= last + 1e-6, "hardness {hardness}");
                last = c;
            }
            assert!(dab.coverage(10.6) <= 0.0);
        }
    }

    #[test]
    fn strokes_outside_the_image_are_harmless() {
        let mut mask = GrayImage::new(10, 10);
        let stroke = BrushStroke {
            mode: BrushMode::Product,
            radius: 3.0,
            hardness: 1.0,
            points: vec![[-100.0, -100.0], [f32::NAN, 3.0], [-50.0, 400.0]],
        };
        stroke.apply(&mut mask);
        assert!(mask.pixels().all(|p| p.0[0] == 0));
    }
}
