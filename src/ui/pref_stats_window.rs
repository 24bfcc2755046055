//! The preference statistics window: label counts per product and per
//! labeler, Cohen's kappa for every two labelers on their shared pairs,
//! Fleiss' kappa over all labelers, and the reward model's accuracy on
//! human-labelled pairs with its 95% confidence interval. The numbers are
//! `prefs_stats`' (computed on the labelling worker), as `adstudio prefs
//! stats` prints them.

pub use crate::app::kappa_text;
use crate::app::{Accuracy, Command, PrefStats, PrefStatsState};

use super::theme;

/// An accuracy and its 95% interval as shown.
pub fn accuracy_text(accuracy: Option<Accuracy>) -> (String, String) {
    match accuracy {
        Some(a) => (
            format!("{:.1}%", 100.0 * a.value),
            format!("{:.1}%–{:.1}%", 100.0 * a.ci_low, 100.0 * a.ci_high),
        ),
        None => ("-".into(), "-".into()),
    }
}

/// Draws the window while it is open.
pub fn pref_stats_window_ui(
    ctx: &egui::Context,
    state: &PrefStatsState,
    commands: &mut Vec<Command>,
) {
    if !state.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Preference statistics")
        .open(&mut open)
        .default_size([600.0, 560.0])
        .default_pos([760.0, 90.0])
        .vscroll(true)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Refresh").clicked() {
                    commands.push(Command::RefreshPrefStats);
                }
                if state.job.is_some() {
                    ui.spinner();
                }
            });
            theme::message_ui(ui, state.message.as_ref());
            match &state.current {
                Some(stats) => stats_ui(ui, stats),
                None => {
                    ui.label("Reading the labels…");
                }
            }
        });
    if !open {
        commands.push(Command::ShowPrefStats(false));
    }
}

fn stats_ui(ui: &mut egui::Ui, stats: &PrefStats) {
    let t = &stats.total;
    ui.label(format!(
        "{} active labels (A {}, B {}, tie {}, can't tell {}, skip {}), {} retracted",
        t.total(),
        t.a,
        t.b,
        t.tie,
        t.cant_tell,
        t.skip,
        stats.retracted
    ));
    ui.separator();
    ui.strong("Per product (human labels)");
    let products = stats.product_rows();
    let outcome_headers = ["A", "B", "tie", "can't tell", "skip"];
    let mut headers = vec!["product", "pairs"];
    headers.extend(outcome_headers);
    headers.push("model");
    grid_ui(ui, "pref-products", &headers, &products);
    ui.strong("Per labeler");
    let labelers = stats.labeler_rows();
    let mut headers = vec!["labeler", "source", "pairs"];
    headers.extend(outcome_headers);
    grid_ui(ui, "pref-labelers", &headers, &labelers);
    ui.separator();
    agreement_ui(ui, stats);
    ui.separator();
    reward_ui(ui, stats);
}

fn agreement_ui(ui: &mut egui::Ui, stats: &PrefStats) {
    ui.strong("Agreement between people (Cohen's kappa on shared pairs)");
    let rows = stats.agreement_rows();
    if rows.is_empty() {
        ui.colored_label(theme::HINT_TEXT, "No two labelers share a rated pair yet.");
    } else {
        grid_ui(
            ui,
            "pref-cohen",
            &["labelers", "shared pairs", "agreeing", "Cohen's kappa"],
            &rows,
        );
    }
    let all = &stats.all_labelers;
    ui.label(format!(
        "Fleiss' kappa: {} ({} labelers, {} pairs rated by 2 or more, {} ratings)",
        kappa_text(all.kappa),
        all.labelers,
        all.pairs,
        all.ratings
    ));
}

fn reward_ui(ui: &mut egui::Ui, stats: &PrefStats) {
    let people = &stats.people_vs_models;
    ui.strong(format!(
        "Reward model vs people ({} pairs decided by a human majority, ties excluded)",
        people.human_decided_pairs
    ));
    let rows: Vec<Vec<String>> = people
        .models
        .iter()
        .map(|m| {
            let (accuracy, ci) = accuracy_text(m.accuracy);
            vec![
                m.model_id.clone(),
                m.compared.to_string(),
                m.undecided.to_string(),
                accuracy,
                ci,
            ]
        })
        .collect();
    if rows.is_empty() {
        ui.colored_label(
            theme::HINT_TEXT,
            "No reward-model picks or scores on human-labelled pairs yet.",
        );
    } else {
        grid_ui(
            ui,
            "pref-reward",
            &["model", "compared", "undecided", "accuracy", "95% CI"],
            &rows,
        );
    }
}

fn grid_ui(ui: &mut egui::Ui, id: &str, headers: &[&str], rows: &[Vec<String>]) {
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        for header in headers {
            ui.strong(*header);
        }
        ui.end_row();
        for row in rows {
            for cell in row {
                ui.label(cell);
            }
            ui.end_row();
        }
    });
}
