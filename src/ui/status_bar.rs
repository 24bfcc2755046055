//! Status bar: each worker's running job with progress and cancel, and the
//! last message.

use crate::app::{Command, StatusState, WorkerStatus};

use super::theme;

/// Draws the status bar.
pub fn status_bar_ui(ui: &mut egui::Ui, status: &StatusState, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let studio = worker_ui(ui, &status.studio, "Cancel", Command::CancelJobs, commands);
        let models = worker_ui(
            ui,
            &status.models,
            "Cancel model jobs",
            Command::CancelModelJobs,
            commands,
        );
        if !studio && !models {
            ui.label("Ready");
        }
        if status.message.is_some() {
            ui.separator();
            theme::message_ui(ui, status.message.as_ref());
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(format!("Device: {}", status.device));
            ui.separator();
            ui.label(format!("Store: {}", status.store));
        });
    });
}

/// Draws one worker's job; returns whether one runs.
fn worker_ui(
    ui: &mut egui::Ui,
    status: &WorkerStatus,
    cancel_label: &str,
    cancel: Command,
    commands: &mut Vec<Command>,
) -> bool {
    let Some(label) = &status.running else {
        return false;
    };
    ui.spinner();
    ui.label(label);
    if let Some((done, total, step)) = &status.progress {
        let fraction = if *total == 0 {
            0.0
        } else {
            *done as f32 / *total as f32
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(160.0)
                .text(format!("{step} {done}/{total}")),
        );
    }
    if status.queued > 0 {
        ui.label(format!("+{} queued", status.queued));
    }
    if ui.button(cancel_label).clicked() {
        commands.push(cancel);
    }
    ui.separator();
    true
}
