//! Learning-rate schedule: linear warm-up, then cosine decay towards zero.

/// `peak * (s + 1) / warmup` for the first `warmup` updates, then
/// `peak * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2`; `s` is the
/// 0-based update index and `total` the number of updates of the whole run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    /// Learning rate at the end of the warm-up.
    pub peak: f64,
    /// Updates of linear warm-up.
    pub warmup: usize,
    /// Updates of the whole run.
    pub total: usize,
}

impl LrSchedule {
    /// The learning rate of update `step` (0-based).
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        self.peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_linearly_then_decays_by_cosine() {
        let s = LrSchedule {
            peak: 1.0,
            warmup: 4,
            total: 12,
        };
        let lrs: Vec<f64> = (0..12).map(|i| s.lr(i)).collect();
        assert_eq!(&lrs[..4], &[0.25, 0.5, 0.75, 1.0]);
        assert!((lrs[4] - 1.0).abs() < 1e-12);
        // Half-way through the 8 decay steps the cosine is at 1/2.
        assert!((lrs[8] - 0.5).abs() < 1e-12, "{lrs:?}");
        assert!(lrs[4..].windows(2).all(|w| w[1] < w[0]), "{lrs:?}");
        assert!(lrs[11] > 0.0 && lrs[11] < 0.05, "{lrs:?}");
    }
}
