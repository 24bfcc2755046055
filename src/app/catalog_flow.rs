//! The Catalog window's and the Export winners dialog's commands: list the
//! catalog and export on the model worker (the core's
//! [`list_catalog`] and [`export_winners`]); clicking a product opens it
//! with the existing open-stored command.

use std::path::PathBuf;

use crate::jobs::JobId;
use crate::studio::catalog::{list_catalog, CatalogEntry};
use crate::studio::export::{export_winners, ExportJob, OutputFormat, ProductSelection};

use super::catalog_state::ExportSettings;
use super::output::AppOutput;
use super::studio_app::StudioApp;
use super::views::color_image;

impl StudioApp {
    /// Opens (and lists) or closes the catalog.
    pub(super) fn show_catalog(&mut self, open: bool) {
        self.catalog.open = open;
        if open {
            self.refresh_catalog();
        }
    }

    /// Lists the catalog again on the studio worker.
    pub(super) fn refresh_catalog(&mut self) {
        if self.catalog.job.is_some() {
            return;
        }
        self.catalog.job = self.submit("Reading the catalog", |studio, ctx| {
            list_catalog(studio, ctx).map(AppOutput::Catalog)
        });
    }

    /// The catalog was listed.
    pub(super) fn show_catalog_entries(&mut self, id: JobId, entries: Vec<CatalogEntry>) {
        if self.catalog.job == Some(id) {
            self.catalog.job = None;
        }
        self.catalog.message = None;
        self.catalog.thumbnails = entries
            .iter()
            .map(|e| {
                e.thumbnail.as_ref().map(|img| {
                    self.ctx.load_texture(
                        format!("catalog-{}", e.id.0),
                        color_image(img),
                        egui::TextureOptions::LINEAR,
                    )
                })
            })
            .collect();
        self.catalog.entries = entries;
    }

    /// Opens or closes the export dialog.
    pub(super) fn show_export(&mut self, open: bool) {
        self.catalog.export.open = open;
    }

    /// Changes the export dialog's settings.
    pub(super) fn set_export_settings(&mut self, settings: ExportSettings) {
        self.catalog.export.settings = settings;
    }

    /// The job the dialog describes.
    fn export_job(&self) -> Result<ExportJob, String> {
        let settings = &self.catalog.export.settings;
        let products = if settings.all_products {
            ProductSelection::All
        } else {
            let open = self.session.as_ref().map(|s| s.product.id);
            ProductSelection::Ids(vec![open.ok_or("Open a product first (or choose all)")?])
        };
        let folder = settings.folder.trim();
        if folder.is_empty() {
            return Err("Choose an output folder".into());
        }
        Ok(ExportJob {
            products,
            sizes: settings.sizes()?,
            top_k: settings.top_k.max(1),
            out_dir: PathBuf::from(folder),
            format: OutputFormat::Png,
        })
    }

    /// Starts the export on the model worker.
    pub(super) fn start_export(&mut self) {
        if self.catalog.export.is_busy() {
            return;
        }
        let job = match self.export_job() {
            Ok(job) => job,
            Err(e) => return self.catalog.export.result = Some(Err(e)),
        };
        let id = self.submit_model("Exporting winners", move |studio, ctx| {
            export_winners(studio, ctx, &job)
                .map(|report| AppOutput::Exported(Box::new(report)))
                .map_err(anyhow::Error::from)
        });
        if let Some(id) = id {
            let export = &mut self.catalog.export;
            export.job = Some(id);
            export.progress = Some((0, 0, "starting".into()));
            export.result = None;
        }
    }

    /// Stops the export (files written so far are kept, each complete).
    pub(super) fn cancel_export(&mut self) {
        if let Some(id) = self.catalog.export.job {
            self.cancel_model_job(id);
        }
    }
}
