//! The eframe application: state, commands and job results.
//!
//! - [`UiPrefs`] persist between runs (eframe storage);
//! - [`ProductSession`] is the runtime state of the open product;
//! - panels push [`Command`]s, which [`StudioApp::handle_command`] turns
//!   into state changes and background jobs;
//! - [`tasks`] holds the code those jobs run on the worker thread.

mod command;
pub mod gallery;
mod model_events;
pub mod models;
mod prefs;
mod render_flow;
pub mod render_jobs;
mod render_prefs;
pub mod scores;
mod session;
pub mod suggest;
pub mod tasks;
mod tools_flow;
pub mod training;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, Sender};
use egui::{Key, KeyboardShortcut, Modifiers};

pub use command::Command;
pub use gallery::{CentralView, GalleryState, GalleryTile, TileKey, TileState};
pub use models::{DiffusionAvailability, ModelOutput, ModelResources};
pub use prefs::{BrushSettings, CanvasView, UiPrefs};
pub use render_prefs::{RenderPrefs, SCHEDULERS};
pub use scores::{ScoresState, VariantScores};
pub use session::{ProductSession, ViewTextures};
pub use suggest::{SuggestSettings, SuggestState};
pub use training::{TrainSettings, TrainingState};

use crate::jobs::{JobEvent, JobId, Worker, WorkerOptions};
use crate::ml::saliency::{locate_u2netp, LazySaliency};
use crate::paths::DataDir;
use crate::store::{ImageStore, ProductId, ProductRow, Store};
use crate::ui::{self, CanvasViewState, StatusState};
use tasks::{MaskOutcome, MaskRequest, StudioOutput, StudioResources};

/// How the studio starts.
#[derive(Debug, Clone)]
pub struct StudioConfig {
    /// Where the store and images live.
    pub data_dir: DataDir,
    /// A product to open at start (from the command line).
    pub open_path: Option<PathBuf>,
    /// Reopen the product that was open last time.
    pub reopen_last: bool,
}

/// The studio application.
pub struct StudioApp {
    prefs: UiPrefs,
    worker: Worker<StudioResources, StudioOutput>,
    /// Renders (and other model jobs) run here, beside the studio worker.
    model_worker: Worker<ModelResources, ModelOutput>,
    diffusion: DiffusionAvailability,
    gallery: GalleryState,
    /// Models folders, searched in order (the first is where training writes).
    model_dirs: Vec<PathBuf>,
    suggest: SuggestState,
    scores: ScoresState,
    training: TrainingState,
    session: Option<ProductSession>,
    products: Vec<ProductRow>,
    status: StatusState,
    view_state: CanvasViewState,
    /// Commands pushed by panels during this frame.
    commands: Vec<Command>,
    /// Commands from other threads (the file dialog).
    external_tx: Sender<Command>,
    external_rx: Receiver<Command>,
    dialog_open: Arc<AtomicBool>,
    mask_job: Option<JobId>,
    mask_rebuild_pending: bool,
    ctx: egui::Context,
}

impl StudioApp {
    /// Opens the store in the data dir, starts the worker and queues the
    /// start-up jobs (reopen the last product, list products).
    pub fn new(cc: &eframe::CreationContext<'_>, config: StudioConfig) -> anyhow::Result<Self> {
        ui::theme::apply(&cc.egui_ctx);
        let prefs = UiPrefs::load(cc.storage);
        let db_path = config.data_dir.database_path();
        let store = Store::open(&db_path)
            .with_context(|| format!("opening the store {}", db_path.display()))?;
        let images = ImageStore::new(config.data_dir.images_dir());
        let mut model_files = locate_u2netp(None, Some(&config.data_dir.models_dir()));
        model_files.push(PathBuf::from("models/u2netp/u2netp.onnx"));
        let saliency = LazySaliency::new(model_files, candle_core::Device::Cpu);
        let repaint_ctx = cc.egui_ctx.clone();
        let worker = Worker::spawn(
            StudioResources::new(store, images.clone(), saliency),
            WorkerOptions {
                queue_capacity: 64,
                notify: Arc::new(move || repaint_ctx.request_repaint()),
            },
        )
        .context("starting the background worker")?;
        let model_store = Store::open(&db_path)
            .with_context(|| format!("opening the store {} for models", db_path.display()))?;
        let model_dirs = vec![config.data_dir.models_dir(), PathBuf::from("models")];
        let repaint_ctx = cc.egui_ctx.clone();
        let model_worker = Worker::spawn(
            ModelResources::new(model_store, images, model_dirs.clone()),
            WorkerOptions {
                queue_capacity: 64,
                notify: Arc::new(move || repaint_ctx.request_repaint()),
            },
        )
        .context("starting the model worker")?;
        let (external_tx, external_rx) = crossbeam_channel::unbounded();
        let mut app = Self {
            prefs,
            worker,
            model_worker,
            diffusion: DiffusionAvailability::Checking,
            gallery: GalleryState::new(),
            model_dirs,
            suggest: SuggestState::default(),
            scores: ScoresState::default(),
            training: TrainingState::default(),
            session: None,
            products: Vec::new(),
            status: StatusState::default(),
            view_state: CanvasViewState::default(),
            commands: Vec::new(),
            external_tx,
            external_rx,
            dialog_open: Arc::new(AtomicBool::new(false)),
            mask_job: None,
            mask_rebuild_pending: false,
            ctx: cc.egui_ctx.clone(),
        };
        if let Some(path) = config.open_path {
            app.handle_command(Command::OpenPath(path));
        } else if let Some(id) = app.prefs.last_product.filter(|_| config.reopen_last) {
            app.handle_command(Command::OpenStored(id));
        }
        app.handle_command(Command::RefreshProducts);
        app.handle_command(Command::RescanModels);
        Ok(app)
    }

    /// The open product, if any.
    pub fn session(&self) -> Option<&ProductSession> {
        self.session.as_ref()
    }

    /// The UI preferences.
    pub fn prefs(&self) -> &UiPrefs {
        &self.prefs
    }

    /// Mutable UI preferences (brush settings, view).
    pub fn prefs_mut(&mut self) -> &mut UiPrefs {
        &mut self.prefs
    }

    /// The stored products, as last listed.
    pub fn products(&self) -> &[ProductRow] {
        &self.products
    }

    /// The status bar's state (running job, last message).
    pub fn status(&self) -> &StatusState {
        &self.status
    }

    /// The gallery of rendered variants.
    pub fn gallery(&self) -> &GalleryState {
        &self.gallery
    }

    /// The suggestions panel's state.
    pub fn suggestions(&self) -> &SuggestState {
        &self.suggest
    }

    /// The Scores section's state (with the open product's scores).
    pub fn scores(&self) -> &ScoresState {
        &self.scores
    }

    /// The Training window's state.
    pub fn training(&self) -> &TrainingState {
        &self.training
    }

    /// Whether the diffusion models were found.
    pub fn diffusion(&self) -> &DiffusionAvailability {
        &self.diffusion
    }

    /// Whether jobs are queued or running (on either worker).
    pub fn is_busy(&self) -> bool {
        !self.worker.outstanding().is_empty()
            || !self.model_worker.outstanding().is_empty()
            || self.mask_rebuild_pending
    }

    /// Carries out a command. Never blocks: slow work becomes a job.
    pub fn handle_command(&mut self, command: Command) {
        match command {
            Command::ShowOpenDialog => self.show_open_dialog(),
            Command::OpenPath(path) => {
                let defaults = (self.prefs.default_mask, self.prefs.default_canvas);
                let label = format!("Opening {}", display_name(&path));
                self.submit(label, move |res, ctx| {
                    tasks::open_path(res, ctx, &path, defaults)
                });
            }
            Command::OpenStored(id) => {
                self.submit("Opening stored product", move |res, ctx| {
                    tasks::open_stored(res, ctx, ProductId(id))
                });
            }
            Command::SetMaskSettings(settings) => {
                if let Some(session) = &mut self.session {
                    self.prefs.default_mask = settings;
                    session.mask_settings = settings;
                    self.request_mask_rebuild();
                }
            }
            Command::SetCanvasSettings(settings) => {
                if let Some(session) = &mut self.session {
                    self.prefs.default_canvas = settings;
                    session.canvas_settings = settings;
                    self.request_mask_rebuild();
                }
            }
            Command::SetTitle(title) => {
                if let Some(session) = &mut self.session {
                    session.title = title.clone();
                    let id = session.id;
                    self.submit("Saving title", move |res, _| {
                        tasks::save_title(res, id, &title)
                    });
                }
            }
            Command::CommitStroke(stroke) => {
                if let Some(session) = &mut self.session {
                    session.edits.push(stroke);
                    self.request_mask_rebuild();
                }
            }
            Command::Undo => {
                if self.session.as_mut().is_some_and(|s| s.edits.undo()) {
                    self.request_mask_rebuild();
                }
            }
            Command::Redo => {
                if self.session.as_mut().is_some_and(|s| s.edits.redo()) {
                    self.request_mask_rebuild();
                }
            }
            Command::ToggleMaskOverlay => {
                self.prefs.show_mask_overlay = !self.prefs.show_mask_overlay;
            }
            Command::CancelJobs => {
                self.worker.cancel_all();
                self.mask_rebuild_pending = false;
            }
            Command::RefreshProducts => {
                self.submit("Listing products", |res, _| tasks::list_products(res));
            }
            Command::Suggest => self.suggest(),
            Command::RegenerateSuggestion(index) => self.regenerate_suggestion(index),
            Command::UseSuggestion(index) => self.use_suggestion(index),
            Command::CancelSuggestions => self.cancel_suggestions(),
            Command::ScoreVariants => self.score_variants(),
            Command::SetSortByScore(sort) => self.prefs.sort_by_score = sort,
            Command::ShowTraining => self.training.open = true,
            Command::StartTraining => self.start_training(),
            Command::CancelTraining => self.cancel_training(),
            Command::OpenDropped(path) => self.open_dropped(path),
            Command::Render => self.start_render(),
            Command::CancelModelJobs => self.model_worker.cancel_all(),
            Command::CancelModelJob(id) => self.cancel_model_job(id),
            Command::RescanModels => self.rescan_models(),
            Command::Recall(key) => self.recall(key),
        }
    }

    fn submit<F>(&mut self, label: impl Into<String>, run: F) -> Option<JobId>
    where
        F: FnOnce(
                &mut StudioResources,
                &crate::jobs::JobContext<'_, StudioOutput>,
            ) -> anyhow::Result<StudioOutput>
            + Send
            + 'static,
    {
        match self.worker.submit(label, run) {
            Ok(handle) => Some(handle.id),
            Err(err) => {
                self.status.message = Some((err.to_string(), true));
                None
            }
        }
    }

    /// Rebuilds the mask with the latest settings; requests made while a
    /// rebuild runs are merged into one that starts when it ends.
    fn request_mask_rebuild(&mut self) {
        if self.mask_job.is_some() {
            self.mask_rebuild_pending = true;
            return;
        }
        self.mask_rebuild_pending = false;
        let Some(session) = &mut self.session else {
            return;
        };
        session.requested_generation += 1;
        let request = MaskRequest {
            product: session.id,
            generation: session.requested_generation,
            image: Arc::clone(&session.image),
            mask_settings: session.mask_settings,
            edits: session.edits.clone(),
            canvas_settings: session.canvas_settings,
        };
        self.mask_job = self.submit("Updating mask", move |res, ctx| {
            tasks::rebuild_mask(res, ctx, &request)
        });
    }

    fn show_open_dialog(&mut self) {
        if self.dialog_open.swap(true, Ordering::SeqCst) {
            return;
        }
        let tx = self.external_tx.clone();
        let ctx = self.ctx.clone();
        let open = Arc::clone(&self.dialog_open);
        // The native dialog blocks its thread, so it gets its own.
        let spawned = std::thread::Builder::new()
            .name("adstudio-open-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title("Open product image")
                    .add_filter(
                        "Images",
                        &["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"],
                    )
                    .pick_file();
                open.store(false, Ordering::SeqCst);
                if let Some(path) = picked {
                    // The app may have closed meanwhile; then nobody listens.
                    let _ = tx.send(Command::OpenPath(path));
                    ctx.request_repaint();
                }
            });
        if let Err(err) = spawned {
            self.dialog_open.store(false, Ordering::SeqCst);
            self.status.message = Some((format!("could not open the file dialog: {err}"), true));
        }
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.worker.try_event() {
            self.handle_event(event);
        }
        self.status.studio.queued = self.worker.outstanding().len().saturating_sub(1);
    }

    fn handle_event(&mut self, event: JobEvent<StudioOutput>) {
        let id = event.id();
        let terminal = event.is_terminal();
        match event {
            JobEvent::Started { label, .. } => {
                self.status.studio.running = Some(label);
                self.status.studio.progress = None;
            }
            JobEvent::Progress {
                done, total, label, ..
            } => {
                self.status.studio.progress = Some((done, total, label));
            }
            JobEvent::Preview { .. } | JobEvent::Token { .. } => {}
            JobEvent::Done { output, .. } => self.handle_output(output),
            JobEvent::Failed { error, .. } => {
                log::warn!("{id} failed: {error}");
                self.status.message = Some((error, true));
            }
            JobEvent::Cancelled { .. } => {
                self.status.message = Some(("Cancelled".into(), false));
            }
        }
        if terminal {
            self.status.studio.running = None;
            self.status.studio.progress = None;
            if self.mask_job == Some(id) {
                self.mask_job = None;
                if self.mask_rebuild_pending {
                    self.request_mask_rebuild();
                }
            }
        }
    }

    fn handle_output(&mut self, output: StudioOutput) {
        match output {
            StudioOutput::Opened(product, outcome) => {
                self.prefs.last_product = Some(product.id.0);
                self.status.message = Some((format!("Opened {}", product.source_name), false));
                let mut session = ProductSession::new(&self.ctx, *product);
                let MaskOutcome {
                    generation, views, ..
                } = *outcome;
                session.apply_mask(&self.ctx, generation, views);
                self.session = Some(session);
                self.view_state = CanvasViewState::default();
                self.mask_rebuild_pending = false;
                self.gallery.clear();
                self.reset_tools();
                self.load_gallery();
                self.handle_command(Command::RefreshProducts);
            }
            StudioOutput::MaskRebuilt(outcome) => {
                if let Some(session) = &mut self.session {
                    if session.id == outcome.product
                        && outcome.generation > session.shown_generation
                    {
                        session.apply_mask(&self.ctx, outcome.generation, outcome.views);
                    }
                }
            }
            StudioOutput::Products(rows) => self.products = rows,
            StudioOutput::Saved => {}
            StudioOutput::Gallery(load) => self.show_gallery(*load),
            StudioOutput::DroppedRender(variant) => self.show_dropped(*variant),
        }
    }

    fn handle_input(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.handle_command(Command::OpenDropped(path));
        }
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.handle_command(Command::ShowOpenDialog);
        }
        let render = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
        if ctx.input_mut(|i| i.consume_shortcut(&render)) {
            self.handle_command(Command::Render);
        }
        // A focused text field keeps Ctrl+Z for its own text.
        if !ctx.egui_wants_keyboard_input() {
            // Redo first: the undo shortcut also matches with Shift held.
            if ctx.input_mut(|i| i.consume_shortcut(&redo)) {
                self.handle_command(Command::Redo);
            } else if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
                self.handle_command(Command::Undo);
            }
        }
        while let Ok(command) = self.external_rx.try_recv() {
            self.handle_command(command);
        }
    }

    fn run_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            self.handle_command(command);
        }
    }
}

impl eframe::App for StudioApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
        self.drain_model_events();
        self.handle_input(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::bottom("status-bar").show(ui, |ui| {
            ui::status_bar_ui(ui, &self.status, &mut self.commands);
        });
        egui::Panel::left("product-panel")
            .resizable(true)
            .default_size(320.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui::product_panel_ui(
                        ui,
                        self.session.as_ref(),
                        &self.products,
                        &mut self.prefs,
                        &mut self.commands,
                    );
                });
            });
        let blocker = self.render_blocker();
        let variant_count = self.stored_variant_count();
        let product = self.session.as_ref().map(|s| s.id);
        let scores = product.and_then(|p| self.scores.for_product(p));
        egui::Panel::right("tools-panel")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui::tools_panel_ui(
                        ui,
                        &mut ui::ToolsPanel {
                            render: &mut self.prefs.render,
                            blocker,
                            diffusion: &self.diffusion,
                            suggest: &mut self.suggest,
                            suggest_settings: &mut self.prefs.suggest,
                            has_product: product.is_some(),
                            scores: ui::ScoresView {
                                state: &self.scores,
                                scores,
                                variant_count,
                                sort_by_score: self.prefs.sort_by_score,
                            },
                            commands: &mut self.commands,
                        },
                    );
                });
            });
        egui::Panel::bottom("gallery")
            .resizable(true)
            .default_size(190.0)
            .show(ui, |ui| {
                let ranked = ui::GalleryScores {
                    scores,
                    sort_by_score: self.prefs.sort_by_score,
                };
                ui::gallery_ui(ui, &mut self.gallery, &ranked, &mut self.commands);
            });
        egui::CentralPanel::default().show(ui, |ui| match self.gallery.central {
            CentralView::Canvas => ui::canvas_view_ui(
                ui,
                self.session.as_ref(),
                &mut self.prefs,
                &mut self.view_state,
                &mut self.commands,
            ),
            _ => ui::large_view_ui(ui, &mut self.gallery, scores, &mut self.commands),
        });
        self.training.drain();
        ui::training_window_ui(
            ui.ctx(),
            &mut self.training,
            &mut self.prefs.training,
            &mut self.commands,
        );
        self.run_commands();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs.save(storage);
    }
}

fn display_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
