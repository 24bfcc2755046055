//! The central area when it shows gallery images: one image large, or two
//! compared with a draggable split.

use egui::{Color32, Pos2, Rect, Sense, Vec2};

use crate::app::{CentralView, Command, GalleryState, TileKey, VariantScores};

use super::split_view::split_images_ui;
use super::theme;

/// Draws the large image or the comparison chosen in the gallery.
/// `scores` (the open product's, if scored) gives the compare view the
/// reward model's P(A beats B).
pub fn large_view_ui(
    ui: &mut egui::Ui,
    gallery: &GalleryState,
    scores: Option<&VariantScores>,
    commands: &mut Vec<Command>,
) {
    match gallery.central {
        CentralView::Canvas => {}
        CentralView::Variant(key) => single_ui(ui, gallery, key, commands),
        CentralView::Compare(a, b) => {
            let render = |k| {
                gallery
                    .tile(k)
                    .and_then(|t| t.done())
                    .and_then(|d| d.render_id)
            };
            let p = scores
                .zip(render(a).zip(render(b)))
                .and_then(|(s, (ra, rb))| s.p_beats(ra, rb));
            compare_ui(ui, gallery, a, b, p, commands);
        }
    }
}

fn header(ui: &mut egui::Ui, commands: &mut Vec<Command>, title: &str) {
    ui.horizontal(|ui| {
        if ui.button("Back to canvas").clicked() {
            commands.push(Command::ShowCentral(CentralView::Canvas));
        }
        ui.strong(title);
    });
}

fn single_ui(ui: &mut egui::Ui, gallery: &GalleryState, key: TileKey, commands: &mut Vec<Command>) {
    let Some((texture, params)) = gallery
        .tile(key)
        .and_then(|t| t.done())
        .map(|d| (d.texture.clone(), d.params.clone()))
    else {
        header(ui, commands, "This image is no longer in the gallery");
        return;
    };
    header(
        ui,
        commands,
        &format!("Variant, seed {}", params.request.params.seed),
    );
    ui.horizontal_wrapped(|ui| {
        if ui.button("Recall").clicked() {
            commands.push(Command::Recall(key));
        }
        ui.colored_label(theme::HINT_TEXT, &params.request.params.prompt);
    });
    let rect = fit_rect(ui.available_rect_before_wrap(), texture.size_vec2());
    ui.allocate_rect(ui.available_rect_before_wrap(), Sense::hover());
    ui.painter().image(
        texture.id(),
        rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
}

fn compare_ui(
    ui: &mut egui::Ui,
    gallery: &GalleryState,
    a: TileKey,
    b: TileKey,
    p_a_beats_b: Option<f32>,
    commands: &mut Vec<Command>,
) {
    let pair = gallery
        .tile(a)
        .and_then(|t| t.done())
        .zip(gallery.tile(b).and_then(|t| t.done()))
        .map(|(x, y)| {
            (
                (x.texture.clone(), x.params.request.params.seed),
                (y.texture.clone(), y.params.request.params.seed),
            )
        });
    let Some(((tex_a, seed_a), (tex_b, seed_b))) = pair else {
        header(
            ui,
            commands,
            "The compared images are no longer in the gallery",
        );
        return;
    };
    header(
        ui,
        commands,
        &format!("Compare: A seed {seed_a} (left) | B seed {seed_b} (right)"),
    );
    match p_a_beats_b {
        Some(p) => ui.label(format!(
            "Reward model: P(A beats B) = {p:.2} · P(B beats A) = {:.2}",
            1.0 - p
        )),
        None => ui.colored_label(
            theme::HINT_TEXT,
            "Score the variants (Scores section) to see P(A beats B)",
        ),
    };
    if let Some(split) = split_images_ui(ui, &tex_a, &tex_b, gallery.split) {
        commands.push(Command::SetSplit(split));
    }
}

/// The largest rect of `size`'s aspect centred in `area`.
pub(super) fn fit_rect(area: Rect, size: Vec2) -> Rect {
    let scale = (area.width() / size.x).min(area.height() / size.y).max(0.0);
    Rect::from_center_size(area.center(), size * scale)
}
