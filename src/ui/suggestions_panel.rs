//! The Suggestions section of the tools panel: ask the prompt model for K
//! background descriptions, watch the candidates being written and
//! screened, edit the picked ones (each with its relevance, or marked when
//! it is a best rejected one), use one as the render prompt or regenerate
//! one, and look at every candidate of the last job with its verdict.

use crate::app::{Command, SuggestSettings, SuggestState, SuggestionEntry};

use super::theme;

/// Space right of the relevance labels (the panel's scroll bar floats
/// over its content).
const RIGHT_MARGIN: f32 = 12.0;
/// Height of the drafts' and the candidates' scroll areas.
const LIST_HEIGHT: f32 = 220.0;

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
    let missing_model = state
        .message
        .as_ref()
        .is_some_and(|(m, error)| *error && m.contains("no prompt-model model"));
    if missing_model
        && ui
            .button("Get the prompt model…")
            .on_hover_text("Open the model manager with the prompt model picked")
            .clicked()
    {
        commands.push(Command::OfferFetch(crate::app::ModelRole::PromptModel));
    }
    if running {
        drafts_ui(ui, state);
    } else {
        candidates_ui(ui, state);
    }
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
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    // Clear of the panel's floating scroll bar.
                    ui.add_space(RIGHT_MARGIN);
                    relevance_ui(ui, entry);
                    if let Some(adapter) = &entry.adapter {
                        ui.label(
                            egui::RichText::new(format!("adapter: {adapter}"))
                                .small()
                                .color(theme::HINT_TEXT),
                        )
                        .on_hover_text("Written by the prompt model with this PCPO adapter");
                    }
                });
                label
            })
            .inner;
        if let Some(reason) = &entry.rejected {
            ui.colored_label(theme::ERROR_TEXT, format!("rejected: {reason}"))
                .on_hover_text(
                    "No candidate passed the rules; this is one of the best rejected ones",
                );
        }
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

/// The entry's relevance, tinted by whether it matches the product.
fn relevance_ui(ui: &mut egui::Ui, entry: &SuggestionEntry) {
    let (Some(relevance), Some(matches)) = (entry.relevance, entry.matches()) else {
        return;
    };
    ui.label(relevance_text(relevance, matches))
        .on_hover_text(format!(
            "Relevance to the product (sentence-embedding cosine); {:.2} or more matches",
            SuggestState::match_threshold()
        ));
}

fn relevance_text(relevance: f32, matches: bool) -> egui::RichText {
    let color = if matches {
        theme::MATCH_TEXT
    } else {
        theme::LOW_MATCH_TEXT
    };
    egui::RichText::new(format!("{relevance:.2}"))
        .small()
        .monospace()
        .color(color)
}

/// The candidates the running job is writing, each line live, marked once
/// screened.
fn drafts_ui(ui: &mut egui::Ui, state: &SuggestState) {
    if state.drafts.is_empty() {
        return;
    }
    ui.label("Candidates being written");
    egui::ScrollArea::vertical()
        .id_salt("suggest-drafts")
        .max_height(LIST_HEIGHT)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for draft in &state.drafts {
                let color = match (draft.screened, &draft.rejected) {
                    (false, _) => theme::HINT_TEXT,
                    (true, None) => theme::MATCH_TEXT,
                    (true, Some(_)) => theme::ERROR_TEXT,
                };
                let line = draft.line();
                let line = if line.is_empty() { "…".into() } else { line };
                ui.add(egui::Label::new(egui::RichText::new(line).small().color(color)).wrap());
            }
        });
}

/// The last job's candidates, collapsed under their pass / reject counts:
/// the counts per reason and every candidate with its verdict and
/// relevance.
fn candidates_ui(ui: &mut egui::Ui, state: &SuggestState) {
    let Some(summary) = state.candidates_summary() else {
        return;
    };
    egui::CollapsingHeader::new(summary)
        .id_salt("suggest-candidates")
        .show(ui, |ui| {
            for (reason, count) in &state.rejected_counts {
                ui.colored_label(theme::ERROR_TEXT, format!("{reason}: {count}"));
            }
            egui::ScrollArea::vertical()
                .id_salt("suggest-candidates-list")
                .max_height(LIST_HEIGHT)
                .show(ui, |ui| {
                    for candidate in &state.candidates {
                        ui.horizontal(|ui| {
                            let color = match &candidate.rejected {
                                None => theme::MATCH_TEXT,
                                Some(_) => theme::ERROR_TEXT,
                            };
                            ui.colored_label(color, candidate.mark());
                            if let (Some(r), Some(m)) = (candidate.relevance, candidate.matches()) {
                                ui.label(relevance_text(r, m));
                            }
                            let text = if candidate.text.trim().is_empty() {
                                "(empty)"
                            } else {
                                &candidate.text
                            };
                            let text = match &candidate.rejected {
                                None => text.to_string(),
                                Some(reason) => format!("{text} [{reason}]"),
                            };
                            ui.add(egui::Label::new(egui::RichText::new(text).small()).wrap());
                        });
                    }
                });
        });
}
