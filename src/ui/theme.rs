//! Colours and visuals: the only place colours are chosen.

use egui::Color32;

/// The two greys of the transparency checkerboard.
pub use crate::app::views::CHECKER_GREYS;
/// Tint of the mask overlay (made on the worker, see `app::views`).
pub use crate::app::views::MASK_OVERLAY_RGB;
/// Outline of the brush when it paints product.
pub const BRUSH_PRODUCT: Color32 = Color32::from_rgb(80, 220, 120);
/// Outline of the brush when it paints background.
pub const BRUSH_BACKGROUND: Color32 = Color32::from_rgb(240, 80, 110);
/// Text colour of error messages.
pub const ERROR_TEXT: Color32 = Color32::from_rgb(240, 100, 100);
/// Relevance label of a suggestion that matches the product, and the mark
/// of a candidate that passed the screening.
pub const MATCH_TEXT: Color32 = Color32::from_rgb(110, 200, 120);
/// Relevance label of a suggestion below the match threshold.
pub const LOW_MATCH_TEXT: Color32 = Color32::from_rgb(225, 170, 80);
/// Text colour of hints and secondary information.
pub const HINT_TEXT: Color32 = Color32::from_rgb(150, 150, 160);
/// Background of the canvas area.
pub const CANVAS_BACKGROUND: Color32 = Color32::from_rgb(32, 33, 38);
/// Outline of the image frame in the canvas view.
pub const IMAGE_FRAME: Color32 = Color32::from_rgb(90, 92, 100);
/// Shade of the Stories/Reels safe-zone bands (translucent).
pub const SAFE_ZONE_FILL: Color32 = Color32::from_rgba_premultiplied(60, 20, 20, 90);
/// Outline and label of the safe-zone bands.
pub const SAFE_ZONE_LINE: Color32 = Color32::from_rgb(255, 170, 90);

/// Background of a win-probability cell: red (0) through grey (0.5) to
/// green (1).
pub fn win_probability(p: f32) -> Color32 {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let (lose, even, win) = ([170.0, 60.0, 60.0], [70.0, 72.0, 80.0], [50.0, 150.0, 80.0]);
    let (from, to, t) = if p < 0.5 {
        (lose, even, p * 2.0)
    } else {
        (even, win, (p - 0.5) * 2.0)
    };
    let mix = |i: usize| (from[i] + (to[i] - from[i]) * t).round() as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

/// Line colour of the training loss in the training plot.
pub const PLOT_LOSS: Color32 = Color32::from_rgb(240, 150, 70);
/// Line colour of the validation accuracy in the training plot.
pub const PLOT_ACCURACY: Color32 = Color32::from_rgb(90, 170, 240);
/// Line colour of the reward margin in the online plot.
pub const PLOT_MARGIN: Color32 = Color32::from_rgb(200, 120, 230);
/// Line colour of the matching rate in the online plot.
pub const PLOT_MATCHING: Color32 = Color32::from_rgb(110, 200, 120);
/// Outline of picked gallery tiles and the compare split line.
pub const SELECTION: Color32 = Color32::from_rgb(90, 170, 255);

/// Applies the studio's visuals to the context.
pub fn apply(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
}

/// Shows a `(message, is_error)` pair in the error or hint colour.
pub fn message_ui(ui: &mut egui::Ui, message: Option<&(String, bool)>) {
    if let Some((text, is_error)) = message {
        let color = if *is_error { ERROR_TEXT } else { HINT_TEXT };
        ui.colored_label(color, text);
    }
}
