//! Timing of one salient-object mask.

use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};

use super::error::SaliencyError;
use super::model::SaliencyModel;

/// How to run the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaliencyBenchOptions {
    /// Timed runs (at least 1).
    pub runs: usize,
    /// Untimed runs before timing (allocator and cache warm-up).
    pub warmup: usize,
}

impl Default for SaliencyBenchOptions {
    fn default() -> Self {
        Self { runs: 5, warmup: 1 }
    }
}

/// Benchmark figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaliencyBench {
    /// Median time of one mask of a 320x320 image (preprocess, network, postprocess).
    pub median: Duration,
    /// Fastest run.
    pub min: Duration,
    /// Slowest run.
    pub max: Duration,
    /// Number of timed runs.
    pub runs: usize,
}

/// Times [`SaliencyModel::mask`] on a synthetic 320x320 photo and returns
/// the median over `opts.runs` runs.
pub fn bench_saliency(
    model: &SaliencyModel,
    opts: SaliencyBenchOptions,
) -> Result<SaliencyBench, SaliencyError> {
    if opts.runs == 0 {
        return Err(SaliencyError::NoRuns);
    }
    let img = bench_image();
    for _ in 0..opts.warmup {
        model.mask(&img)?;
    }
    let mut times = Vec::with_capacity(opts.runs);
    for _ in 0..opts.runs {
        let start = Instant::now();
        model.mask(&img)?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(SaliencyBench {
        median: times[times.len() / 2],
        min: times[0],
        max: times[times.len() - 1],
        runs: opts.runs,
    })
}

/// A 320x320 grey gradient with a red disc in the middle.
fn bench_image() -> RgbImage {
    RgbImage::from_fn(320, 320, |x, y| {
        let (dx, dy) = (x as f32 - 160.0, y as f32 - 160.0);
        if dx * dx + dy * dy < 90.0 * 90.0 {
            Rgb([200, 40, 40])
        } else {
            let g = (120 + (x + y) / 8) as u8;
            Rgb([g, g, g])
        }
    })
}
