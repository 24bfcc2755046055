//! The Adapters section of the suggestions: the stored PCPO adapters (name,
//! base model, created, last validation accuracy), one of which, or none,
//! is applied to the prompt model when it writes suggestions.

use crate::app::{AdaptersState, Command};

use super::theme;

/// The label of the "no adapter" choice.
pub const NO_ADAPTER: &str = "None (base model)";

/// Draws the Adapters section; `active` is the chosen adapter's name.
pub fn adapters_section_ui(
    ui: &mut egui::Ui,
    state: &AdaptersState,
    active: Option<&str>,
    commands: &mut Vec<Command>,
) {
    egui::CollapsingHeader::new("Adapters")
        .id_salt("suggest-adapters")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label("Prompt model adapter");
                if state.job.is_some() {
                    ui.spinner();
                }
                if ui
                    .add_enabled(state.job.is_none(), egui::Button::new("Refresh"))
                    .on_hover_text("List the stored adapters again")
                    .clicked()
                {
                    commands.push(Command::RefreshAdapters);
                }
            });
            if ui.radio(active.is_none(), NO_ADAPTER).clicked() && active.is_some() {
                commands.push(Command::SelectAdapter(None));
            }
            for adapter in &state.listed {
                let chosen = active == Some(adapter.name.as_str());
                if ui.radio(chosen, adapter.name.as_str()).clicked() && !chosen {
                    commands.push(Command::SelectAdapter(Some(adapter.name.clone())));
                }
                ui.indent(("adapter-details", adapter.id.0), |ui| {
                    ui.label(egui::RichText::new(adapter.details()).small());
                });
            }
            notes_ui(ui, state, active);
            if ui
                .button("Online PCPO…")
                .on_hover_text("Train an adapter in online rounds: suggest, render, reward-model pick, one epoch")
                .clicked()
            {
                commands.push(Command::ShowOnline(true));
            }
        });
}

/// Hints and errors under the list.
fn notes_ui(ui: &mut egui::Ui, state: &AdaptersState, active: Option<&str>) {
    if let Some(error) = &state.error {
        ui.colored_label(theme::ERROR_TEXT, error);
    }
    if !state.loaded {
        return;
    }
    if state.listed.is_empty() {
        ui.colored_label(
            theme::HINT_TEXT,
            "No adapters yet: train one with `adstudio pcpo train`.",
        );
    }
    if let Some(name) = active.filter(|n| state.named(n).is_none()) {
        ui.colored_label(
            theme::ERROR_TEXT,
            format!("The active adapter {name:?} is not in the store"),
        );
    }
}
