//! The right-hand tools panel: one collapsible section per tool (Render
//! first; suggestions and scoring add their sections here).

use crate::app::{
    AdaptersState, Command, DiffusionAvailability, RenderParams, SuggestSettings, SuggestState,
};

use super::adapters_section::adapters_section_ui;
use super::render_panel::{render_panel_ui, Blockers};
use super::scores_panel::{scores_panel_ui, ScoresView};
use super::suggestions_panel::suggestions_panel_ui;

/// What the tools panel reads.
pub struct ToolsPanel<'a> {
    /// The render parameters (persisted).
    pub render: &'a RenderParams,
    /// Why rendering is not possible now, if it is not.
    pub blocker: Option<String>,
    /// Why a draft is not possible now, if it is not.
    pub draft_blocker: Option<String>,
    /// Whether the diffusion models were found.
    pub diffusion: &'a DiffusionAvailability,
    /// The suggestions list.
    pub suggest: &'a SuggestState,
    /// The Suggest button's sampling settings (persisted).
    pub suggest_settings: &'a SuggestSettings,
    /// Whether a product is open.
    pub has_product: bool,
    /// The stored adapters.
    pub adapters: &'a AdaptersState,
    /// The active adapter's name (persisted).
    pub active_adapter: Option<&'a str>,
    /// The Scores section.
    pub scores: ScoresView<'a>,
    /// Commands for the app.
    pub commands: &'a mut Vec<Command>,
}

/// Draws the tools panel.
pub fn tools_panel_ui(ui: &mut egui::Ui, panel: &mut ToolsPanel<'_>) {
    egui::CollapsingHeader::new("Suggestions")
        .default_open(true)
        .show(ui, |ui| {
            adapters_section_ui(ui, panel.adapters, panel.active_adapter, panel.commands);
            suggestions_panel_ui(
                ui,
                panel.suggest,
                panel.suggest_settings,
                panel.has_product,
                panel.commands,
            );
        });
    egui::CollapsingHeader::new("Render")
        .default_open(true)
        .show(ui, |ui| {
            render_panel_ui(
                ui,
                panel.render,
                Blockers {
                    render: panel.blocker.as_deref(),
                    draft: panel.draft_blocker.as_deref(),
                },
                panel.diffusion,
                panel.commands,
            );
        });
    egui::CollapsingHeader::new("Scores")
        .default_open(true)
        .show(ui, |ui| scores_panel_ui(ui, &panel.scores, panel.commands));
}
