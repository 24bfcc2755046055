//! The Queue window's commands: read the team queue on the studio worker
//! every few seconds while the window is open, cancel and retry jobs
//! (the core's [`read_queue`] and [`apply_queue_action`]). A read that
//! fails (server lost) is shown in the window and tried again at the next
//! refresh; it never fails the studio's job list.

use crate::jobs::JobId;
use crate::studio::queue_view::{apply_queue_action, read_queue, QueueAction};

use super::output::AppOutput;
use super::studio_app::StudioApp;

impl StudioApp {
    /// Opens (and reads) or closes the Queue window.
    pub(super) fn show_queue(&mut self, open: bool) {
        self.queue.open = open;
        if open {
            self.refresh_queue();
        }
    }

    /// Reads the queue now, unless a read or action is running.
    pub(super) fn refresh_queue(&mut self) {
        if self.queue.job.is_some() {
            return;
        }
        self.queue.job = self.submit("Reading the job queue", |studio, _ctx| {
            let location = studio.store.location().clone();
            Ok(AppOutput::Queue(
                read_queue(&location).map_err(|e| e.to_string()),
            ))
        });
    }

    /// Refreshes the open window when its interval has passed (called
    /// every frame, outside drawing).
    pub(super) fn tick_queue(&mut self) {
        let now = self.ctx.input(|i| i.time);
        if self.queue.due(now) {
            self.refresh_queue();
        }
        if self.queue.open {
            // Keep frames coming so the next refresh happens without input.
            self.ctx
                .request_repaint_after(std::time::Duration::from_millis(500));
        }
    }

    /// Cancels or retries a job, then reads the queue again.
    pub(super) fn queue_action(&mut self, action: QueueAction) {
        if self.queue.job.is_some() {
            self.queue.message = Some(("The queue is being read; try again".into(), true));
            return;
        }
        self.queue.job = self.submit("Changing a queued job", move |studio, _ctx| {
            let location = studio.store.location().clone();
            let result = apply_queue_action(&location, action).map_err(|e| e.to_string());
            Ok(AppOutput::QueueChanged(action, result))
        });
    }

    /// A read finished.
    pub(super) fn show_queue_read(
        &mut self,
        id: JobId,
        result: Result<crate::studio::queue_view::QueueSnapshot, String>,
    ) {
        let now = self.ctx.input(|i| i.time);
        self.queue.read(id, result, now);
    }

    /// A cancel or retry finished: say how, and read the queue again.
    pub(super) fn show_queue_changed(
        &mut self,
        id: JobId,
        action: QueueAction,
        result: Result<bool, String>,
    ) {
        if self.queue.job == Some(id) {
            self.queue.job = None;
        }
        self.queue.message = Some(match (action, result) {
            (QueueAction::Cancel(job), Ok(true)) => (format!("Job {job} cancelled"), false),
            (QueueAction::Cancel(job), Ok(false)) => (
                format!("Job {job} had already ended; nothing cancelled"),
                true,
            ),
            (QueueAction::Retry(job), Ok(true)) => (format!("Job {job} queued again"), false),
            (QueueAction::Retry(job), Ok(false)) => (
                format!("Job {job} is not failed or cancelled; nothing to retry"),
                true,
            ),
            (_, Err(e)) => (e, true),
        });
        self.refresh_queue();
    }
}
