//! Two images of the same size, one over the other, with a draggable
//! vertical divider: the first image left of it, the second right of it.
//! The gallery's compare view and the labelling mode's split view use it.

use egui::{Color32, Pos2, Rect, Sense, Stroke, TextureHandle};

use super::large_view::fit_rect;
use super::theme;

/// Draws the split slider and the two images in the rest of `ui`, the
/// divider at `split` (0 = all second image, 1 = all first). Returns the
/// new split when the slider or the image was dragged or clicked.
pub fn split_images_ui(
    ui: &mut egui::Ui,
    first: &TextureHandle,
    second: &TextureHandle,
    split: f32,
) -> Option<f32> {
    let mut split = split.clamp(0.0, 1.0);
    let mut changed = ui
        .add(egui::Slider::new(&mut split, 0.0..=1.0).text("Split"))
        .changed();
    let area = ui.available_rect_before_wrap();
    let rect = fit_rect(area, first.size_vec2());
    let response = ui.allocate_rect(area, Sense::click_and_drag());
    if response.dragged() || response.clicked() {
        if let Some(pos) = response.interact_pointer_pos() {
            split = ((pos.x - rect.left()) / rect.width()).clamp(0.0, 1.0);
            changed = true;
        }
    }
    let split_x = rect.left() + rect.width() * split;
    let left = Rect::from_min_max(rect.min, Pos2::new(split_x, rect.bottom()));
    let right = Rect::from_min_max(Pos2::new(split_x, rect.top()), rect.max);
    let uv = |r: Rect| {
        Rect::from_min_max(
            Pos2::new((r.left() - rect.left()) / rect.width(), 0.0),
            Pos2::new((r.right() - rect.left()) / rect.width(), 1.0),
        )
    };
    let painter = ui.painter_at(area);
    painter.image(first.id(), left, uv(left), Color32::WHITE);
    painter.image(second.id(), right, uv(right), Color32::WHITE);
    painter.line_segment(
        [
            Pos2::new(split_x, rect.top()),
            Pos2::new(split_x, rect.bottom()),
        ],
        Stroke::new(2.0, theme::SELECTION),
    );
    changed.then_some(split)
}
