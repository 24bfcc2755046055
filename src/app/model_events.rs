//! Routing of model-worker events: the status bar for every model job,
//! gallery tiles for render jobs, and each [`ModelOutput`] to its handler.
//! (New model job kinds add their output's arm in `handle_model_output`.)

use crate::jobs::{JobEvent, JobId};

use super::gallery::TileState;
use super::models::ModelOutput;
use super::StudioApp;

impl StudioApp {
    /// Takes every waiting model-worker event.
    pub(super) fn drain_model_events(&mut self) {
        while let Some(event) = self.model_worker.try_event() {
            self.handle_model_event(event);
        }
        self.status.models.queued = self.model_worker.outstanding().len().saturating_sub(1);
    }

    fn handle_model_event(&mut self, event: JobEvent<ModelOutput>) {
        self.route_tool_event(&event);
        let id = event.id();
        let terminal = event.is_terminal();
        match event {
            JobEvent::Started { label, .. } => {
                self.status.models.running = Some(label);
                self.status.models.progress = None;
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Rendering {
                        step: 0,
                        total: 0,
                        label: "starting".into(),
                        preview: None,
                    };
                }
            }
            JobEvent::Progress {
                done, total, label, ..
            } => {
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    if let TileState::Rendering {
                        step,
                        total: t,
                        label: l,
                        ..
                    } = &mut tile.state
                    {
                        (*step, *t, *l) = (done, total, label.clone());
                    }
                }
                self.status.models.progress = Some((done, total, label));
            }
            JobEvent::Preview { image, .. } => {
                let ctx = self.ctx.clone();
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    if let TileState::Rendering { preview, .. } = &mut tile.state {
                        let texture = ctx.load_texture(
                            format!("preview-{}", id.0),
                            super::tasks::to_color_image(&image),
                            egui::TextureOptions::NEAREST,
                        );
                        *preview = Some(texture);
                    }
                }
            }
            JobEvent::Token { .. } => {}
            JobEvent::Done { output, .. } => self.handle_model_output(id, output),
            JobEvent::Failed { error, .. } => {
                log::warn!("model {id} failed: {error}");
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Failed(error.clone());
                }
                self.status.message = Some((error, true));
            }
            JobEvent::Cancelled { .. } => {
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Cancelled;
                }
                self.status.message = Some(("Cancelled".into(), false));
            }
        }
        if terminal {
            if let Some(tile) = self.gallery.tile_for_job(id) {
                tile.job = None;
            }
            self.status.models.running = None;
            self.status.models.progress = None;
        }
    }

    fn handle_model_output(&mut self, id: JobId, output: ModelOutput) {
        match output {
            ModelOutput::Diffusion(found) => self.diffusion = found,
            ModelOutput::Rendered(variant) => self.show_rendered(id, *variant),
            ModelOutput::Suggested(outcome) => {
                self.suggest.on_done(id, outcome);
            }
            ModelOutput::Scored(found) => self.show_scores(id, found),
            ModelOutput::Trained(outcome) => {
                self.training.finish(id, Some(Ok(outcome)));
            }
        }
    }
}
