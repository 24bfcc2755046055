//! The studio application's state and its command handling.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, Sender};

use crate::jobs::{JobContext, JobHandle, JobId, SubmitError, Worker, WorkerOptions};
use crate::paths::DataDir;
use crate::store::{ProductId, ProductRow, StoreLocation};
use crate::studio::{display_name, registry_for, ModelHub, Progress, Studio};

use super::adapters_state::AdaptersState;
use super::availability::DiffusionAvailability;
use super::catalog_state::CatalogState;
use super::command::Command;
use super::gallery::GalleryState;
use super::label_desk::{spawn_label_worker, LabelWorker};
use super::label_state::LabelState;
use super::online_state::OnlineState;
use super::output::AppOutput;
use super::prefs::UiPrefs;
use super::scores_state::ScoresState;
use super::session::ProductSession;
use super::status::StatusState;
use super::suggest_state::SuggestState;
use super::training_state::TrainingState;

/// How the studio starts.
#[derive(Debug, Clone)]
pub struct StudioConfig {
    /// Where the store and images live.
    pub data_dir: DataDir,
    /// A product to open at start (from the command line).
    pub open_path: Option<PathBuf>,
    /// Reopen the product that was open last time.
    pub reopen_last: bool,
    /// Open the model manager with the recommended models picked when the
    /// data dir is new (no store yet).
    pub first_run_manager: bool,
}

/// A worker over the studio core, as the app runs two of them.
pub(super) type StudioWorker = Worker<Studio, AppOutput, Progress>;
/// What a job on a [`StudioWorker`] sees.
pub(super) type Ctx<'a> = JobContext<'a, AppOutput, Progress>;

/// The studio application: state, commands and the outputs of its jobs.
/// Drawing is `ui`'s; this type never draws.
pub struct StudioApp {
    pub(super) prefs: UiPrefs,
    /// Products, masks and the store.
    pub(super) worker: StudioWorker,
    /// Renders, suggestions, scoring and training, beside the studio
    /// worker (so a long render never blocks mask edits).
    pub(super) model_worker: StudioWorker,
    /// The labelling session, with its own store connection.
    pub(super) label_worker: LabelWorker,
    pub(super) models: Arc<ModelHub>,
    pub(super) diffusion: DiffusionAvailability,
    pub(super) gallery: GalleryState,
    pub(super) suggest: SuggestState,
    pub(super) adapters: AdaptersState,
    /// The data directory (adapter files are relative to it).
    pub(super) data_root: PathBuf,
    pub(super) scores: ScoresState,
    pub(super) training: TrainingState,
    pub(super) online: OnlineState,
    pub(super) catalog: CatalogState,
    pub(super) label: LabelState,
    pub(super) session: Option<ProductSession>,
    pub(super) products: Vec<ProductRow>,
    pub(super) status: StatusState,
    pub(super) model_manager: super::model_manager::ModelManagerState,
    /// Commands from other threads (the file dialog).
    pub(super) external_tx: Sender<Command>,
    external_rx: Receiver<Command>,
    pub(super) dialog_open: Arc<AtomicBool>,
    pub(super) mask_job: Option<JobId>,
    pub(super) mask_rebuild_pending: bool,
    pub(super) ctx: egui::Context,
}

impl StudioApp {
    /// Opens the store in the data dir, starts the workers over one model
    /// hub and queues the start-up jobs (reopen the last product, list
    /// products, look for models).
    pub fn new(cc: &eframe::CreationContext<'_>, config: StudioConfig) -> anyhow::Result<Self> {
        let prefs = UiPrefs::load(cc.storage);
        let config = StudioConfig {
            data_dir: studio_data_dir(&config.data_dir, &prefs.store),
            ..config
        };
        let store_in_use = config.data_dir.store_location();
        let first_start = match &store_in_use {
            StoreLocation::Sqlite(path) => !path.exists(),
            StoreLocation::Postgres(_) => false,
        };
        let (device, device_note) = studio_device(prefs.device);
        let models = Arc::new(ModelHub::with_device(
            registry_for(Some(&config.data_dir)),
            device,
        ));
        let spawn = |name: &str| -> anyhow::Result<StudioWorker> {
            let studio = Studio::open(&config.data_dir, Arc::clone(&models))?;
            let repaint = cc.egui_ctx.clone();
            Worker::spawn(
                studio,
                WorkerOptions {
                    queue_capacity: 64,
                    notify: Arc::new(move || repaint.request_repaint()),
                },
            )
            .with_context(|| format!("starting the {name} worker"))
        };
        let worker = spawn("studio")?;
        let model_worker = spawn("model")?;
        let label_worker = spawn_label_worker(&config.data_dir, cc.egui_ctx.clone())?;
        let (external_tx, external_rx) = crossbeam_channel::unbounded();
        let device = device_label(&models);
        let mut app = Self {
            prefs,
            worker,
            model_worker,
            label_worker,
            models,
            diffusion: DiffusionAvailability::Checking,
            gallery: GalleryState::new(),
            suggest: SuggestState::default(),
            adapters: AdaptersState::default(),
            data_root: config.data_dir.root().to_path_buf(),
            scores: ScoresState::default(),
            training: TrainingState::default(),
            online: OnlineState::default(),
            catalog: CatalogState::default(),
            label: LabelState::default(),
            session: None,
            products: Vec::new(),
            status: StatusState {
                device,
                store: store_in_use.to_string(),
                message: device_note.map(|n| (n, true)),
                ..StatusState::default()
            },
            model_manager: Default::default(),
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
        if config.first_run_manager && first_start {
            app.open_first_run();
        }
        app.handle_command(Command::RefreshAdapters);
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

    /// Mutable UI preferences (for tests and start-up settings; panels
    /// change them through commands).
    pub fn prefs_mut(&mut self) -> &mut UiPrefs {
        &mut self.prefs
    }

    /// The stored products, as last listed.
    pub fn products(&self) -> &[ProductRow] {
        &self.products
    }

    /// The status bar's state (running jobs, last message).
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

    /// The Adapters section's state (the stored adapters).
    pub fn adapters(&self) -> &AdaptersState {
        &self.adapters
    }

    /// The Scores section's state (with the open product's scores).
    pub fn scores(&self) -> &ScoresState {
        &self.scores
    }

    /// The Training window's state.
    pub fn training(&self) -> &TrainingState {
        &self.training
    }

    /// The Online PCPO window's state.
    pub fn online(&self) -> &OnlineState {
        &self.online
    }

    /// The Catalog window's and the Export winners dialog's state.
    pub fn catalog(&self) -> &CatalogState {
        &self.catalog
    }

    /// The labelling mode's state (with the preference statistics).
    pub fn labelling(&self) -> &LabelState {
        &self.label
    }

    /// Whether the diffusion models were found.
    pub fn diffusion(&self) -> &DiffusionAvailability {
        &self.diffusion
    }

    /// The model manager's state.
    pub fn model_manager(&self) -> &super::model_manager::ModelManagerState {
        &self.model_manager
    }

    /// The model hub shared by the workers (for a model manager's status).
    pub fn models(&self) -> &ModelHub {
        &self.models
    }

    /// Whether jobs are queued or running (on either worker).
    pub fn is_busy(&self) -> bool {
        !self.worker.outstanding().is_empty()
            || !self.model_worker.outstanding().is_empty()
            || !self.label_worker.outstanding().is_empty()
            || self.mask_rebuild_pending
    }

    /// Carries out a command. Never blocks: slow work becomes a job.
    pub fn handle_command(&mut self, command: Command) {
        if self.handle_view_command(&command) || self.handle_label_command(&command) {
            return;
        }
        match command {
            Command::ShowOpenDialog => self.show_open_dialog(),
            Command::OpenPath(path) => self.open_path(path),
            Command::OpenStored(id) => self.open_stored(ProductId(id)),
            Command::SetMaskSettings(settings) => self.set_mask_settings(settings),
            Command::SetCanvasSettings(settings) => self.set_canvas_settings(settings),
            Command::SetTitle(title) => self.set_title(title),
            Command::CommitStroke(stroke) => self.commit_stroke(stroke),
            Command::Undo => self.undo(),
            Command::Redo => self.redo(),
            Command::CancelJobs => {
                self.worker.cancel_all();
                self.mask_rebuild_pending = false;
            }
            Command::RefreshProducts => self.refresh_products(),
            Command::Suggest => self.suggest(),
            Command::RegenerateSuggestion(index) => self.regenerate_suggestion(index),
            Command::UseSuggestion(index) => self.use_suggestion(index),
            Command::CancelSuggestions => self.cancel_suggestions(),
            Command::RefreshAdapters => self.refresh_adapters(),
            Command::SelectAdapter(name) => self.select_adapter(name),
            Command::ScoreVariants => self.score_variants(),
            Command::StartTraining => self.start_training(),
            Command::CancelTraining => self.cancel_training(),
            Command::EstimateOnline => self.estimate_online(),
            Command::StartOnline => self.start_online(),
            Command::CancelOnline => self.cancel_online(),
            Command::OpenDropped(path) => self.open_dropped(path),
            Command::Render => self.start_render(),
            Command::Draft => self.start_draft(),
            Command::RenderFinal(key) => self.render_final(key),
            Command::CancelModelJobs => self.model_worker.cancel_all(),
            Command::CancelModelJob(id) => self.cancel_model_job(id),
            Command::RescanModels => self.rescan_models(),
            Command::ShowModelManager(open) => self.show_model_manager(open),
            Command::OfferFetch(role) => self.offer_fetch(role),
            Command::ToggleModel(name) => self.toggle_model(&name),
            Command::AcceptLicence(name, yes) => self.accept_licence(&name, yes),
            Command::FetchModels => self.fetch_selected(),
            Command::CancelFetch => self.cancel_fetch(),
            Command::EditStoreSetting(text) => self.model_manager.store_draft = Some(text),
            Command::SetStore(text) => {
                let text = text.trim().to_string();
                self.model_manager.message = Some((
                    if text.is_empty() {
                        "store: the data dir's SQLite file from the next start".to_string()
                    } else {
                        format!("store {} from the next start", StoreLocation::parse(&text))
                    },
                    false,
                ));
                self.prefs.store = text;
                self.model_manager.store_draft = None;
            }
            Command::SetDevice(preference) => {
                self.prefs.device = preference;
                self.model_manager.message = Some((
                    format!("device {} from the next start", preference.label()),
                    false,
                ));
            }
            Command::Recall(key) => self.recall(key),
            Command::ShowCatalog(open) => self.show_catalog(open),
            Command::RefreshCatalog => self.refresh_catalog(),
            Command::ShowExport(open) => self.show_export(open),
            Command::SetExportSettings(settings) => self.set_export_settings(settings),
            Command::StartExport => self.start_export(),
            Command::CancelExport => self.cancel_export(),
            _ => {}
        }
    }

    /// Commands that only change what is shown or remembered (no job).
    /// Returns whether `command` was one of them.
    fn handle_view_command(&mut self, command: &Command) -> bool {
        match command {
            Command::ToggleMaskOverlay => {
                self.prefs.show_mask_overlay = !self.prefs.show_mask_overlay;
            }
            Command::SetView(view) => self.prefs.view = *view,
            Command::SetBrush(brush) => self.prefs.brush = *brush,
            Command::SetRenderParams(params) => self.set_render_params(params),
            Command::SetSuggestSettings(settings) => self.prefs.suggest = *settings,
            Command::SetTrainSettings(settings) => self.prefs.training = *settings,
            Command::EditSuggestion(index, text) => self.suggest.edit(*index, text.clone()),
            Command::SetSortByScore(sort) => self.prefs.sort_by_score = *sort,
            Command::ShowTraining(open) => self.training.open = *open,
            Command::ShowOnline(open) => self.online.open = *open,
            Command::SetOnlinePrefs(prefs) => self.set_online_prefs(prefs),
            Command::ShowCentral(view) => self.gallery.central = *view,
            Command::ToggleSelected(key) => self.gallery.toggle_selected(*key),
            Command::ClearSelection => self.gallery.clear_selection(),
            Command::DismissTile(key) => self.gallery.remove(*key),
            Command::SetSplit(split) => self.gallery.split = split.clamp(0.0, 1.0),
            Command::ShowSafeZones(show) => self.prefs.show_safe_zones = *show,
            _ => return false,
        }
        true
    }

    /// Queues a job on the studio worker; a refused job becomes an error
    /// message.
    pub(super) fn submit<F>(&mut self, label: impl Into<String>, run: F) -> Option<JobId>
    where
        F: FnOnce(&mut Studio, &Ctx<'_>) -> anyhow::Result<AppOutput> + Send + 'static,
    {
        let submitted = self.worker.submit(label, run);
        self.submitted(submitted)
    }

    /// Queues a job on the model worker; a refused job becomes an error
    /// message.
    pub(super) fn submit_model<F>(&mut self, label: impl Into<String>, run: F) -> Option<JobId>
    where
        F: FnOnce(&mut Studio, &Ctx<'_>) -> anyhow::Result<AppOutput> + Send + 'static,
    {
        let submitted = self.model_worker.submit(label, run);
        self.submitted(submitted)
    }

    fn submitted(&mut self, result: Result<JobHandle, SubmitError>) -> Option<JobId> {
        match result {
            Ok(handle) => Some(handle.id),
            Err(err) => {
                self.status.message = Some((err.to_string(), true));
                None
            }
        }
    }

    /// Cancels one queued or running model job.
    pub(super) fn cancel_model_job(&mut self, id: JobId) {
        if let Some(handle) = self
            .model_worker
            .outstanding()
            .into_iter()
            .find(|h| h.id == id)
        {
            handle.cancel.cancel();
        }
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

    /// Work between frames: job events of both workers, dropped files,
    /// shortcuts and commands from other threads. Call once per frame
    /// before drawing.
    pub fn logic(&mut self, ctx: &egui::Context) {
        self.drain_events();
        self.drain_model_events();
        self.drain_downloads();
        // Labelling keys before the labelling worker's replies: a key
        // pressed before the next pair was drawn belongs to the pair that
        // was on screen (and is ignored while its label is being saved).
        let labelling = self.handle_label_keys(ctx);
        self.drain_label_events(ctx);
        self.handle_input(ctx, labelling);
    }

    /// Carries out the commands the panels pushed while drawing a frame.
    pub fn run_commands(&mut self, commands: Vec<Command>) {
        for command in commands {
            self.handle_command(command);
        }
    }

    /// Dropped files, the studio's shortcuts (off while `labelling`) and
    /// commands from other threads.
    fn handle_input(&mut self, ctx: &egui::Context, labelling: bool) {
        use egui::{Key, KeyboardShortcut, Modifiers};
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
        if labelling {
            while let Ok(command) = self.external_rx.try_recv() {
                self.handle_command(command);
            }
            return;
        }
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let render = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.handle_command(Command::ShowOpenDialog);
        }
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
}

/// The data dir the studio works in, with the store setting applied when
/// neither `--store` nor `ADSTUDIO_STORE` chose one.
fn studio_data_dir(data_dir: &DataDir, store_setting: &str) -> DataDir {
    let setting = store_setting.trim();
    if data_dir.has_store_override() || setting.is_empty() {
        return data_dir.clone();
    }
    data_dir
        .clone()
        .with_store(Some(StoreLocation::parse(setting)))
}

/// The studio's device: the one `--device` chose, else the setting's
/// (the CPU, with a note, when that device cannot start).
fn studio_device(preference: crate::ml::DevicePreference) -> (candle_core::Device, Option<String>) {
    if let Some(device) = crate::ml::device::chosen_process_device() {
        return (device, None);
    }
    match crate::ml::select_device(preference) {
        Ok(device) => (device, None),
        Err(e) => (
            candle_core::Device::Cpu,
            Some(format!("{e}; computing on the CPU")),
        ),
    }
}

/// "CPU (f32)", "CUDA:0 (f16)": the device in use, for the status bar.
fn device_label(models: &ModelHub) -> String {
    let device = models.device();
    format!(
        "{} ({})",
        crate::ml::device::describe(device),
        format!("{:?}", crate::ml::dtype_for(device)).to_lowercase()
    )
}

/// "Opening NAME" for a path.
pub(super) fn opening_label(path: &std::path::Path) -> String {
    format!("Opening {}", display_name(path))
}

#[cfg(test)]
mod store_setting_tests {
    use super::*;

    #[test]
    fn the_store_setting_applies_unless_the_command_line_chose_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = DataDir::at(dir.path()).expect("data dir");
        let default = studio_data_dir(&data, "  ");
        assert_eq!(
            default.store_location(),
            StoreLocation::Sqlite(data.database_path())
        );
        let url = "postgres://ann@db.lan/ads";
        let shared = studio_data_dir(&data, url);
        assert_eq!(
            shared.store_location(),
            StoreLocation::Postgres(url.to_string())
        );
        let flag = StoreLocation::Sqlite(dir.path().join("other.sqlite3"));
        let chosen = data.clone().with_store(Some(flag.clone()));
        assert_eq!(studio_data_dir(&chosen, url).store_location(), flag);
    }

    #[test]
    fn prefs_without_a_store_setting_load_with_the_default() {
        let mut prefs: UiPrefs = serde_json::from_str("{}").expect("old prefs");
        assert_eq!(prefs.store, "");
        prefs.store = "postgres://ann@db.lan/ads".to_string();
        let text = serde_json::to_string(&prefs).expect("save");
        let back: UiPrefs = serde_json::from_str(&text).expect("load");
        assert_eq!(back.store, prefs.store);
    }
}
