//! The Scores section of the tools panel: score every pair of the product's
//! variants with the reward model, and show the win-probability matrix, the
//! Bradley-Terry ranking and the predicted CTRs.

use crate::app::{Command, RenderId, ScoresState, VariantScores};

use super::theme;

/// What the Scores section needs to know besides its state.
pub struct ScoresView<'a> {
    /// The section's state.
    pub state: &'a ScoresState,
    /// The open product's scores, if any.
    pub scores: Option<&'a VariantScores>,
    /// How many rendered variants the open product has.
    pub variant_count: usize,
    /// Whether the gallery is sorted by score (a preference).
    pub sort_by_score: bool,
}

/// What the gallery needs from the scores.
pub struct GalleryScores<'a> {
    /// The open product's scores, if any.
    pub scores: Option<&'a VariantScores>,
    /// Show the best-scored variant first.
    pub sort_by_score: bool,
}

impl GalleryScores<'_> {
    /// A tile's score line ("#2 · CTR 1.85%"), when its render was scored.
    pub fn tile_label(&self, render: Option<RenderId>) -> Option<String> {
        let (scores, render) = (self.scores?, render?);
        Some(format!(
            "#{} · CTR {:.2}%",
            scores.rank(render)?,
            100.0 * scores.ctr(render)?
        ))
    }

    /// Sort key of a tile: Bradley-Terry strength (unscored tiles last).
    pub fn strength(&self, render: Option<RenderId>) -> f64 {
        self.scores
            .zip(render)
            .and_then(|(s, r)| s.strength(r))
            .unwrap_or(f64::NEG_INFINITY)
    }
}

/// A variant's short name in the matrix and the ranking.
pub fn variant_name(render: RenderId) -> String {
    format!("#{}", render.0)
}

/// Draws the Scores section.
pub fn scores_panel_ui(ui: &mut egui::Ui, view: &ScoresView<'_>, commands: &mut Vec<Command>) {
    let running = view.state.is_running();
    ui.horizontal(|ui| {
        let score = ui
            .add_enabled(
                view.variant_count >= 2 && !running,
                egui::Button::new("Score variants"),
            )
            .on_hover_text("Score every pair of this product's variants with the reward model");
        if score.clicked() {
            commands.push(Command::ScoreVariants);
        }
        if running {
            ui.spinner();
        }
        let mut sort = view.sort_by_score;
        if ui
            .checkbox(&mut sort, "Sort gallery by score")
            .on_hover_text("Best predicted variant first")
            .changed()
        {
            commands.push(Command::SetSortByScore(sort));
        }
    });
    if view.variant_count < 2 {
        ui.colored_label(
            theme::HINT_TEXT,
            "Render at least two variants to score them.",
        );
    }
    if let Some(scores) = view.scores {
        matrix_ui(ui, scores);
        ranking_ui(ui, scores);
        ui.colored_label(theme::HINT_TEXT, format!("Model: {}", scores.model_id));
    }
    if ui.button("Training…").clicked() {
        commands.push(Command::ShowTraining(true));
    }
    theme::message_ui(ui, view.state.message.as_ref());
}

/// The win-probability matrix: row beats column.
fn matrix_ui(ui: &mut egui::Ui, scores: &VariantScores) {
    ui.label("P(row beats column)");
    egui::ScrollArea::horizontal()
        .id_salt("score-matrix-scroll")
        .show(ui, |ui| {
            egui::Grid::new("score-matrix")
                .spacing(egui::vec2(2.0, 2.0))
                .show(ui, |ui| {
                    ui.label("");
                    for &render in &scores.renders {
                        ui.label(variant_name(render));
                    }
                    ui.end_row();
                    for (i, &row) in scores.renders.iter().enumerate() {
                        ui.label(variant_name(row));
                        for (j, &column) in scores.renders.iter().enumerate() {
                            let p = scores.matrix.p[i][j];
                            let text = if i == j {
                                "–".to_string()
                            } else {
                                format!("{p:.2}")
                            };
                            let fill = if i == j {
                                theme::win_probability(0.5)
                            } else {
                                theme::win_probability(p)
                            };
                            egui::Frame::new()
                                .fill(fill)
                                .inner_margin(egui::Margin::symmetric(4, 2))
                                .show(ui, |ui| {
                                    ui.label(text).on_hover_text(format!(
                                        "P({} beats {}) = {p:.3}",
                                        variant_name(row),
                                        variant_name(column)
                                    ));
                                });
                        }
                        ui.end_row();
                    }
                });
        });
}

/// The Bradley-Terry ranking with predicted CTRs.
fn ranking_ui(ui: &mut egui::Ui, scores: &VariantScores) {
    ui.label("Ranking (Bradley-Terry)");
    egui::Grid::new("score-ranking")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            ui.label("Rank");
            ui.label("Variant");
            ui.label("Strength");
            ui.label("Predicted CTR");
            ui.end_row();
            for (rank, &i) in scores.order.iter().enumerate() {
                ui.label(format!("{}", rank + 1));
                ui.label(variant_name(scores.renders[i]));
                ui.label(format!("{:+.2}", scores.strengths[i]));
                let ctr = scores.matrix.ctr.get(i).copied().unwrap_or(0.0);
                ui.label(format!("{:.2}%", 100.0 * ctr));
                ui.end_row();
            }
        });
}
