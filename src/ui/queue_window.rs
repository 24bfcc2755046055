//! The Queue window: the team's job queue in the shared PostgreSQL store
//! (counts, busy workers, the jobs with their state, attempts, worker and
//! error), read every few seconds; Cancel and Retry per job.

use crate::app::{Command, JobState, QueueJobView, QueueSnapshot, QueueState, QUEUE_REFRESH_SECS};

use super::theme;

/// Draws the Queue window (when open).
pub fn queue_window_ui(ctx: &egui::Context, state: &QueueState, commands: &mut Vec<Command>) {
    let mut open = state.open;
    egui::Window::new("Job queue")
        .open(&mut open)
        .default_width(720.0)
        .default_height(420.0)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                match &state.snapshot {
                    Some(s) => ui.label(counts_text(s)),
                    None => ui.label("Reading the queue…"),
                };
                if state.job.is_some() {
                    ui.spinner();
                } else if ui
                    .button("Refresh")
                    .on_hover_text(format!(
                        "Read the queue now (it is read every {QUEUE_REFRESH_SECS:.0} s)"
                    ))
                    .clicked()
                {
                    commands.push(Command::RefreshQueue);
                }
            });
            if let Some(error) = &state.error {
                let stale = if state.snapshot.is_some() {
                    " The list below is from the last successful read."
                } else {
                    ""
                };
                let text = if state.shared_store {
                    format!("{error}.{stale} Trying again every {QUEUE_REFRESH_SECS:.0} s.")
                } else {
                    format!("{error}.")
                };
                theme::message_ui(ui, Some(&(text, true)));
            }
            theme::message_ui(ui, state.message.as_ref());
            if let Some(snapshot) = &state.snapshot {
                snapshot_ui(ui, snapshot, commands);
            }
        });
    if open != state.open {
        commands.push(Command::ShowQueue(open));
    }
}

fn counts_text(s: &QueueSnapshot) -> String {
    let c = &s.counts;
    format!(
        "{} queued · {} running · {} done · {} failed · {} cancelled",
        c.queued, c.running, c.done, c.failed, c.cancelled
    )
}

fn snapshot_ui(ui: &mut egui::Ui, s: &QueueSnapshot, commands: &mut Vec<Command>) {
    let workers = if s.busy_workers.is_empty() {
        "no worker busy".to_string()
    } else {
        format!("busy: {}", s.busy_workers.join(", "))
    };
    ui.weak(format!("{} · {workers}", s.url));
    ui.separator();
    if s.jobs.is_empty() {
        ui.label(
            "No jobs. Queue a catalog with `adstudio batch CATALOG --out DIR --queue`; \
             `adstudio worker` processes take them.",
        );
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("queue-table")
            .num_columns(9)
            .striped(true)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for header in [
                    "Job", "State", "Product", "Prio", "Try", "Worker", "Since", "", "Note",
                ] {
                    ui.strong(header);
                }
                ui.end_row();
                for job in &s.jobs {
                    job_row_ui(ui, job, commands);
                    ui.end_row();
                }
            });
        if s.unlisted() > 0 {
            ui.weak(format!(
                "… and {} older jobs (`adstudio jobs list`)",
                s.unlisted()
            ));
        }
    });
}

fn job_row_ui(ui: &mut egui::Ui, job: &QueueJobView, commands: &mut Vec<Command>) {
    ui.label(job.id.to_string());
    ui.label(job.state.as_str());
    ui.label(&job.what);
    ui.label(job.priority.to_string());
    ui.label(format!("{}/{}", job.attempts.0, job.attempts.1));
    ui.label(job.worker.as_deref().unwrap_or("—"));
    ui.label(job.since_secs.map_or("—".into(), |s| format!("{s} s")));
    if job.cancellable() {
        if ui
            .button(format!("Cancel #{}", job.id))
            .on_hover_text("A running job stops at its worker's next heartbeat")
            .clicked()
        {
            commands.push(Command::CancelQueuedJob(job.id));
        }
    } else if job.retriable() {
        if ui.button(format!("Retry #{}", job.id)).clicked() {
            commands.push(Command::RetryQueuedJob(job.id));
        }
    } else {
        ui.label("");
    }
    // The last error: why a job failed, or why a worker gave it back.
    match &job.error {
        Some(error) => {
            let color = if job.state == JobState::Failed {
                theme::ERROR_TEXT
            } else {
                theme::HINT_TEXT
            };
            ui.colored_label(color, short(error, NOTE_CHARS))
                .on_hover_text(error);
        }
        None => {
            ui.label("");
        }
    }
}

/// Characters of a job's error shown in its row (all of it on hover).
const NOTE_CHARS: usize = 60;

/// `text` cut to `n` characters, with an ellipsis when cut.
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_string();
    }
    let cut: String = text.chars().take(n).collect();
    format!("{cut}…")
}
