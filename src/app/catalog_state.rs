//! The Catalog window's state (the listed products) and the Export
//! winners dialog's (settings, the running job, its progress and result).

use crate::jobs::JobId;
use crate::studio::catalog::CatalogEntry;
use crate::studio::export::{ExportReport, ExportSize};

/// The Catalog window's state.
#[derive(Default)]
pub struct CatalogState {
    /// Whether the window is open.
    pub open: bool,
    /// The products, newest first, as last listed.
    pub entries: Vec<CatalogEntry>,
    /// Their thumbnails as textures (index = entry).
    pub thumbnails: Vec<Option<egui::TextureHandle>>,
    /// The listing job, while it runs.
    pub job: Option<JobId>,
    /// The last error, if listing failed.
    pub message: Option<(String, bool)>,
    /// The Export winners dialog.
    pub export: ExportState,
}

impl CatalogState {
    /// The listing job `id` ended (`error` when it failed).
    pub fn ended(&mut self, id: JobId, error: Option<&str>) {
        if self.job == Some(id) {
            self.job = None;
            self.message = error.map(|e| (e.to_string(), true));
        }
        self.export.ended(id, error);
    }
}

/// What the Export winners dialog is set to.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSettings {
    /// Every stored product (true) or the open one.
    pub all_products: bool,
    /// The names of the ticked presets.
    pub presets: Vec<String>,
    /// Custom sizes, `WIDTHxHEIGHT` separated by commas (may be empty).
    pub custom: String,
    /// Renders per product and size.
    pub top_k: usize,
    /// The output folder.
    pub folder: String,
}

impl Default for ExportSettings {
    /// The open product's best render for the Meta feed and Reels, into
    /// `exports` beside the working directory.
    fn default() -> Self {
        Self {
            all_products: false,
            presets: vec!["meta-feed".into(), "reels".into()],
            custom: String::new(),
            top_k: 1,
            folder: "exports".into(),
        }
    }
}

impl ExportSettings {
    /// The sizes to export: the ticked presets, then the custom ones.
    pub fn sizes(&self) -> Result<Vec<ExportSize>, String> {
        let mut list = self.presets.join(",");
        if !self.custom.trim().is_empty() {
            list.push(',');
            list.push_str(&self.custom);
        }
        ExportSize::parse_list(&list).map_err(|e| e.to_string())
    }
}

/// The Export winners dialog's state.
#[derive(Debug, Default)]
pub struct ExportState {
    /// Whether the dialog is open.
    pub open: bool,
    /// Its settings.
    pub settings: ExportSettings,
    /// The running export.
    pub job: Option<JobId>,
    /// The running export's progress: files done, files, what.
    pub progress: Option<(u64, u64, String)>,
    /// The last export's result (files written, notes) or error.
    pub result: Option<Result<ExportReport, String>>,
}

impl ExportState {
    /// Whether an export is queued or running.
    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// Progress of job `id` (ignored for other jobs).
    pub fn on_progress(&mut self, id: JobId, done: u64, total: u64, label: &str) {
        if self.job == Some(id) {
            self.progress = Some((done, total, label.to_string()));
        }
    }

    /// Job `id` finished with `report`.
    pub fn finished(&mut self, id: JobId, report: ExportReport) {
        if self.job == Some(id) {
            self.job = None;
            self.progress = None;
            self.result = Some(Ok(report));
        }
    }

    /// Job `id` failed (`Some(error)`) or was cancelled (`None`).
    pub fn ended(&mut self, id: JobId, error: Option<&str>) {
        if self.job == Some(id) {
            self.job = None;
            self.progress = None;
            self.result = Some(Err(error.map_or_else(
                || "Export cancelled; the files written so far are complete".to_string(),
                str::to_string,
            )));
        }
    }
}
