//! The app's render side: model-worker jobs and their events, the gallery
//! and recall. (An `impl StudioApp` block kept apart from the studio side.)

use std::path::PathBuf;

use crate::jobs::{JobContext, JobId};
use crate::render::RenderRequest;

use super::gallery::{DoneTile, LoadedVariant, TileKey, TileState};
use super::models::{DiffusionAvailability, ModelOutput, ModelResources};
use super::render_jobs::{self, GalleryLoad, VariantJob};
use super::{Command, StudioApp};

impl StudioApp {
    /// Queues a job on the model worker; a refused job becomes an error
    /// message.
    pub(super) fn submit_model<F>(&mut self, label: impl Into<String>, run: F) -> Option<JobId>
    where
        F: FnOnce(&mut ModelResources, &JobContext<'_, ModelOutput>) -> anyhow::Result<ModelOutput>
            + Send
            + 'static,
    {
        match self.model_worker.submit(label, run) {
            Ok(handle) => Some(handle.id),
            Err(err) => {
                self.status.message = Some((err.to_string(), true));
                None
            }
        }
    }

    /// Searches the models folders again (a job: it touches the disk).
    pub(super) fn rescan_models(&mut self) {
        self.diffusion = DiffusionAvailability::Checking;
        self.submit_model("Looking for models", |res, _| {
            render_jobs::check_models(res)
        });
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

    /// Why the Render button is disabled, or `None` when it can render.
    pub fn render_blocker(&self) -> Option<String> {
        match &self.diffusion {
            DiffusionAvailability::Checking => return Some("Looking for models…".into()),
            DiffusionAvailability::Missing { expected, reason } => {
                return Some(format!(
                    "Stable Diffusion models are missing: {reason}. Put a diffusers SD 1.5 \
                     folder (unet/, vae/, text_encoder/, tokenizer/, scheduler/) at {} and \
                     optionally a canny ControlNet next to it in controlnet-canny/, then \
                     press Rescan.",
                    expected.display()
                ))
            }
            DiffusionAvailability::Ready(_) => {}
        }
        let Some(session) = &self.session else {
            return Some("Open a product to render it.".into());
        };
        if session.prepared.is_none() {
            return Some("The product has no usable mask yet.".into());
        }
        if self.mask_job.is_some() || self.mask_rebuild_pending {
            return Some("Waiting for the mask update…".into());
        }
        None
    }

    /// Starts one model job per variant, each with its progress tile.
    pub(super) fn start_render(&mut self) {
        if let Some(reason) = self.render_blocker() {
            self.status.message = Some((reason, true));
            return;
        }
        let (DiffusionAvailability::Ready(paths), Some(session)) = (&self.diffusion, &self.session)
        else {
            return;
        };
        let Some(canvas) = session.prepared.clone() else {
            return;
        };
        let paths = paths.clone();
        let product = session.id;
        let request: RenderRequest = self
            .prefs
            .render
            .to_request(session.canvas_settings, paths.model_ids());
        if let Err(err) = request.validate() {
            self.status.message = Some((err.to_string(), true));
            return;
        }
        for index in 0..request.n_variants {
            let job = VariantJob {
                product,
                canvas: canvas.clone(),
                request: request.clone(),
                index,
                models: paths.clone(),
            };
            let seed = request.variant_seed(index);
            let label = format!("Rendering variant {}/{}", index + 1, request.n_variants);
            let id = self.submit_model(label, move |res, ctx| {
                render_jobs::render_one(res, ctx, &job)
            });
            if let Some(id) = id {
                self.gallery.push(Some(id), seed, TileState::Queued);
            }
        }
    }

    /// Restores a gallery image's parameters into the render panel (and its
    /// canvas settings into the open product).
    pub(super) fn recall(&mut self, key: TileKey) {
        let Some(done) = self.gallery.tile(key).and_then(|t| t.done()) else {
            return;
        };
        let request = done.params.request.clone();
        self.prefs.render.recall(&request);
        self.status.message = Some((
            format!("Recalled the parameters of seed {}", request.seed),
            false,
        ));
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.canvas_settings != request.canvas)
        {
            self.handle_command(Command::SetCanvasSettings(request.canvas));
        }
    }

    /// Reads a dropped file on the studio worker (it may be an adstudio PNG).
    pub(super) fn open_dropped(&mut self, path: PathBuf) {
        let defaults = (self.prefs.default_mask, self.prefs.default_canvas);
        let label = format!("Opening {}", super::display_name(&path));
        self.submit(label, move |res, ctx| {
            render_jobs::open_dropped(res, ctx, &path, defaults)
        });
    }

    /// Loads the open product's stored renders into the gallery.
    pub(super) fn load_gallery(&mut self) {
        let Some(product) = self.session.as_ref().map(|s| s.id) else {
            return;
        };
        self.submit("Loading renders", move |res, _| {
            render_jobs::load_renders(&res.store, &res.images, product)
                .map(|load| super::tasks::StudioOutput::Gallery(Box::new(load)))
        });
    }

    /// Shows the stored renders of the open product.
    pub(super) fn show_gallery(&mut self, load: GalleryLoad) {
        if self.session.as_ref().map(|s| s.id) != Some(load.product) {
            return;
        }
        for variant in load.variants {
            if variant
                .render_id
                .is_some_and(|id| self.gallery.has_render(id))
            {
                continue;
            }
            let seed = variant.params.request.seed;
            let state = self.done_state(variant);
            self.gallery.push(None, seed, state);
        }
        if !load.problems.is_empty() {
            self.status.message = Some((load.problems.join("; "), true));
        }
        self.load_stored_scores();
    }

    /// Shows a dropped adstudio PNG in the gallery and recalls it.
    pub(super) fn show_dropped(&mut self, variant: LoadedVariant) {
        let name = super::display_name(&variant.path);
        let seed = variant.params.request.seed;
        let state = self.done_state(variant);
        let key = self.gallery.push(None, seed, state);
        self.recall(key);
        self.gallery.central = super::gallery::CentralView::Variant(key);
        self.status.message = Some((
            format!("Recalled the parameters of {name} (seed {seed})"),
            false,
        ));
    }

    /// Fills a render job's tile with its finished image.
    pub(super) fn show_rendered(&mut self, id: JobId, variant: LoadedVariant) {
        let shown = self.session.as_ref().map(|s| s.id);
        if variant.product.is_some() && variant.product != shown {
            // Another product was opened meanwhile; the render is stored
            // and shows when that product is reopened.
            return;
        }
        if let Some(notice) = &variant.notice {
            self.status.message = Some((notice.clone(), true));
        }
        let state = self.done_state(variant);
        if let Some(tile) = self.gallery.tile_for_job(id) {
            tile.state = state;
        }
    }

    fn done_state(&self, variant: LoadedVariant) -> TileState {
        let name = match variant.render_id {
            Some(id) => format!("render-{}", id.0),
            None => format!("dropped-{}", variant.path.display()),
        };
        let texture = self
            .ctx
            .load_texture(name, variant.image, egui::TextureOptions::LINEAR);
        TileState::Done(Box::new(DoneTile {
            texture,
            params: variant.params,
            render_id: variant.render_id,
            path: variant.path,
        }))
    }
}
