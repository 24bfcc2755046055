//! The Catalog window: every stored product with its thumbnail, title,
//! variant count, best predicted CTR and labelled pairs; a click opens the
//! product; "Export winners…" opens the export dialog.

use crate::app::{CatalogState, Command};

use super::theme;

/// Height of a catalog row's thumbnail, in points.
const THUMB: f32 = 48.0;

/// Draws the Catalog window (when open).
pub fn catalog_window_ui(
    ctx: &egui::Context,
    state: &CatalogState,
    open_product: Option<i64>,
    commands: &mut Vec<Command>,
) {
    let mut open = state.open;
    egui::Window::new("Catalog")
        .open(&mut open)
        .default_width(560.0)
        .default_height(420.0)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.label(format!("{} products", state.entries.len()));
                if state.job.is_some() {
                    ui.spinner();
                } else if ui.button("Refresh").clicked() {
                    commands.push(Command::RefreshCatalog);
                }
                if ui
                    .button("Export winners…")
                    .on_hover_text("Export the best renders at ad-platform sizes")
                    .clicked()
                {
                    commands.push(Command::ShowExport(true));
                }
            });
            theme::message_ui(ui, state.message.as_ref());
            ui.separator();
            egui::ScrollArea::vertical().show(ui, |ui| {
                catalog_table_ui(ui, state, open_product, commands);
            });
        });
    if open != state.open {
        commands.push(Command::ShowCatalog(open));
    }
}

fn catalog_table_ui(
    ui: &mut egui::Ui,
    state: &CatalogState,
    open_product: Option<i64>,
    commands: &mut Vec<Command>,
) {
    egui::Grid::new("catalog-table")
        .num_columns(6)
        .striped(true)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            for header in ["", "Product", "Variants", "Best CTR", "Labelled pairs", ""] {
                ui.strong(header);
            }
            ui.end_row();
            for (i, entry) in state.entries.iter().enumerate() {
                match state.thumbnails.get(i).and_then(Option::as_ref) {
                    Some(tex) => {
                        let size = tex.size_vec2();
                        let scale = THUMB / size.x.max(size.y).max(1.0);
                        ui.add(egui::Image::new((tex.id(), size * scale)));
                    }
                    None => {
                        ui.label("—");
                    }
                }
                let current = open_product == Some(entry.id.0);
                if ui
                    .selectable_label(current, &entry.title)
                    .on_hover_text(format!("Open product {}", entry.id.0))
                    .clicked()
                {
                    commands.push(Command::OpenStored(entry.id.0));
                }
                ui.label(entry.variants.to_string());
                ui.label(
                    entry
                        .best_ctr
                        .map_or_else(|| "—".to_string(), |c| format!("{:.2}%", c * 100.0)),
                );
                ui.label(entry.labelled_pairs.to_string());
                if ui.button(format!("Open #{}", entry.id.0)).clicked() {
                    commands.push(Command::OpenStored(entry.id.0));
                }
                ui.end_row();
            }
        });
}
