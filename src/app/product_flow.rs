//! The app's product side: opening products, mask and canvas edits, and
//! showing what those jobs return.

use crate::product::{BrushStroke, CanvasSettings, MaskSettings};
use crate::store::ProductId;
use crate::studio::gallery::read_adstudio_png;
use crate::studio::product::{self, MaskBuild, MaskRequest, OpenedProduct};
use crate::studio::Studio;
use std::path::PathBuf;

use super::command::Command;
use super::output::{AppOutput, ShownMask};
use super::session::ProductSession;
use super::studio_app::{opening_label, Ctx, StudioApp};
use super::views::mask_views;

/// Builds a mask on the worker (saving the request's settings with the
/// product first when `save`) and its display images.
fn shown(
    studio: &mut Studio,
    ctx: &Ctx<'_>,
    request: &MaskRequest,
    save: bool,
) -> anyhow::Result<ShownMask> {
    let build: MaskBuild = if save {
        product::rebuild_mask(studio, ctx, request)?
    } else {
        product::build_mask(studio, ctx, request)?
    };
    let views = build.result.as_ref().ok().map(mask_views);
    Ok(ShownMask { build, views })
}

/// Opens a product on the worker and builds its first mask.
fn open_then_mask(
    studio: &mut Studio,
    ctx: &Ctx<'_>,
    opened: OpenedProduct,
) -> anyhow::Result<AppOutput> {
    let mask = shown(studio, ctx, &opened.mask_request(0), false)?;
    Ok(AppOutput::Opened(Box::new(opened), Box::new(mask)))
}

impl StudioApp {
    pub(super) fn open_path(&mut self, path: PathBuf) {
        let defaults = (self.prefs.default_mask, self.prefs.default_canvas);
        self.submit(opening_label(&path), move |studio, ctx| {
            let opened = product::open_file(studio, ctx, &path, defaults)?;
            open_then_mask(studio, ctx, opened)
        });
    }

    pub(super) fn open_stored(&mut self, id: ProductId) {
        self.submit("Opening stored product", move |studio, ctx| {
            let opened = product::open_stored(studio, ctx, id)?;
            open_then_mask(studio, ctx, opened)
        });
    }

    /// A dropped file: an adstudio PNG is shown and recalled, anything else
    /// is opened as a product.
    pub(super) fn open_dropped(&mut self, path: PathBuf) {
        let defaults = (self.prefs.default_mask, self.prefs.default_canvas);
        self.submit(opening_label(&path), move |studio, ctx| {
            if let Some(image) = read_adstudio_png(&path)? {
                return Ok(AppOutput::DroppedRender(Box::new(image)));
            }
            let opened = product::open_file(studio, ctx, &path, defaults)?;
            open_then_mask(studio, ctx, opened)
        });
    }

    pub(super) fn refresh_products(&mut self) {
        self.submit("Listing products", |studio, _| {
            product::list_products(studio).map(AppOutput::Products)
        });
    }

    pub(super) fn set_mask_settings(&mut self, settings: MaskSettings) {
        if let Some(session) = &mut self.session {
            self.prefs.default_mask = settings;
            session.product.mask_settings = settings;
            self.request_mask_rebuild();
        }
    }

    pub(super) fn set_canvas_settings(&mut self, settings: CanvasSettings) {
        if let Some(session) = &mut self.session {
            self.prefs.default_canvas = settings;
            session.product.canvas_settings = settings;
            self.request_mask_rebuild();
        }
    }

    pub(super) fn set_title(&mut self, title: String) {
        if let Some(session) = &mut self.session {
            session.product.title = title.clone();
            let id = session.product.id;
            self.submit("Saving title", move |studio, _| {
                product::save_title(studio, id, &title).map(|()| AppOutput::Saved)
            });
        }
    }

    pub(super) fn commit_stroke(&mut self, stroke: BrushStroke) {
        if let Some(session) = &mut self.session {
            session.product.edits.push(stroke);
            self.request_mask_rebuild();
        }
    }

    pub(super) fn undo(&mut self) {
        if self
            .session
            .as_mut()
            .is_some_and(|s| s.product.edits.undo())
        {
            self.request_mask_rebuild();
        }
    }

    pub(super) fn redo(&mut self) {
        if self
            .session
            .as_mut()
            .is_some_and(|s| s.product.edits.redo())
        {
            self.request_mask_rebuild();
        }
    }

    /// Rebuilds the mask with the latest settings; requests made while a
    /// rebuild runs are merged into one that starts when it ends.
    pub(super) fn request_mask_rebuild(&mut self) {
        if self.mask_job.is_some() {
            self.mask_rebuild_pending = true;
            return;
        }
        self.mask_rebuild_pending = false;
        let Some(session) = &mut self.session else {
            return;
        };
        session.requested_generation += 1;
        let request = session.product.mask_request(session.requested_generation);
        self.mask_job = self.submit("Updating mask", move |studio, ctx| {
            shown(studio, ctx, &request, true).map(|m| AppOutput::MaskRebuilt(Box::new(m)))
        });
    }

    /// Shows a newly opened product.
    pub(super) fn show_opened(&mut self, product: OpenedProduct, mask: ShownMask) {
        self.prefs.last_product = Some(product.id.0);
        self.status.message = Some((format!("Opened {}", product.source_name), false));
        let mut session = ProductSession::new(&self.ctx, product);
        session.apply_mask(&self.ctx, mask);
        self.session = Some(session);
        self.mask_rebuild_pending = false;
        self.gallery.clear();
        self.reset_tools();
        self.load_gallery();
        self.handle_command(Command::RefreshProducts);
    }

    /// Shows a rebuilt mask unless a newer one is already shown.
    pub(super) fn show_mask(&mut self, mask: ShownMask) {
        if let Some(session) = &mut self.session {
            if session.product.id == mask.build.product
                && mask.build.generation > session.shown_generation
            {
                session.apply_mask(&self.ctx, mask);
            }
        }
    }
}
