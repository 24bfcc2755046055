//! The Suggestions section of the tools panel: ask the prompt model for K
//! background descriptions, watch them stream in, edit them, use one as the
//! render prompt or regenerate one.

use crate::app::{Command, SuggestSettings, SuggestState};

use super::theme;

/// Draws the Suggestions section. `has_product` says whether a product is
/// open (its title and image feed the model).
pub fn suggestions_panel_ui(
    ui: &mut egui::Ui,
    state: &SuggestState,
    state_settings: &SuggestSettings,
    has_product: bool,
    commands: &mut Vec<Command>,
) {
    let running = state.is_running();
    let mut edited = *state_settings;
    let settings = &mut edited;
    ui.horizontal(|ui| {
        let suggest = ui
            .add_enabled(has_product && !running, egui::Button::new("Suggest"))
            .on_hover_text("Ask the prompt model for background descriptions of this product");
        if suggest.clicked() {
            commands.push(Command::Suggest);
        }
        if running {
            ui.spinner();
            if ui.button("Stop").clicked() {
                commands.push(Command::CancelSuggestions);
            }
        }
    });
    sampling_ui(ui, settings);
    if edited != *state_settings {
        commands.push(Command::SetSuggestSettings(edited));
    }
    if !has_product {
        ui.colored_label(theme::HINT_TEXT, "Open a product to get suggestions.");
    }
    entries_ui(ui, state, has_product, commands);
    theme::message_ui(ui, state.message.as_ref());
}

fn sampling_ui(ui: &mut egui::Ui, settings: &mut SuggestSettings) {
    egui::CollapsingHeader::new("Sampling")
        .id_salt("suggest-sampling")
        .show(ui, |ui| {
            egui::Grid::new("suggest-sampling-grid")
                .num_columns(2)
                .show(ui, |ui| {
                    ui.label("Suggestions");
                    ui.add(egui::DragValue::new(&mut settings.count).range(1..=12));
                    ui.end_row();
                    ui.label("Temperature");
                    ui.add(
                        egui::DragValue::new(&mut settings.temperature)
                            .range(0.0..=2.0)
                            .speed(0.01),
                    );
                    ui.end_row();
                    ui.label("Top-p");
                    ui.add(
                        egui::DragValue::new(&mut settings.top_p)
                            .range(0.05..=1.0)
                            .speed(0.01),
                    );
                    ui.end_row();
                    ui.label("Seed");
                    ui.add(egui::DragValue::new(&mut settings.seed));
                    ui.end_row();
                });
        });
}

fn entries_ui(
    ui: &mut egui::Ui,
    state: &SuggestState,
    has_product: bool,
    commands: &mut Vec<Command>,
) {
    let running = state.is_running();
    for (index, entry) in state.entries.iter().enumerate() {
        let label = ui
            .horizontal(|ui| {
                let label = ui.label(format!("Suggestion {}", index + 1));
                if entry.generating {
                    ui.spinner();
                }
                if ui
                    .add_enabled(
                        !running && !entry.text.trim().is_empty(),
                        egui::Button::new("Use"),
                    )
                    .on_hover_text("Use this text as the render prompt")
                    .clicked()
                {
                    commands.push(Command::UseSuggestion(index));
                }
                if ui
                    .add_enabled(!running && has_product, egui::Button::new("Again"))
                    .on_hover_text("Write this one again")
                    .clicked()
                {
                    commands.push(Command::RegenerateSuggestion(index));
                }
                label
            })
            .inner;
        let mut text = entry.text.clone();
        let edit = egui::TextEdit::multiline(&mut text)
            .desired_rows(2)
            .desired_width(f32::INFINITY)
            .interactive(!entry.generating)
            .id_salt(("suggestion-text", index));
        // Named by its label, for screen readers and UI tests.
        if ui.add(edit).labelled_by(label.id).changed() {
            commands.push(Command::EditSuggestion(index, text));
        }
    }
}
