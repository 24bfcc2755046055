//! The Online PCPO window: products (the open one or all), rounds, steps
//! and training settings; the estimate before a run; Start / Cancel; live
//! plots of loss, reward margin, preference accuracy and matching rate per
//! round; a table of the finished rounds.

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints, Points};

use crate::app::{duration_text, Command, OnlinePrefs, OnlineState, RoundReport};

use super::theme;

/// What the window shows besides its own state.
pub struct OnlineView<'a> {
    /// The window's state.
    pub state: &'a OnlineState,
    /// Its settings.
    pub prefs: &'a OnlinePrefs,
    /// Title of the open product, if any.
    pub open_product: Option<&'a str>,
    /// Stored products.
    pub stored_products: usize,
    /// The adapter the policy starts from (`None`: the base model).
    pub start_adapter: Option<&'a str>,
}

/// Draws the Online PCPO window (when open).
pub fn online_window_ui(ctx: &egui::Context, view: &OnlineView<'_>, commands: &mut Vec<Command>) {
    let mut open = view.state.open;
    let mut edited = view.prefs.clone();
    egui::Window::new("Online PCPO")
        .open(&mut open)
        .default_width(520.0)
        .show(ctx, |ui| {
            settings_ui(ui, view, &mut edited);
            controls_ui(ui, view, commands);
            plots_ui(ui, &view.state.rounds);
            rounds_table_ui(ui, &view.state.rounds);
            theme::message_ui(ui, view.state.message.as_ref());
        });
    if edited != *view.prefs {
        commands.push(Command::SetOnlinePrefs(edited));
    }
    if open != view.state.open {
        commands.push(Command::ShowOnline(open));
    }
}

fn settings_ui(ui: &mut egui::Ui, view: &OnlineView<'_>, prefs: &mut OnlinePrefs) {
    ui.label("Each round: the prompt model (with the current adapter) writes 2 suggestions per product, both are rendered, the reward model picks, then one epoch of PCPO training.");
    ui.add_enabled_ui(!view.state.is_busy(), |ui| {
        let open = view.open_product.map_or_else(
            || "Open product (none open)".to_string(),
            |t| format!("Open product ({t})"),
        );
        ui.radio_value(&mut prefs.all_products, false, open);
        ui.radio_value(
            &mut prefs.all_products,
            true,
            format!("All stored products ({})", view.stored_products),
        );
        let s = &mut prefs.settings;
        egui::Grid::new("online-settings")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Rounds");
                ui.add(egui::DragValue::new(&mut s.rounds).range(1..=50));
                ui.end_row();
                ui.label("Steps per render");
                ui.add(egui::DragValue::new(&mut s.steps).range(1..=150));
                ui.end_row();
                ui.label("Seed");
                ui.add(egui::DragValue::new(&mut s.seed));
                ui.end_row();
                ui.label("PCPO weight (0 = DPO)");
                ui.add(
                    egui::DragValue::new(&mut s.weight)
                        .range(0.0..=10.0)
                        .speed(0.05),
                );
                ui.end_row();
                ui.label("Learning rate");
                ui.add(
                    egui::DragValue::new(&mut s.lr)
                        .range(1e-6..=1e-1)
                        .speed(1e-5),
                );
                ui.end_row();
            });
    });
    ui.label(format!(
        "Starts from: {} (the adapter chosen under Suggestions > Adapters)",
        view.start_adapter.unwrap_or("the base model")
    ));
}

fn controls_ui(ui: &mut egui::Ui, view: &OnlineView<'_>, commands: &mut Vec<Command>) {
    let state = view.state;
    let busy = state.is_busy();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!busy, egui::Button::new("Estimate"))
            .on_hover_text("Measure one suggestion, one render step and one training pair, then say how long a round takes")
            .clicked()
        {
            commands.push(Command::EstimateOnline);
        }
        if ui
            .add_enabled(!busy, egui::Button::new("Start"))
            .on_hover_text("Run the rounds; each round's adapter is saved")
            .clicked()
        {
            commands.push(Command::StartOnline);
        }
        if busy {
            ui.spinner();
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelOnline);
            }
        }
    });
    if let Some(e) = &state.estimate {
        ui.label(format!("Estimate (this CPU): {}", e.summary()));
    } else if !busy {
        ui.colored_label(
            theme::HINT_TEXT,
            "Estimate to see how long a round will take.",
        );
    }
    if let Some(text) = state.phase_text(view.prefs.settings.rounds) {
        ui.label(text);
    }
}

fn series(rounds: &[RoundReport], f: impl Fn(&RoundReport) -> Option<f64>) -> Vec<[f64; 2]> {
    rounds
        .iter()
        .filter_map(|r| f(r).map(|v| [r.round as f64, v]))
        .collect()
}

fn add_series(
    plot: &mut egui_plot::PlotUi<'_>,
    name: &str,
    points: Vec<[f64; 2]>,
    color: egui::Color32,
) {
    plot.line(
        Line::new(name, PlotPoints::from(points.clone()))
            .color(color)
            .width(2.0),
    );
    plot.points(
        Points::new(name, PlotPoints::from(points))
            .color(color)
            .radius(3.0),
    );
}

/// Two plots per round: loss and reward margin; preference accuracy and
/// matching rate (both in [0, 1]).
fn plots_ui(ui: &mut egui::Ui, rounds: &[RoundReport]) {
    ui.columns(2, |cols| {
        Plot::new("online-loss-plot")
            .height(160.0)
            .legend(Legend::default().position(Corner::LeftBottom))
            .x_axis_label("round")
            .include_x(1.0)
            .include_y(0.0)
            .show(&mut cols[0], |plot| {
                add_series(
                    plot,
                    "loss",
                    series(rounds, |r| Some(r.loss)),
                    theme::PLOT_LOSS,
                );
                add_series(
                    plot,
                    "reward margin",
                    series(rounds, |r| Some(r.reward_margin)),
                    theme::PLOT_MARGIN,
                );
            });
        Plot::new("online-accuracy-plot")
            .height(160.0)
            .legend(Legend::default().position(Corner::LeftBottom))
            .x_axis_label("round")
            .include_x(1.0)
            .include_y(0.0)
            .include_y(1.0)
            .show(&mut cols[1], |plot| {
                add_series(
                    plot,
                    "preference accuracy",
                    series(rounds, |r| Some(r.accuracy)),
                    theme::PLOT_ACCURACY,
                );
                add_series(
                    plot,
                    "matching rate",
                    series(rounds, |r| r.matching_rate),
                    theme::PLOT_MATCHING,
                );
            });
    });
}

fn rounds_table_ui(ui: &mut egui::Ui, rounds: &[RoundReport]) {
    if rounds.is_empty() {
        return;
    }
    egui::Grid::new("online-rounds")
        .striped(true)
        .num_columns(7)
        .show(ui, |ui| {
            for h in [
                "round", "pairs", "loss", "margin", "accuracy", "matching", "time", "adapter",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in rounds {
                ui.label(format!("{}/{}", r.round, r.rounds));
                ui.label(r.pairs.to_string());
                ui.label(format!("{:.4}", r.loss));
                ui.label(format!("{:+.4}", r.reward_margin));
                ui.label(format!("{:.1}%", 100.0 * r.accuracy));
                ui.label(
                    r.matching_rate
                        .map_or_else(|| "n/a".into(), |m| format!("{:.1}%", 100.0 * m)),
                );
                ui.label(duration_text(r.timings.total));
                ui.label(&r.adapter);
                ui.end_row();
            }
        });
    for r in rounds.iter().filter(|r| !r.skipped.is_empty()) {
        ui.colored_label(
            theme::HINT_TEXT,
            format!("Round {} left out: {}", r.round, r.skipped.join("; ")),
        );
    }
}
