//! Shared helpers for the studio's kittest UI tests: a headless studio on a
//! data dir, stepping until the workers are done, and dropping files onto
//! the window as the windowing backend reports them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adstudio::app::{StudioApp, StudioConfig};
use adstudio::paths::DataDir;
use egui_kittest::Harness;

/// How long [`step_until`] waits before failing the test. Generous: it is a
/// deadline for a hang, not a timing assertion (the worst case is a tiny
/// render on a loaded 2-core machine).
const DEADLINE: Duration = Duration::from_secs(120);

/// A fresh studio on `data_dir` (nothing reopened), in a window of `size`.
pub fn studio(data_dir: &Path, size: egui::Vec2) -> Harness<'static, StudioApp> {
    let config = StudioConfig {
        data_dir: DataDir::at(data_dir).expect("data dir"),
        open_path: None,
        reopen_last: false,
        first_run_manager: false,
    };
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| StudioApp::new(cc, config).expect("studio starts"))
}

/// Steps the UI (letting the workers run) until `done` holds and no job is
/// left, then one more frame; panics naming `what` after [`DEADLINE`].
pub fn step_until(
    harness: &mut Harness<'_, StudioApp>,
    what: &str,
    done: impl Fn(&StudioApp) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        harness.step();
        if done(harness.state()) && !harness.state().is_busy() {
            harness.step();
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A file dropped onto the window, as the windowing backend reports it.
#[derive(Debug)]
pub struct DroppedPath(pub PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drops `path` onto the window (handled on the next frame).
pub fn drop_file(harness: &mut Harness<'_, StudioApp>, path: PathBuf) {
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path)));
}
