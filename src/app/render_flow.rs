//! The app's render side: render jobs, the gallery, recall, model search.

use std::sync::Arc;

use crate::jobs::JobId;
use crate::render::{RenderParams, RenderRequest};
use crate::studio::gallery::{load_renders, StoredRenders};
use crate::studio::render::render_and_save;
use crate::studio::{display_name, RenderedImage, RoleStatus, VariantJob};

use super::availability::DiffusionAvailability;
use super::command::Command;
use super::gallery::{CentralView, DoneTile, TileKey, TileState};
use super::output::AppOutput;
use super::studio_app::StudioApp;
use super::views::color_image;

impl StudioApp {
    /// Asks the model registry again (a job: it touches the disk).
    pub(super) fn rescan_models(&mut self) {
        self.diffusion = DiffusionAvailability::Checking;
        self.submit_model("Looking for models", |studio, _| {
            Ok(AppOutput::Models(studio.models.status()))
        });
    }

    /// Shows the registry's answer.
    pub(super) fn show_models(&mut self, status: &[RoleStatus]) {
        self.diffusion = DiffusionAvailability::from_status(status);
    }

    /// Why the Render button is disabled, or `None` when it can render.
    pub fn render_blocker(&self) -> Option<String> {
        match &self.diffusion {
            DiffusionAvailability::Checking => return Some("Looking for models…".into()),
            DiffusionAvailability::Missing { reason, .. } => {
                return Some(format!(
                    "Stable Diffusion models are missing: {reason}. A canny ControlNet is \
                     optional (controlnet-canny/ next to sd15/). Then press Rescan."
                ))
            }
            DiffusionAvailability::Ready { .. } => {}
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
        let mut params = self.prefs.render.clone();
        params.steps = params.steps.max(1);
        params.n_variants = params.n_variants.max(1);
        params.draft = false;
        self.submit_variants(params);
    }

    /// Checks that the open product can render and starts one model job
    /// per variant of `params` (drafts: one), each with its progress tile.
    pub(super) fn submit_variants(&mut self, params: RenderParams) {
        if let Some(reason) = self.render_blocker() {
            self.status.message = Some((reason, true));
            return;
        }
        let Some(session) = &self.session else {
            return;
        };
        let Some(canvas) = session.prepared.clone() else {
            return;
        };
        let product = session.product.id;
        let request = RenderRequest {
            params,
            canvas: session.product.canvas_settings,
            models: Default::default(),
        };
        if let Err(err) = request.validate() {
            self.status.message = Some((err.to_string(), true));
            return;
        }
        let n = request.params.n_variants;
        let draft = request.params.draft;
        for index in 0..n {
            let job = VariantJob {
                product,
                canvas: Arc::clone(&canvas),
                request: request.clone(),
                index,
            };
            let seed = request.variant_seed(index);
            let label = if draft {
                format!("Drafting (seed {seed})")
            } else {
                format!("Rendering variant {}/{n}", index + 1)
            };
            let id = self.submit_model(label, move |studio, ctx| {
                render_and_save(studio, ctx, &job).map(|r| AppOutput::Rendered(Box::new(r)))
            });
            if let Some(id) = id {
                let key = self.gallery.push(Some(id), seed, TileState::Queued);
                if let Some(tile) = self.gallery.tile_mut(key) {
                    tile.draft = draft;
                }
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
        self.prefs.render = self.prefs.render.recalled(&request.params);
        self.status.message = Some((
            format!("Recalled the parameters of seed {}", request.params.seed),
            false,
        ));
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.product.canvas_settings != request.canvas)
        {
            self.handle_command(Command::SetCanvasSettings(request.canvas));
        }
    }

    /// Loads the open product's stored renders into the gallery.
    pub(super) fn load_gallery(&mut self) {
        let Some(product) = self.session.as_ref().map(|s| s.product.id) else {
            return;
        };
        self.submit("Loading renders", move |studio, _| {
            load_renders(&studio.store, &studio.images, product)
                .map(|load| AppOutput::Gallery(Box::new(load)))
        });
    }

    /// Shows the stored renders of the open product.
    pub(super) fn show_gallery(&mut self, load: StoredRenders) {
        if self.session.as_ref().map(|s| s.product.id) != Some(load.product) {
            return;
        }
        for variant in load.variants {
            if variant
                .render_id
                .is_some_and(|id| self.gallery.has_render(id))
            {
                continue;
            }
            let seed = variant.params.request.params.seed;
            let state = self.done_state(variant);
            self.gallery.push(None, seed, state);
        }
        if !load.problems.is_empty() {
            self.status.message = Some((load.problems.join("; "), true));
        }
        self.load_stored_scores();
    }

    /// Shows a dropped adstudio PNG in the gallery and recalls it.
    pub(super) fn show_dropped(&mut self, variant: RenderedImage) {
        let name = display_name(&variant.path);
        let seed = variant.params.request.params.seed;
        let state = self.done_state(variant);
        let key = self.gallery.push(None, seed, state);
        self.recall(key);
        self.gallery.central = CentralView::Variant(key);
        self.status.message = Some((
            format!("Recalled the parameters of {name} (seed {seed})"),
            false,
        ));
    }

    /// Fills a render job's tile with its finished image.
    pub(super) fn show_rendered(&mut self, id: JobId, variant: RenderedImage) {
        let shown = self.session.as_ref().map(|s| s.product.id);
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

    /// A finished tile: the image uploaded as a texture (on the UI thread).
    fn done_state(&self, variant: RenderedImage) -> TileState {
        let name = match variant.render_id {
            Some(id) => format!("render-{}", id.0),
            None => format!("dropped-{}", variant.path.display()),
        };
        let texture = self.ctx.load_texture(
            name,
            color_image(&variant.image),
            egui::TextureOptions::LINEAR,
        );
        TileState::Done(Box::new(DoneTile {
            texture,
            params: variant.params,
            render_id: variant.render_id,
            path: variant.path,
        }))
    }
}
