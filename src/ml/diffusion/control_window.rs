//! The part of the denoising steps a ControlNet conditions: diffusers'
//! `control_guidance_start` / `control_guidance_end`, with the same
//! semantics. Step `i` of `n` keeps the ControlNet unless `i / n < start`
//! or `(i + 1) / n > end`; on the other steps the ControlNet forward does
//! not run at all (the UNet gets no residuals), which is where the time
//! goes: the ControlNet is about a third of a UNet + ControlNet step.

use super::error::{DiffusionError, Result};

/// The fraction of the steps `start..end` (both in 0..=1) the ControlNet
/// runs on. [`ControlWindow::FULL`] (0..1) runs it on every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlWindow {
    start: f64,
    end: f64,
}

impl Default for ControlWindow {
    fn default() -> Self {
        Self::FULL
    }
}

impl ControlWindow {
    /// Every step.
    pub const FULL: Self = Self {
        start: 0.0,
        end: 1.0,
    };

    /// `start..end`, refused (as diffusers refuses it) unless `0 <= start
    /// < end <= 1`.
    pub fn new(start: f64, end: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&start) || !(0.0..=1.0).contains(&end) || start >= end {
            return Err(DiffusionError::InvalidInput(format!(
                "the ControlNet window must satisfy 0 <= start < end <= 1, got start {start}, \
                 end {end}"
            )));
        }
        Ok(Self { start, end })
    }

    /// The first fraction of the steps.
    pub fn start(&self) -> f64 {
        self.start
    }

    /// The last fraction of the steps.
    pub fn end(&self) -> f64 {
        self.end
    }

    /// Whether step `i` (0-based) of `n` runs the ControlNet.
    pub fn keeps(&self, i: usize, n: usize) -> bool {
        let n = n.max(1) as f64;
        let (first, last) = (i as f64 / n, (i + 1) as f64 / n);
        !(first < self.start || last > self.end)
    }

    /// How many of `n` steps run the ControlNet.
    pub fn kept_steps(&self, n: usize) -> usize {
        (0..n).filter(|&i| self.keeps(i, n)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(window: ControlWindow, n: usize) -> Vec<usize> {
        (0..n).filter(|&i| window.keeps(i, n)).collect()
    }

    #[test]
    fn steps_kept_follow_diffusers() {
        assert_eq!(kept(ControlWindow::FULL, 4), vec![0, 1, 2, 3]);
        // Draft-like: the first half of 4 LCM steps.
        assert_eq!(
            kept(ControlWindow::new(0.0, 0.5).expect("w"), 4),
            vec![0, 1]
        );
        // A step is dropped as soon as it ends past `end`: 0.6 of 4 steps
        // keeps 0 and 1 (step 2 ends at 0.75).
        assert_eq!(
            kept(ControlWindow::new(0.0, 0.6).expect("w"), 4),
            vec![0, 1]
        );
        // ... and as soon as it starts before `start`.
        assert_eq!(
            kept(ControlWindow::new(0.3, 1.0).expect("w"), 4),
            vec![2, 3]
        );
        assert_eq!(
            kept(ControlWindow::new(0.25, 0.75).expect("w"), 4),
            vec![1, 2]
        );
        // 30 steps, 0..0.5: the first 15.
        assert_eq!(ControlWindow::new(0.0, 0.5).expect("w").kept_steps(30), 15);
        // With 1 step, any end below 1 drops the only step.
        assert_eq!(ControlWindow::new(0.0, 0.99).expect("w").kept_steps(1), 0);
        assert_eq!(ControlWindow::default(), ControlWindow::FULL);
    }

    #[test]
    fn bad_windows_are_refused() {
        for (s, e) in [
            (0.5, 0.5),
            (0.6, 0.4),
            (-0.1, 1.0),
            (0.0, 1.1),
            (f64::NAN, 1.0),
        ] {
            let err = ControlWindow::new(s, e).expect_err("refused");
            assert!(err.to_string().contains("0 <= start < end <= 1"), "{err}");
        }
        let w = ControlWindow::new(0.1, 0.9).expect("ok");
        assert_eq!((w.start(), w.end()), (0.1, 0.9));
    }
}
