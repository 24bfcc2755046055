//! Routing of job events: the status bar for every job, typed progress to
//! the tool that owns the job (gallery tiles, suggestions, the training
//! plot) and each output to its handler.

use crate::jobs::{JobEvent, JobId};
use crate::studio::{Progress, RenderStep, SuggestProgress};

use super::gallery::TileState;
use super::output::AppOutput;
use super::status::WorkerStatus;
use super::studio_app::StudioApp;
use super::views::color_image;

type Event = JobEvent<AppOutput, Progress>;

impl StudioApp {
    pub(super) fn drain_events(&mut self) {
        while let Some(event) = self.worker.try_event() {
            self.handle_event(event, false);
        }
        self.status.studio.queued = self.worker.outstanding().len().saturating_sub(1);
    }

    pub(super) fn drain_model_events(&mut self) {
        while let Some(event) = self.model_worker.try_event() {
            self.handle_event(event, true);
        }
        self.status.models.queued = self.model_worker.outstanding().len().saturating_sub(1);
    }

    fn worker_status(&mut self, model: bool) -> &mut WorkerStatus {
        if model {
            &mut self.status.models
        } else {
            &mut self.status.studio
        }
    }

    fn handle_event(&mut self, event: Event, model: bool) {
        let id = event.id();
        let terminal = event.is_terminal();
        match event {
            JobEvent::Started { label, .. } => {
                let status = self.worker_status(model);
                status.running = Some(label);
                status.progress = None;
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Rendering {
                        step: 0,
                        total: 0,
                        label: "starting".into(),
                        preview: None,
                    };
                }
            }
            JobEvent::Progress { progress, .. } => self.on_progress(id, progress, model),
            JobEvent::Done { output, .. } => self.handle_output(id, output),
            JobEvent::Failed { error, .. } => {
                log::warn!("{id} failed: {error}");
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Failed(error.clone());
                }
                self.end_tool_job(id, Some(&error));
                self.status.message = Some((error, true));
            }
            JobEvent::Cancelled { .. } => {
                if let Some(tile) = self.gallery.tile_for_job(id) {
                    tile.state = TileState::Cancelled;
                }
                self.end_tool_job(id, None);
                self.status.message = Some(("Cancelled".into(), false));
            }
        }
        if terminal {
            self.job_ended(id, model);
        }
    }

    fn job_ended(&mut self, id: JobId, model: bool) {
        if let Some(tile) = self.gallery.tile_for_job(id) {
            tile.job = None;
        }
        let status = self.worker_status(model);
        status.running = None;
        status.progress = None;
        if self.mask_job == Some(id) {
            self.mask_job = None;
            if self.mask_rebuild_pending {
                self.request_mask_rebuild();
            }
        }
    }

    fn on_progress(&mut self, id: JobId, progress: Progress, model: bool) {
        let line = match progress {
            Progress::Steps(s) => {
                self.catalog
                    .export
                    .on_progress(id, s.done, s.total, &s.label);
                Some((s.done, s.total, s.label))
            }
            Progress::Render(step) => {
                let line = (step.step as u64, step.total as u64, render_label(&step));
                self.on_render_step(id, step);
                Some(line)
            }
            Progress::Suggest(p) => self.on_suggest_progress(id, p),
            Progress::Epoch(report) => {
                let accuracy = report
                    .val_accuracy
                    .map_or_else(String::new, |a| format!(", val {:.1}%", 100.0 * a));
                let line = (
                    report.epoch as u64,
                    report.epochs as u64,
                    format!("epoch {}: loss {:.3}{accuracy}", report.epoch, report.loss),
                );
                self.training.on_epoch(id, report);
                Some(line)
            }
            Progress::Online(p) => self.on_online_progress(id, p),
        };
        if let Some((done, total, label)) = line {
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
            self.worker_status(model).progress = Some((done, total, label));
        }
    }

    fn on_render_step(&mut self, id: JobId, step: RenderStep) {
        let Some(image) = step.preview else {
            return;
        };
        let ctx = self.ctx.clone();
        if let Some(tile) = self.gallery.tile_for_job(id) {
            if let TileState::Rendering { preview, .. } = &mut tile.state {
                *preview = Some(ctx.load_texture(
                    format!("preview-{}", id.0),
                    color_image(&image),
                    egui::TextureOptions::NEAREST,
                ));
            }
        }
    }

    /// Suggestion progress goes to the list; the status bar counts the
    /// screened candidates of the job so far.
    fn on_suggest_progress(
        &mut self,
        id: JobId,
        progress: SuggestProgress,
    ) -> Option<(u64, u64, String)> {
        let count = self.suggest.running_count(id)?;
        let screened = |s: &super::SuggestState| {
            (
                s.drafts.iter().filter(|d| d.screened).count() as u64,
                s.drafts.len() as u64,
            )
        };
        match progress {
            SuggestProgress::Loading => Some((0, count as u64, "loading the prompt model".into())),
            SuggestProgress::Round {
                round,
                first,
                candidates,
            } => {
                self.suggest.on_round(id, first, candidates);
                let (done, total) = screened(&self.suggest);
                let label = if round == 0 {
                    format!("writing {candidates} candidates")
                } else {
                    format!("writing {candidates} more")
                };
                Some((done, total, label))
            }
            SuggestProgress::Token { candidate, text } => {
                self.suggest.on_token(id, candidate, &text);
                None
            }
            SuggestProgress::Screened {
                candidate,
                text,
                rejected,
            } => {
                self.suggest
                    .on_screened(id, candidate, &text, rejected.as_deref());
                let (done, total) = screened(&self.suggest);
                Some((done, total, "screening".into()))
            }
            SuggestProgress::Ranking { passed } => {
                let (done, total) = screened(&self.suggest);
                Some((done, total, format!("ranking {passed}")))
            }
        }
    }

    fn handle_output(&mut self, id: JobId, output: AppOutput) {
        match output {
            AppOutput::Opened(product, mask) => self.show_opened(*product, *mask),
            AppOutput::MaskRebuilt(mask) => self.show_mask(*mask),
            AppOutput::Products(rows) => self.products = rows,
            AppOutput::Saved => {}
            AppOutput::Gallery(load) => self.show_gallery(*load),
            AppOutput::DroppedRender(variant) => self.show_dropped(*variant),
            AppOutput::Models(status) => self.show_models(&status),
            AppOutput::Rendered(variant) => self.show_rendered(id, *variant),
            AppOutput::Adapters(listed) => self.show_adapters(id, listed),
            AppOutput::Suggested(outcome) => {
                self.suggest.on_done(id, outcome);
            }
            AppOutput::Scored(found) => self.show_scores(id, found),
            AppOutput::Trained(outcome) => {
                self.training.finish(id, Some(Ok(outcome)));
            }
            AppOutput::OnlineEstimate(estimate) => self.online.estimated(id, *estimate),
            AppOutput::Online(outcome) => self.show_online(id, &outcome),
            AppOutput::Catalog(entries) => self.show_catalog_entries(id, entries),
            AppOutput::Exported(report) => self.catalog.export.finished(id, *report),
            AppOutput::Queue(result) => self.show_queue_read(id, result),
            AppOutput::QueueChanged(action, result) => {
                self.show_queue_changed(id, action, result);
            }
        }
    }
}

fn render_label(step: &RenderStep) -> String {
    format!("variant {}/{}", step.variant + 1, step.n_variants)
}
