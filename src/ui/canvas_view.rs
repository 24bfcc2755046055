//! The canvas view: the product, its mask, the placed canvas, the inpaint
//! mask and the edge image, with zoom, pan and the mask brush.

use egui::{Pos2, Rect, Sense, Stroke, Vec2};

use crate::app::{CanvasView, Command, ProductSession, UiPrefs, SAFE_ZONE_BOTTOM, SAFE_ZONE_TOP};
use crate::product::{AspectPreset, BrushMode, BrushStroke};

use super::theme;

/// Zoom, pan and the stroke being painted: the view's own widget state,
/// kept in egui's memory per product (like a scroll area's offset), not in
/// the app.
#[derive(Debug, Clone)]
pub struct CanvasViewState {
    /// 1.0 fits the image in the view.
    pub zoom: f32,
    /// Offset of the image centre from the view centre, in points.
    pub pan: Vec2,
    /// The stroke being painted, in source-image pixels.
    pub stroke: Option<BrushStroke>,
}

impl Default for CanvasViewState {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            pan: Vec2::ZERO,
            stroke: None,
        }
    }
}

/// Maps between image pixels and screen points for the shown image.
#[derive(Debug, Clone, Copy)]
struct ImageFrame {
    rect: Rect,
    image_size: Vec2,
}

impl ImageFrame {
    fn to_image(self, pos: Pos2) -> [f32; 2] {
        let rel = (pos - self.rect.min) / self.rect.size();
        [rel.x * self.image_size.x, rel.y * self.image_size.y]
    }

    fn to_screen(self, px: [f32; 2]) -> Pos2 {
        self.rect.min + Vec2::new(px[0], px[1]) / self.image_size * self.rect.size()
    }

    fn points_per_pixel(self) -> f32 {
        self.rect.width() / self.image_size.x
    }
}

/// Draws the canvas view.
pub fn canvas_view_ui(
    ui: &mut egui::Ui,
    session: Option<&ProductSession>,
    prefs: &UiPrefs,
    commands: &mut Vec<Command>,
) {
    let id = ui.make_persistent_id(("canvas-view", session.map(|s| s.product.id.0)));
    let mut state: CanvasViewState = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
    canvas_with_state(ui, session, prefs, &mut state, commands);
    ui.data_mut(|d| d.insert_temp(id, state));
}

fn canvas_with_state(
    ui: &mut egui::Ui,
    session: Option<&ProductSession>,
    prefs: &UiPrefs,
    state: &mut CanvasViewState,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        for view in CanvasView::ALL {
            if ui
                .selectable_label(prefs.view == view, view.label())
                .clicked()
            {
                commands.push(Command::SetView(view));
            }
        }
        ui.separator();
        if ui.button("Fit").clicked() {
            state.zoom = 1.0;
            state.pan = Vec2::ZERO;
        }
        if ui
            .button("−")
            .on_hover_text("Zoom out (or scroll)")
            .clicked()
        {
            state.zoom = (state.zoom / 1.25).max(0.1);
        }
        if ui
            .button("+")
            .on_hover_text("Zoom in (or scroll)")
            .clicked()
        {
            state.zoom = (state.zoom * 1.25).min(40.0);
        }
        ui.label(format!("{:.0}%", state.zoom * 100.0));
        if session.is_some_and(is_story) {
            ui.separator();
            let mut show = prefs.show_safe_zones;
            if ui
                .checkbox(&mut show, "Safe zones")
                .on_hover_text(safe_zone_hint())
                .changed()
            {
                commands.push(Command::ShowSafeZones(show));
            }
        }
    });
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Canvas view"));
    painter.rect_filled(response.rect, 0.0, theme::CANVAS_BACKGROUND);
    let Some(session) = session else {
        painter.text(
            response.rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a product image here",
            egui::FontId::proportional(18.0),
            theme::HINT_TEXT,
        );
        return;
    };
    let Some(texture) = shown_texture(session, prefs.view) else {
        let text = session.mask_error.as_deref().unwrap_or("Preparing…");
        painter.text(
            response.rect.center(),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(16.0),
            theme::ERROR_TEXT,
        );
        return;
    };
    handle_zoom_pan(ui, &response, state, prefs.brush.enabled);
    let frame = image_frame(response.rect, texture.size_vec2(), state);
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    let painter = painter.with_clip_rect(response.rect);
    painter.image(texture.id(), frame.rect, uv, egui::Color32::WHITE);
    if prefs.view == CanvasView::Product && prefs.show_mask_overlay {
        if let Some(overlay) = &session.textures.overlay {
            painter.image(overlay.id(), frame.rect, uv, egui::Color32::WHITE);
        }
    }
    painter.rect_stroke(
        frame.rect,
        0.0,
        Stroke::new(1.0, theme::IMAGE_FRAME),
        egui::StrokeKind::Outside,
    );
    let canvas_sized = prefs.view != CanvasView::Product;
    if canvas_sized && prefs.show_safe_zones && is_story(session) {
        safe_zones_ui(ui, &painter, frame.rect, response.rect);
    }
    if prefs.brush.enabled && matches!(prefs.view, CanvasView::Product | CanvasView::Canvas) {
        brush_ui(&painter, &response, frame, session, prefs, state, commands);
    }
}

/// Whether the product's canvas is a 9:16 Stories/Reels canvas.
fn is_story(session: &ProductSession) -> bool {
    session.product.canvas_settings.aspect == AspectPreset::Story9x16
}

fn safe_zone_hint() -> String {
    format!(
        "Stories/Reels: keep key content out of the top {:.0}% and the bottom {:.0}% \
         (the platform draws its name, buttons and captions there)",
        SAFE_ZONE_TOP * 100.0,
        SAFE_ZONE_BOTTOM * 100.0
    )
}

/// Shades the top and bottom bands of a 9:16 canvas that Stories/Reels
/// cover with their own interface, each labelled (a label widget, so the
/// overlay is in the accessibility tree).
fn safe_zones_ui(ui: &mut egui::Ui, painter: &egui::Painter, image: Rect, view: Rect) {
    let h = image.height();
    let top = Rect::from_min_max(
        image.min,
        egui::pos2(image.max.x, image.min.y + h * SAFE_ZONE_TOP),
    );
    let bottom = Rect::from_min_max(
        egui::pos2(image.min.x, image.max.y - h * SAFE_ZONE_BOTTOM),
        image.max,
    );
    for (band, text) in [
        (top, "safe zone: top 14%"),
        (bottom, "safe zone: bottom 20%"),
    ] {
        painter.rect_filled(band, 0.0, theme::SAFE_ZONE_FILL);
        painter.rect_stroke(
            band,
            0.0,
            Stroke::new(1.0, theme::SAFE_ZONE_LINE),
            egui::StrokeKind::Inside,
        );
        let shown = band.intersect(view);
        if shown.height() > 14.0 && shown.width() > 0.0 {
            let label = egui::Label::new(egui::RichText::new(text).color(theme::SAFE_ZONE_LINE))
                .selectable(false);
            ui.put(shown, label);
        }
    }
}

fn shown_texture(session: &ProductSession, view: CanvasView) -> Option<&egui::TextureHandle> {
    match view {
        CanvasView::Product => Some(&session.textures.source),
        CanvasView::Canvas => session.textures.canvas.as_ref(),
        CanvasView::InpaintMask => session.textures.inpaint.as_ref(),
        CanvasView::Control => session.textures.control.as_ref(),
    }
}

fn image_frame(area: Rect, image_size: Vec2, state: &CanvasViewState) -> ImageFrame {
    let fit = (area.width() / image_size.x).min(area.height() / image_size.y);
    let size = image_size * fit * state.zoom;
    let rect = Rect::from_center_size(area.center() + state.pan, size);
    ImageFrame { rect, image_size }
}

fn handle_zoom_pan(
    ui: &egui::Ui,
    response: &egui::Response,
    state: &mut CanvasViewState,
    brush: bool,
) {
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        let zoom_delta = ui.input(|i| i.zoom_delta());
        let factor = zoom_delta * (scroll / 400.0).exp();
        if (factor - 1.0).abs() > f32::EPSILON {
            let new_zoom = (state.zoom * factor).clamp(0.1, 40.0);
            // Keep the point under the cursor still while zooming.
            if let Some(pointer) = response.hover_pos() {
                let from_centre = pointer - response.rect.center() - state.pan;
                state.pan -= from_centre * (new_zoom / state.zoom - 1.0);
            }
            state.zoom = new_zoom;
        }
    }
    let pans = response.dragged_by(egui::PointerButton::Secondary)
        || response.dragged_by(egui::PointerButton::Middle)
        || (!brush && response.dragged_by(egui::PointerButton::Primary));
    if pans {
        state.pan += response.drag_delta();
    }
}

/// Source-image coordinates of a point in the shown view.
fn to_source(
    session: &ProductSession,
    view: CanvasView,
    frame: ImageFrame,
    pos: Pos2,
) -> Option<[f32; 2]> {
    let px = frame.to_image(pos);
    match view {
        CanvasView::Product => Some(px),
        CanvasView::Canvas => session
            .prepared
            .as_ref()
            .map(|p| p.placed.placement.canvas_to_source(px)),
        CanvasView::InpaintMask | CanvasView::Control => None,
    }
}

/// Source pixels to screen points in the shown view.
fn source_scale(session: &ProductSession, view: CanvasView, frame: ImageFrame) -> f32 {
    let canvas_scale = match view {
        CanvasView::Canvas => session
            .prepared
            .as_ref()
            .map_or(1.0, |p| p.placed.placement.scale),
        _ => 1.0,
    };
    frame.points_per_pixel() * canvas_scale
}

fn brush_ui(
    painter: &egui::Painter,
    response: &egui::Response,
    frame: ImageFrame,
    session: &ProductSession,
    prefs: &UiPrefs,
    state: &mut CanvasViewState,
    commands: &mut Vec<Command>,
) {
    let brush = prefs.brush;
    let color = match brush.mode {
        BrushMode::Product => theme::BRUSH_PRODUCT,
        BrushMode::Background => theme::BRUSH_BACKGROUND,
    };
    let radius_points = brush.radius * source_scale(session, prefs.view, frame);
    if let Some(pointer) = response.hover_pos() {
        painter.circle_stroke(pointer, radius_points, Stroke::new(1.5, color));
    }
    let pointer = response.interact_pointer_pos();
    if response.drag_started_by(egui::PointerButton::Primary) {
        state.stroke = Some(BrushStroke {
            mode: brush.mode,
            radius: brush.radius,
            hardness: brush.hardness,
            points: Vec::new(),
        });
    }
    if let (Some(stroke), Some(pos)) = (state.stroke.as_mut(), pointer) {
        if response.dragged_by(egui::PointerButton::Primary) || response.drag_stopped() {
            if let Some(px) = to_source(session, prefs.view, frame, pos) {
                if stroke.points.last() != Some(&px) {
                    stroke.points.push(px);
                }
            }
        }
    }
    if let Some(stroke) = &state.stroke {
        // Show the stroke being painted until it is committed.
        let to_screen = |p: [f32; 2]| match prefs.view {
            CanvasView::Canvas => session
                .prepared
                .as_ref()
                .map(|prep| frame.to_screen(prep.placed.placement.source_to_canvas(p))),
            _ => Some(frame.to_screen(p)),
        };
        for p in stroke.points.iter().filter_map(|p| to_screen(*p)) {
            painter.circle_filled(p, radius_points, color.gamma_multiply(0.35));
        }
    }
    if response.drag_stopped() {
        if let Some(stroke) = state.stroke.take() {
            if !stroke.points.is_empty() {
                commands.push(Command::CommitStroke(stroke));
            }
        }
    }
}
