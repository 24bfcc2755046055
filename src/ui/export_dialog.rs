//! The Export winners dialog: the open product or all, the size presets
//! (checkboxes) and custom sizes, top-k and the output folder; Start /
//! Cancel with a progress bar; the written files and skip notes after.

use crate::app::{Command, ExportSettings, ExportSize, ExportState};

use super::theme;

/// Draws the dialog (when open).
pub fn export_dialog_ui(
    ctx: &egui::Context,
    state: &ExportState,
    open_product: Option<&str>,
    commands: &mut Vec<Command>,
) {
    let mut open = state.open;
    let mut edited = state.settings.clone();
    egui::Window::new("Export winners")
        .open(&mut open)
        .default_width(420.0)
        .show(ctx, |ui| {
            ui.add_enabled_ui(!state.is_busy(), |ui| {
                settings_ui(ui, &mut edited, open_product);
            });
            controls_ui(ui, state, commands);
            result_ui(ui, state);
        });
    if edited != state.settings {
        commands.push(Command::SetExportSettings(edited));
    }
    if open != state.open {
        commands.push(Command::ShowExport(open));
    }
}

fn settings_ui(ui: &mut egui::Ui, settings: &mut ExportSettings, open_product: Option<&str>) {
    let open = open_product.map_or_else(
        || "Open product (none open)".to_string(),
        |t| format!("Open product ({t})"),
    );
    ui.radio_value(&mut settings.all_products, false, open);
    ui.radio_value(&mut settings.all_products, true, "All products");
    ui.separator();
    ui.label("Sizes (renders of the size's aspect are used; marketplace is the product on white):");
    for preset in ExportSize::presets() {
        let mut on = settings.presets.contains(&preset.name);
        if ui.checkbox(&mut on, &preset.label).changed() {
            if on {
                settings.presets.push(preset.name.clone());
            } else {
                settings.presets.retain(|n| *n != preset.name);
            }
        }
    }
    egui::Grid::new("export-settings")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Custom sizes");
            ui.add(egui::TextEdit::singleline(&mut settings.custom).hint_text("e.g. 1600x900"));
            ui.end_row();
            ui.label("Winners per size");
            ui.add(egui::DragValue::new(&mut settings.top_k).range(1..=20));
            ui.end_row();
            ui.label("Folder");
            ui.add(egui::TextEdit::singleline(&mut settings.folder).desired_width(260.0));
            ui.end_row();
        });
}

fn controls_ui(ui: &mut egui::Ui, state: &ExportState, commands: &mut Vec<Command>) {
    ui.separator();
    ui.horizontal(|ui| {
        if state.is_busy() {
            if ui.button("Cancel export").clicked() {
                commands.push(Command::CancelExport);
            }
            if let Some((done, total, label)) = &state.progress {
                let fraction = if *total == 0 {
                    0.0
                } else {
                    *done as f32 / *total as f32
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(240.0)
                        .text(format!("{done}/{total} {label}")),
                );
            }
        } else if ui.button("Export").clicked() {
            commands.push(Command::StartExport);
        }
    });
}

fn result_ui(ui: &mut egui::Ui, state: &ExportState) {
    match &state.result {
        Some(Ok(report)) => {
            let folder = report
                .files
                .first()
                .and_then(|f| f.path.parent())
                .and_then(|p| p.parent())
                .map_or_else(String::new, |p| p.display().to_string());
            ui.label(format!("{} files written to {folder}", report.files.len()));
            egui::ScrollArea::vertical()
                .max_height(160.0)
                .show(ui, |ui| {
                    for file in &report.files {
                        ui.label(file.path.display().to_string());
                    }
                    for note in &report.skipped {
                        ui.colored_label(theme::HINT_TEXT, format!("skipped: {note}"));
                    }
                });
        }
        Some(Err(error)) => {
            ui.colored_label(theme::ERROR_TEXT, error);
        }
        None => {}
    }
}
