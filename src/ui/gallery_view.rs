//! The gallery strip: one tile per variant (progress with live preview,
//! final image, or failure), open large, pick two to compare, recall.

use egui::{Sense, Vec2};

use crate::app::{CentralView, Command, GalleryState, GalleryTile, JobId, TileKey, TileState};

use super::scores_panel::GalleryScores;
use super::theme;

/// Side of a tile's image, in points.
const TILE_SIDE: f32 = 128.0;

/// What a tile asks for when clicked.
enum TileAction {
    Open(TileKey),
    ToggleSelected(TileKey),
    Recall(TileKey),
    Cancel(JobId),
    Dismiss(TileKey),
    RenderFinal(TileKey),
}

/// Draws the gallery.
pub fn gallery_ui(
    ui: &mut egui::Ui,
    gallery: &GalleryState,
    ranked: &GalleryScores<'_>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong(format!("Gallery ({})", gallery.tiles.len()));
        if gallery.central != CentralView::Canvas && ui.button("Back to canvas").clicked() {
            commands.push(Command::ShowCentral(CentralView::Canvas));
        }
        if !gallery.selected.is_empty() && ui.button("Clear selection").clicked() {
            commands.push(Command::ClearSelection);
        }
        ui.colored_label(
            theme::HINT_TEXT,
            "Click: open large · Ctrl+click or Compare: pick two to compare",
        );
    });
    if gallery.tiles.is_empty() {
        ui.colored_label(theme::HINT_TEXT, "Rendered variants appear here.");
        return;
    }
    let mut actions = Vec::new();
    egui::ScrollArea::horizontal().show(ui, |ui| {
        ui.horizontal(|ui| {
            // Newest first, or best score first (stable: ties stay newest first).
            let mut tiles: Vec<&GalleryTile> = gallery.tiles.iter().rev().collect();
            if ranked.sort_by_score {
                tiles.sort_by(|a, b| {
                    let key = |t: &GalleryTile| ranked.strength(t.done().and_then(|d| d.render_id));
                    key(b).total_cmp(&key(a))
                });
            }
            for tile in tiles {
                let pick = gallery.selected.iter().position(|k| *k == tile.key);
                let score = ranked.tile_label(tile.done().and_then(|d| d.render_id));
                tile_ui(ui, tile, pick, score, &mut actions);
            }
        });
    });
    for action in actions {
        match action {
            TileAction::Open(key) => commands.push(Command::ShowCentral(CentralView::Variant(key))),
            TileAction::ToggleSelected(key) => commands.push(Command::ToggleSelected(key)),
            TileAction::Recall(key) => commands.push(Command::Recall(key)),
            TileAction::Cancel(job) => commands.push(Command::CancelModelJob(job)),
            TileAction::Dismiss(key) => commands.push(Command::DismissTile(key)),
            TileAction::RenderFinal(key) => commands.push(Command::RenderFinal(key)),
        }
    }
}

fn tile_ui(
    ui: &mut egui::Ui,
    tile: &GalleryTile,
    pick: Option<usize>,
    score: Option<String>,
    actions: &mut Vec<TileAction>,
) {
    let frame = egui::Frame::group(ui.style()).stroke(egui::Stroke::new(
        if pick.is_some() { 2.0 } else { 1.0 },
        if pick.is_some() {
            theme::SELECTION
        } else {
            theme::IMAGE_FRAME
        },
    ));
    frame.show(ui, |ui| {
        ui.set_width(TILE_SIDE);
        ui.vertical(|ui| {
            tile_image_ui(ui, tile, actions);
            ui.label(tile_caption(tile));
            if let Some(score) = score {
                ui.label(score)
                    .on_hover_text("Rank and predicted CTR from the reward model");
            }
            tile_buttons_ui(ui, tile, pick, actions);
        });
    });
}

/// "seed N", or "draft · seed N" for a draft.
pub fn tile_caption(tile: &GalleryTile) -> String {
    if tile.is_draft() {
        format!("draft · seed {}", tile.seed)
    } else {
        format!("seed {}", tile.seed)
    }
}

fn placeholder(ui: &mut egui::Ui, text: &str) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(TILE_SIDE), Sense::hover());
    ui.painter()
        .rect_filled(rect, 4.0, theme::CANVAS_BACKGROUND);
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(13.0),
        theme::HINT_TEXT,
    );
}

/// The tile's image: placeholder, live preview with progress, or the
/// finished render (click: open; Ctrl+click: pick for comparison).
fn tile_image_ui(ui: &mut egui::Ui, tile: &GalleryTile, actions: &mut Vec<TileAction>) {
    match &tile.state {
        TileState::Queued => {
            placeholder(ui, "Queued");
        }
        TileState::Rendering {
            step,
            total,
            label,
            preview,
        } => {
            match preview {
                Some(texture) => {
                    ui.add(egui::Image::new(texture).fit_to_exact_size(Vec2::splat(TILE_SIDE)));
                }
                None => placeholder(ui, label),
            }
            let fraction = if *total == 0 {
                0.0
            } else {
                *step as f32 / *total as f32
            };
            ui.add(egui::ProgressBar::new(fraction).text(format!("step {step}/{total}")));
        }
        TileState::Done(done) => {
            let response = ui
                .add(
                    egui::Image::new(&done.texture)
                        .fit_to_exact_size(Vec2::splat(TILE_SIDE))
                        .sense(Sense::click())
                        .alt_text(format!("Variant seed {}", tile.seed)),
                )
                .on_hover_text(&done.params.request.params.prompt);
            if response.clicked() {
                if ui.input(|i| i.modifiers.command) {
                    actions.push(TileAction::ToggleSelected(tile.key));
                } else {
                    actions.push(TileAction::Open(tile.key));
                }
            }
        }
        TileState::Failed(error) => {
            placeholder(ui, "Failed");
            ui.colored_label(theme::ERROR_TEXT, error)
                .on_hover_text(error);
        }
        TileState::Cancelled => placeholder(ui, "Cancelled"),
    }
}

/// Dismiss, Cancel, Recall and Compare, as the tile's state allows.
fn tile_buttons_ui(
    ui: &mut egui::Ui,
    tile: &GalleryTile,
    pick: Option<usize>,
    actions: &mut Vec<TileAction>,
) {
    if matches!(tile.state, TileState::Failed(_) | TileState::Cancelled)
        && ui
            .button("Dismiss")
            .on_hover_text("Remove this tile")
            .clicked()
    {
        actions.push(TileAction::Dismiss(tile.key));
    }
    if let Some(job) = tile.job {
        if ui
            .button("Cancel")
            .on_hover_text("Stop this variant")
            .clicked()
        {
            actions.push(TileAction::Cancel(job));
        }
    }
    if tile.done().is_some() {
        ui.horizontal(|ui| {
            if ui
                .button("Recall")
                .on_hover_text("Put this image's parameters into the render panel")
                .clicked()
            {
                actions.push(TileAction::Recall(tile.key));
            }
            let text = match pick {
                Some(0) => "A",
                Some(_) => "B",
                None => "Compare",
            };
            if ui
                .selectable_label(pick.is_some(), text)
                .on_hover_text("Pick two images to compare them")
                .clicked()
            {
                actions.push(TileAction::ToggleSelected(tile.key));
            }
        });
        if tile.is_draft()
            && ui
                .button("Render final")
                .on_hover_text("Render this draft's prompt and seed with the render settings")
                .clicked()
        {
            actions.push(TileAction::RenderFinal(tile.key));
        }
    }
}
