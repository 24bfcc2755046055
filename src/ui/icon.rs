//! The window icon, drawn in code (the same drawing is saved as
//! `assets/icon.png` for desktop integration; a test keeps them equal).

use image::{Rgba, RgbaImage};

/// Side of the icon in pixels.
pub const ICON_SIDE: u32 = 64;

/// Draws the icon: a rounded tile with a warm gradient backdrop and a
/// white "product" silhouette standing on it.
pub fn draw_icon() -> RgbaImage {
    let side = ICON_SIDE as f32;
    RgbaImage::from_fn(ICON_SIDE, ICON_SIDE, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        // Rounded-square tile with an anti-aliased edge.
        let r = 12.0;
        let qx = (fx - side / 2.0).abs() - (side / 2.0 - r);
        let qy = (fy - side / 2.0).abs() - (side / 2.0 - r);
        let outside = qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0) - r;
        let tile_alpha = (0.5 - outside).clamp(0.0, 1.0);
        let t = fy / side;
        let back = [
            lerp(255.0, 214.0, t),
            lerp(138.0, 60.0, t),
            lerp(76.0, 110.0, t),
        ];
        // The product: a bottle (body plus neck).
        let body = ((fx - 32.0) / 11.0).powi(2) + ((fy - 40.0) / 15.0).powi(2) <= 1.0;
        let neck = (fx - 32.0).abs() <= 4.0 && (14.0..=28.0).contains(&fy);
        let rgb = if body || neck {
            [250.0, 250.0, 250.0]
        } else {
            back
        };
        Rgba([
            rgb[0] as u8,
            rgb[1] as u8,
            rgb[2] as u8,
            (tile_alpha * 255.0).round() as u8,
        ])
    })
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// The icon in eframe's format.
pub fn icon_data() -> egui::IconData {
    let icon = draw_icon();
    egui::IconData {
        width: icon.width(),
        height: icon.height(),
        rgba: icon.into_raw(),
    }
}
