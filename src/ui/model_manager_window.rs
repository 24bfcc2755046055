//! The model manager window: each manifest model with its role's state,
//! size and licence; pick, accept licences, download with progress and
//! cancel (the download runs on the app's download thread); the device
//! and store settings. On first start it opens with the recommended set picked and
//! its total size.

use crate::app::{human_size, Command, DevicePreference, ManifestEntry, ModelManagerState};

use super::theme;

/// Draws the window while it is open; `device` and `store` are the
/// settings.
pub fn model_manager_window_ui(
    ctx: &egui::Context,
    state: &ModelManagerState,
    (device, store): (DevicePreference, &str),
    commands: &mut Vec<Command>,
) {
    if !state.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Models")
        .open(&mut open)
        .default_size([760.0, 620.0])
        .default_pos([200.0, 80.0])
        .vscroll(true)
        .show(ctx, |ui| {
            if state.first_run {
                ui.label(
                    "Welcome. adstudio needs model weights from the Hugging Face hub; the \
                     recommended set is picked below. Download it now, or later from Models….",
                );
                ui.separator();
            }
            // The download row first: its progress and Cancel stay in
            // view above a long list.
            download_ui(ui, state, commands);
            theme::message_ui(ui, state.message.as_ref());
            ui.separator();
            match &state.manifest {
                Some(Err(e)) => {
                    ui.colored_label(theme::ERROR_TEXT, e);
                }
                _ => entries_ui(ui, state, commands),
            }
            ui.separator();
            device_ui(ui, device, commands);
            store_ui(ui, state, store, commands);
        });
    if !open {
        commands.push(Command::ShowModelManager(false));
    }
}

fn entries_ui(ui: &mut egui::Ui, state: &ModelManagerState, commands: &mut Vec<Command>) {
    egui::Grid::new("model-manager-grid")
        .num_columns(6)
        .striped(true)
        .show(ui, |ui| {
            for header in ["", "model", "role", "size", "licence", "state"] {
                ui.strong(header);
            }
            ui.end_row();
            for entry in state.entries() {
                entry_row_ui(ui, state, entry, commands);
                ui.end_row();
            }
        });
}

fn entry_row_ui(
    ui: &mut egui::Ui,
    state: &ModelManagerState,
    entry: &ManifestEntry,
    commands: &mut Vec<Command>,
) {
    let mut picked = state.selected.contains(&entry.name);
    let enabled = entry.repo.is_some() && state.download.is_none();
    if ui
        .add_enabled(enabled, egui::Checkbox::without_text(&mut picked))
        .on_hover_text(format!("Download {}", entry.name))
        .changed()
    {
        commands.push(Command::ToggleModel(entry.name.clone()));
    }
    ui.label(&entry.name).on_hover_text(&entry.description);
    ui.label(entry.role.name());
    ui.label(human_size(entry.approx_size()));
    licence_ui(ui, state, entry, commands);
    let text = match (state.role_found(entry.role), &entry.hint) {
        (Some(true), _) => "role filled".to_string(),
        (_, Some(hint)) => format!("missing ({hint})"),
        _ => "missing".to_string(),
    };
    ui.label(text);
}

fn licence_ui(
    ui: &mut egui::Ui,
    state: &ModelManagerState,
    entry: &ManifestEntry,
    commands: &mut Vec<Command>,
) {
    if !entry.licence_restricted() {
        ui.label(&entry.licence);
        return;
    }
    let mut accepted = state.accepted.contains(&entry.name);
    let label = format!("{} (accept)", entry.licence);
    if ui
        .checkbox(&mut accepted, label)
        .on_hover_text("This licence restricts use: read it on the model card before accepting")
        .changed()
    {
        commands.push(Command::AcceptLicence(entry.name.clone(), accepted));
    }
}

fn download_ui(ui: &mut egui::Ui, state: &ModelManagerState, commands: &mut Vec<Command>) {
    match &state.download {
        Some(d) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("{}: {}", d.entry, d.file));
                ui.add(
                    egui::ProgressBar::new(d.fraction())
                        .desired_width(220.0)
                        .text(format!("{} / {}", human_size(d.done), human_size(d.total))),
                );
                if ui.button("Cancel download").clicked() {
                    commands.push(Command::CancelFetch);
                }
            });
        }
        None => {
            let picked = state.selected.len();
            let total = human_size(state.selected_size());
            ui.horizontal(|ui| {
                ui.label(format!("{picked} picked, {total} in total"));
                let button = egui::Button::new(format!("Download ({total})"));
                if ui.add_enabled(picked > 0, button).clicked() {
                    commands.push(Command::FetchModels);
                }
            });
            for e in state.unaccepted() {
                ui.colored_label(
                    theme::HINT_TEXT,
                    format!(
                        "{}: accept the {} licence to download it",
                        e.name, e.licence
                    ),
                );
            }
        }
    }
}

fn device_ui(ui: &mut egui::Ui, device: DevicePreference, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let choices = [
            DevicePreference::Auto,
            DevicePreference::Cpu,
            DevicePreference::Cuda(0),
            DevicePreference::Metal(0),
        ];
        egui::ComboBox::from_label("Compute device (from the next start)")
            .selected_text(device.label())
            .show_ui(ui, |ui| {
                for choice in choices {
                    if ui
                        .selectable_label(choice == device, choice.label())
                        .clicked()
                        && choice != device
                    {
                        commands.push(Command::SetDevice(choice));
                    }
                }
            });
    });
}

/// The store setting: a `postgres://` URL or an SQLite file (empty: the
/// data dir's file), saved with Apply, used from the next start.
fn store_ui(
    ui: &mut egui::Ui,
    state: &ModelManagerState,
    saved: &str,
    commands: &mut Vec<Command>,
) {
    let mut text = state
        .store_draft
        .clone()
        .unwrap_or_else(|| saved.to_string());
    ui.horizontal(|ui| {
        ui.label("Store (from the next start)");
        let edit = ui.add(
            egui::TextEdit::singleline(&mut text)
                .hint_text("empty: the data dir's SQLite file; or postgres://user@host/db")
                .desired_width(360.0),
        );
        if edit.changed() {
            commands.push(Command::EditStoreSetting(text.clone()));
        }
        if ui
            .add_enabled(text.trim() != saved, egui::Button::new("Apply"))
            .clicked()
        {
            commands.push(Command::SetStore(text.clone()));
        }
    });
}
