//! The Training window: train the compact reward model on a synthetic click
//! world, with progress, cancel and a live plot of the training loss and
//! the validation pairwise accuracy per epoch (egui_plot).

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints};

use crate::app::{Command, EpochReport, TrainSettings, TrainingState};

use super::theme;

/// Draws the Training window (when open).
pub fn training_window_ui(
    ctx: &egui::Context,
    state: &TrainingState,
    settings: &TrainSettings,
    commands: &mut Vec<Command>,
) {
    let mut open = state.open;
    let mut edited = *settings;
    egui::Window::new("Reward model training")
        .open(&mut open)
        .default_width(420.0)
        .show(ctx, |ui| training_ui(ui, state, &mut edited, commands));
    if edited != *settings {
        commands.push(Command::SetTrainSettings(edited));
    }
    if open != state.open {
        commands.push(Command::ShowTraining(open));
    }
}

fn training_ui(
    ui: &mut egui::Ui,
    state: &TrainingState,
    settings: &mut TrainSettings,
    commands: &mut Vec<Command>,
) {
    let running = state.is_running();
    ui.label("Data: synthetic click world (known CTR function of the image)");
    ui.add_enabled_ui(!running, |ui| {
        egui::Grid::new("training-settings")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Products");
                ui.add(egui::DragValue::new(&mut settings.products).range(10..=2000));
                ui.end_row();
                ui.label("Creatives per product");
                ui.add(egui::DragValue::new(&mut settings.creatives_per_product).range(2..=16));
                ui.end_row();
                ui.label("Epochs");
                ui.add(egui::DragValue::new(&mut settings.epochs).range(1..=100));
                ui.end_row();
                ui.label("Learning rate");
                ui.add(
                    egui::DragValue::new(&mut settings.learning_rate)
                        .range(1e-5..=1e-1)
                        .speed(1e-4),
                );
                ui.end_row();
                ui.label("Seed");
                ui.add(egui::DragValue::new(&mut settings.seed));
                ui.end_row();
            });
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!running, egui::Button::new("Train"))
            .on_hover_text("Train from scratch and save to models/reward-model")
            .clicked()
        {
            commands.push(Command::StartTraining);
        }
        if running {
            ui.spinner();
            if ui.button("Stop training").clicked() {
                commands.push(Command::CancelTraining);
            }
        }
    });
    if let Some(last) = state.history.last() {
        let accuracy = last.val_accuracy.map_or_else(String::new, |a| {
            format!(", validation accuracy {:.1}%", 100.0 * a)
        });
        ui.label(format!(
            "Epoch {}/{}: loss {:.4}{accuracy}",
            last.epoch, last.epochs, last.loss
        ));
    }
    plot_ui(ui, &state.history);
    theme::message_ui(ui, state.message.as_ref());
}

/// Loss and validation accuracy per epoch, on one plot (accuracy in [0, 1]).
fn plot_ui(ui: &mut egui::Ui, history: &[EpochReport]) {
    let loss: PlotPoints<'_> = history.iter().map(|r| [r.epoch as f64, r.loss]).collect();
    let accuracy: PlotPoints<'_> = history
        .iter()
        .filter_map(|r| r.val_accuracy.map(|a| [r.epoch as f64, a]))
        .collect();
    Plot::new("training-plot")
        .height(200.0)
        .legend(Legend::default().position(Corner::LeftBottom))
        .x_axis_label("epoch")
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |plot| {
            plot.line(
                Line::new("training loss", loss)
                    .color(theme::PLOT_LOSS)
                    .width(2.0),
            );
            plot.line(
                Line::new("validation accuracy", accuracy)
                    .color(theme::PLOT_ACCURACY)
                    .width(2.0),
            );
        });
}
