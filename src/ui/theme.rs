//! Colours and visuals: the only place colours are chosen.

use egui::Color32;

/// Tint of the background in the mask overlay (RGB).
pub const MASK_OVERLAY_RGB: [u8; 3] = [230, 40, 90];
/// The two greys of the transparency checkerboard.
pub const CHECKER_GREYS: [u8; 2] = [205, 160];
/// Outline of the brush when it paints product.
pub const BRUSH_PRODUCT: Color32 = Color32::from_rgb(80, 220, 120);
/// Outline of the brush when it paints background.
pub const BRUSH_BACKGROUND: Color32 = Color32::from_rgb(240, 80, 110);
/// Text colour of error messages.
pub const ERROR_TEXT: Color32 = Color32::from_rgb(240, 100, 100);
/// Text colour of hints and secondary information.
pub const HINT_TEXT: Color32 = Color32::from_rgb(150, 150, 160);
/// Background of the canvas area.
pub const CANVAS_BACKGROUND: Color32 = Color32::from_rgb(32, 33, 38);
/// Outline of the image frame in the canvas view.
pub const IMAGE_FRAME: Color32 = Color32::from_rgb(90, 92, 100);

/// Outline of picked gallery tiles and the compare split line.
pub const SELECTION: Color32 = Color32::from_rgb(90, 170, 255);

/// Applies the studio's visuals to the context.
pub fn apply(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
}
