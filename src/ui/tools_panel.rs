//! The right-hand tools panel: one collapsible section per tool (Render
//! first; suggestions and scoring add their sections here).

use crate::app::{Command, DiffusionAvailability, RenderPrefs};

use super::render_panel::render_panel_ui;

/// What the tools panel reads and edits.
pub struct ToolsPanel<'a> {
    /// The render parameters (persisted).
    pub render: &'a mut RenderPrefs,
    /// Why rendering is not possible now, if it is not.
    pub blocker: Option<String>,
    /// Whether the diffusion models were found.
    pub diffusion: &'a DiffusionAvailability,
    /// Commands for the app.
    pub commands: &'a mut Vec<Command>,
}

/// Draws the tools panel.
pub fn tools_panel_ui(ui: &mut egui::Ui, panel: &mut ToolsPanel<'_>) {
    egui::CollapsingHeader::new("Render")
        .default_open(true)
        .show(ui, |ui| {
            render_panel_ui(
                ui,
                panel.render,
                panel.blocker.as_deref(),
                panel.diffusion,
                panel.commands,
            );
        });
}
