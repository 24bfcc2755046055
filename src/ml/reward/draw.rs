//! Tiny anti-aliased rasteriser used by the synthetic click world: flat
//! shapes and gradients on an RGB canvas, with 4x4 supersampling on shape
//! edges.

use image::RgbImage;

/// Shape of a synthetic product (one per product, shared by its creatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProductShape {
    /// A disc.
    Circle,
    /// An axis-aligned square.
    Square,
    /// An upward-pointing triangle.
    Triangle,
    /// A square rotated by 45 degrees.
    Diamond,
    /// A tall rectangle (a bottle).
    Bottle,
}

impl ProductShape {
    /// All shapes, in a fixed order.
    pub const ALL: [ProductShape; 5] = [
        ProductShape::Circle,
        ProductShape::Square,
        ProductShape::Triangle,
        ProductShape::Diamond,
        ProductShape::Bottle,
    ];

    /// Whether the point (`dx`, `dy`), relative to the shape's centre and in
    /// units of its radius, lies inside the shape.
    pub fn contains(self, dx: f32, dy: f32) -> bool {
        match self {
            ProductShape::Circle => dx * dx + dy * dy <= 1.0,
            ProductShape::Square => dx.abs() <= 0.85 && dy.abs() <= 0.85,
            ProductShape::Diamond => dx.abs() + dy.abs() <= 1.0,
            ProductShape::Triangle => (-1.0..=0.8).contains(&dy) && dx.abs() <= (dy + 1.0) / 1.8,
            ProductShape::Bottle => dx.abs() <= 0.45 && dy.abs() <= 1.0,
        }
    }
}

/// Converts HSV (hue in degrees, saturation and value in [0, 1]) to linear
/// RGB components in [0, 1].
pub fn hsv_to_rgb(hue_deg: f32, s: f32, v: f32) -> [f32; 3] {
    let h = hue_deg.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r + m, g + m, b + m]
}

/// A floating-point RGB canvas.
#[derive(Debug, Clone)]
pub struct Canvas {
    size: u32,
    px: Vec<[f32; 3]>,
}

/// A shape to draw: where, how big, which colour.
#[derive(Debug, Clone, Copy)]
pub struct ShapeSpec {
    /// The outline.
    pub shape: ProductShape,
    /// Centre x in canvas fractions (0 = left edge, 1 = right edge).
    pub cx: f32,
    /// Centre y in canvas fractions (0 = top edge).
    pub cy: f32,
    /// Radius in canvas fractions.
    pub radius: f32,
    /// Fill colour, RGB in [0, 1].
    pub color: [f32; 3],
}

impl Canvas {
    /// A canvas filled with a vertical gradient from `top` to `bottom`.
    pub fn gradient(size: u32, top: [f32; 3], bottom: [f32; 3]) -> Self {
        let n = size as usize;
        let mut px = Vec::with_capacity(n * n);
        for y in 0..n {
            let t = (y as f32 + 0.5) / n as f32;
            let c = [
                top[0] + (bottom[0] - top[0]) * t,
                top[1] + (bottom[1] - top[1]) * t,
                top[2] + (bottom[2] - top[2]) * t,
            ];
            px.extend(std::iter::repeat_n(c, n));
        }
        Self { size, px }
    }

    /// Draws a filled shape with 4x4 supersampled edges.
    pub fn draw(&mut self, spec: &ShapeSpec) {
        let n = self.size as f32;
        let r = (spec.radius * n).max(0.5);
        let (cx, cy) = (spec.cx * n, spec.cy * n);
        let x0 = ((cx - r).floor().max(0.0)) as usize;
        let y0 = ((cy - r).floor().max(0.0)) as usize;
        let x1 = ((cx + r).ceil().min(n)) as usize;
        let y1 = ((cy + r).ceil().min(n)) as usize;
        for y in y0..y1 {
            for x in x0..x1 {
                let mut hits = 0u32;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let px = x as f32 + (sx as f32 + 0.5) / 4.0;
                        let py = y as f32 + (sy as f32 + 0.5) / 4.0;
                        if spec.shape.contains((px - cx) / r, (py - cy) / r) {
                            hits += 1;
                        }
                    }
                }
                if hits > 0 {
                    let a = hits as f32 / 16.0;
                    let p = &mut self.px[y * self.size as usize + x];
                    for (c, s) in p.iter_mut().zip(spec.color) {
                        *c = *c * (1.0 - a) + s * a;
                    }
                }
            }
        }
    }

    /// Converts to an 8-bit RGB image.
    pub fn into_image(self) -> RgbImage {
        let mut img = RgbImage::new(self.size, self.size);
        for (dst, src) in img.pixels_mut().zip(self.px) {
            dst.0 = src.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8);
        }
        img
    }
}
