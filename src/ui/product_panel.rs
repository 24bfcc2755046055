//! The product panel: open, title, mask settings, brush, canvas settings.

use crate::app::{BrushSettings, Command, ProductRow, ProductSession, UiPrefs};
use crate::product::{AspectPreset, BrushMode, MaskSource, MaskSourceChoice};

use super::theme;

/// Draws the product panel.
pub fn product_panel_ui(
    ui: &mut egui::Ui,
    session: Option<&ProductSession>,
    products: &[ProductRow],
    prefs: &UiPrefs,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        if ui
            .button("Open product…")
            .on_hover_text("Open a product image (Ctrl+O), or drop one onto the window")
            .clicked()
        {
            commands.push(Command::ShowOpenDialog);
        }
    });
    recent_products_ui(ui, session, products, commands);
    ui.separator();
    let Some(session) = session else {
        ui.colored_label(
            theme::HINT_TEXT,
            "Open a product photo (a cut-out PNG works best) or drop it here.",
        );
        return;
    };
    product_info_ui(ui, session, commands);
    ui.separator();
    mask_ui(ui, session, prefs, commands);
    ui.separator();
    canvas_settings_ui(ui, session, commands);
}

fn recent_products_ui(
    ui: &mut egui::Ui,
    session: Option<&ProductSession>,
    products: &[ProductRow],
    commands: &mut Vec<Command>,
) {
    egui::CollapsingHeader::new(format!("Products ({})", products.len()))
        .id_salt("recent-products")
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .max_height(160.0)
                .show(ui, |ui| {
                    for row in products {
                        let current = session.is_some_and(|s| s.product.id == row.id);
                        let label = if row.title.is_empty() {
                            &row.source_name
                        } else {
                            &row.title
                        };
                        if ui.selectable_label(current, label).clicked() && !current {
                            commands.push(Command::OpenStored(row.id.0));
                        }
                    }
                });
        });
}

fn product_info_ui(ui: &mut egui::Ui, session: &ProductSession, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.label("Title");
        let mut title = session.product.title.clone();
        if ui
            .add(egui::TextEdit::singleline(&mut title).desired_width(f32::INFINITY))
            .changed()
        {
            commands.push(Command::SetTitle(title));
        }
    });
    let info = &session.product.image.info;
    ui.colored_label(
        theme::HINT_TEXT,
        format!(
            "{} · {}×{} · {} · {}",
            session.product.source_name,
            info.width,
            info.height,
            info.format,
            if session.product.image.has_transparency {
                "transparent"
            } else {
                "opaque"
            }
        ),
    );
}

fn mask_ui(
    ui: &mut egui::Ui,
    session: &ProductSession,
    prefs: &UiPrefs,
    commands: &mut Vec<Command>,
) {
    ui.heading("Mask");
    let mut settings = session.product.mask_settings;
    ui.horizontal(|ui| {
        ui.label("Source");
        for (choice, label) in [
            (MaskSourceChoice::Auto, "Auto"),
            (MaskSourceChoice::Alpha, "Alpha"),
            (MaskSourceChoice::Key, "Key background"),
            (MaskSourceChoice::Saliency, "Salient object"),
        ] {
            ui.selectable_value(&mut settings.source, choice, label);
        }
    });
    match (&session.mask_source, &session.mask_error) {
        (_, Some(error)) => {
            ui.colored_label(theme::ERROR_TEXT, error);
        }
        (Some(source), None) => {
            let text = match source {
                MaskSource::Alpha => "Using the image's alpha channel",
                MaskSource::Key => "Background keyed by flood fill from the border",
                MaskSource::Saliency => "Product found by the salient-object model (U²-Net-p)",
            };
            ui.colored_label(theme::HINT_TEXT, text);
        }
        (None, None) => {
            ui.colored_label(theme::HINT_TEXT, "Building mask…");
        }
    }
    ui.add_enabled(
        matches!(
            settings.source,
            MaskSourceChoice::Auto | MaskSourceChoice::Key
        ),
        egui::Slider::new(&mut settings.key.tolerance, 1.0..=128.0).text("Key tolerance"),
    );
    ui.add(egui::Slider::new(&mut settings.grow_px, -40..=40).text("Grow / shrink px"));
    ui.add(egui::Slider::new(&mut settings.feather_px, 0.0..=40.0).text("Feather px"));
    if settings != session.product.mask_settings {
        commands.push(Command::SetMaskSettings(settings));
    }
    let mut overlay = prefs.show_mask_overlay;
    if ui.checkbox(&mut overlay, "Mask overlay").changed() {
        commands.push(Command::ToggleMaskOverlay);
    }
    let mut brush = prefs.brush;
    brush_ui(ui, &mut brush);
    if brush != prefs.brush {
        commands.push(Command::SetBrush(brush));
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(session.product.edits.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Undo the last brush stroke (Ctrl+Z)")
            .clicked()
        {
            commands.push(Command::Undo);
        }
        if ui
            .add_enabled(session.product.edits.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Redo (Ctrl+Shift+Z)")
            .clicked()
        {
            commands.push(Command::Redo);
        }
        ui.colored_label(
            theme::HINT_TEXT,
            format!("{} strokes", session.product.edits.strokes().len()),
        );
    });
}

fn brush_ui(ui: &mut egui::Ui, brush: &mut BrushSettings) {
    ui.checkbox(&mut brush.enabled, "Brush")
        .on_hover_text("Drag on the image to paint the mask; right-drag pans");
    ui.add_enabled_ui(brush.enabled, |ui| {
        ui.horizontal(|ui| {
            ui.radio_value(&mut brush.mode, BrushMode::Product, "Paint product");
            ui.radio_value(&mut brush.mode, BrushMode::Background, "Paint background");
        });
        ui.add(
            egui::Slider::new(&mut brush.radius, 1.0..=200.0)
                .logarithmic(true)
                .text("Brush size px"),
        );
        ui.add(egui::Slider::new(&mut brush.hardness, 0.0..=1.0).text("Hardness"));
    });
}

fn canvas_settings_ui(ui: &mut egui::Ui, session: &ProductSession, commands: &mut Vec<Command>) {
    ui.heading("Ad canvas");
    let mut settings = session.product.canvas_settings;
    ui.horizontal(|ui| {
        for preset in AspectPreset::ALL {
            ui.selectable_value(&mut settings.aspect, preset, preset.label());
        }
    });
    egui::ComboBox::from_label("Short side")
        .selected_text(format!("{} px", settings.short_side))
        .show_ui(ui, |ui| {
            for side in [512, 640, 768, 1024] {
                ui.selectable_value(&mut settings.short_side, side, format!("{side} px"));
            }
        });
    ui.add(egui::Slider::new(&mut settings.fit_fraction, 0.3..=0.98).text("Product size"));
    ui.add(egui::Slider::new(&mut settings.inpaint_dilate_px, 0..=40).text("Seam overlap px"));
    let (width, height) = settings.aspect.size(settings.short_side);
    ui.colored_label(theme::HINT_TEXT, format!("Canvas {width}×{height}"));
    if settings != session.product.canvas_settings {
        commands.push(Command::SetCanvasSettings(settings));
    }
}
