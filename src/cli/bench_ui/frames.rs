//! The studio's frame loop without a window: each frame runs the app's
//! `logic` and `ui` in a plain `egui::Context` and tessellates the result,
//! which is the UI thread's CPU work per frame in the real window (painting
//! the triangles on the GPU is not included). Frames are paced at 60 Hz,
//! like a window with vsync.

use std::time::{Duration, Instant};

use crate::app::{StudioApp, StudioConfig};

/// The window size the frames are laid out in (the studio's default).
const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

/// One frame every 1/60 s.
pub const FRAME_INTERVAL: Duration = Duration::from_nanos(16_666_667);

/// A headless studio and its frame clock.
pub struct FrameDriver {
    ctx: egui::Context,
    frame: eframe::Frame,
    app: StudioApp,
    start: Instant,
}

impl FrameDriver {
    /// Starts the studio on `config` in a fresh context with the studio's
    /// theme.
    pub fn new(config: StudioConfig) -> anyhow::Result<Self> {
        let ctx = egui::Context::default();
        crate::ui::theme::apply(&ctx);
        let cc = eframe::CreationContext::_new_kittest(ctx.clone());
        let app = StudioApp::new(&cc, config)?;
        Ok(Self {
            ctx,
            frame: eframe::Frame::_new_kittest(),
            app,
            start: Instant::now(),
        })
    }

    /// The studio.
    pub fn app(&self) -> &StudioApp {
        &self.app
    }

    /// The studio, to change its settings or send it commands.
    pub fn app_mut(&mut self) -> &mut StudioApp {
        &mut self.app
    }

    /// Runs one frame and returns how long the UI thread worked on it.
    pub fn frame(&mut self) -> Duration {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
            time: Some(self.start.elapsed().as_secs_f64()),
            predicted_dt: FRAME_INTERVAL.as_secs_f32(),
            focused: true,
            ..Default::default()
        };
        let began = Instant::now();
        let (app, frame) = (&mut self.app, &mut self.frame);
        let mut output = self.ctx.run_ui(input, |ui| {
            // The window's two calls (`StudioApp` also has an inherent
            // `logic`, so name the trait's).
            eframe::App::logic(app, ui.ctx(), frame);
            eframe::App::ui(app, ui, frame);
        });
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        let took = began.elapsed();
        drop(primitives);
        // No GPU here: the texture uploads and frees are dropped unapplied.
        output.textures_delta.clear();
        took
    }

    /// Runs one frame, then sleeps out the rest of its 1/60 s; returns the
    /// frame's UI time.
    pub fn paced_frame(&mut self) -> Duration {
        let took = self.frame();
        if let Some(rest) = FRAME_INTERVAL.checked_sub(took) {
            std::thread::sleep(rest);
        }
        took
    }

    /// Runs paced frames until `done` holds for the app, failing after
    /// `deadline` with `what`.
    pub fn frames_until(
        &mut self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&StudioApp) -> bool,
    ) -> anyhow::Result<()> {
        let until = Instant::now() + deadline;
        while !done(&self.app) {
            anyhow::ensure!(
                Instant::now() < until,
                "timed out after {} s waiting for: {what}",
                deadline.as_secs()
            );
            self.paced_frame();
        }
        Ok(())
    }
}

/// Frame-time percentiles of one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameStats {
    /// Frames measured.
    pub frames: usize,
    /// Median frame time.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest frame.
    pub max: Duration,
}

impl FrameStats {
    /// Percentiles (nearest rank) of `times`; `None` when it is empty.
    pub fn of(times: &[Duration]) -> Option<Self> {
        if times.is_empty() {
            return None;
        }
        let mut sorted = times.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| {
            let i = (p * sorted.len() as f64).ceil() as usize;
            sorted[i.clamp(1, sorted.len()) - 1]
        };
        Some(Self {
            frames: sorted.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let times: Vec<Duration> = (1..=200).rev().map(Duration::from_millis).collect();
        let s = FrameStats::of(&times).expect("stats");
        assert_eq!(s.frames, 200);
        assert_eq!(s.p50, Duration::from_millis(100));
        assert_eq!(s.p90, Duration::from_millis(180));
        assert_eq!(s.p99, Duration::from_millis(198));
        assert_eq!(s.max, Duration::from_millis(200));
        let one = FrameStats::of(&[Duration::from_millis(7)]).expect("one");
        assert_eq!((one.p50, one.p99, one.max), (one.max, one.max, one.max));
        assert!(FrameStats::of(&[]).is_none());
    }
}
