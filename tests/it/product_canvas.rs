//! Canvas placement, resampling, inpaint mask, control image and composite.

use crate::common::product_images;

use adstudio::product::{
    alpha_mask, composite, control_image, inpaint_mask, place_product, prepare_canvas,
    AspectPreset, CanvasSettings, ProductError,
};
use image::{GrayImage, Rgb, RgbImage, Rgba, RgbaImage};
use product_images::{alpha_bbox, cutout, disc, rounded_rect};

fn settings(aspect: AspectPreset) -> CanvasSettings {
    CanvasSettings {
        aspect,
        ..CanvasSettings::default()
    }
}

/// A flat-coloured rectangle product with transparent, garbage-coloured
/// surroundings.
fn flat_product(
    w: u32,
    h: u32,
    rect: [f32; 4],
    colour: [u8; 3],
    garbage: [u8; 3],
) -> (RgbaImage, GrayImage) {
    let mask = rounded_rect(w, h, rect, 6.0);
    let img = cutout(&mask, colour, garbage);
    (img, mask)
}

#[test]
fn presets_have_the_stated_sizes() {
    let expected = [
        (AspectPreset::Square, "1:1", (512, 512)),
        (AspectPreset::Portrait4x5, "4:5", (512, 640)),
        (AspectPreset::Landscape191x100, "1.91:1", (976, 512)),
        (AspectPreset::Story9x16, "9:16", (512, 912)),
    ];
    assert_eq!(AspectPreset::ALL.len(), 4);
    for (preset, label, size) in expected {
        assert_eq!(preset.label(), label);
        assert_eq!(AspectPreset::parse(label), Some(preset));
        assert_eq!(preset.size(512), size, "{label}");
    }
    assert_eq!(AspectPreset::parse("3:2"), None);
    assert_eq!(AspectPreset::default(), AspectPreset::Square);
    for short in [100, 500, 513, 768, 1024] {
        for preset in AspectPreset::ALL {
            let (w, h) = preset.size(short);
            assert_eq!(w % 8, 0, "{preset:?} {short}");
            assert_eq!(h % 8, 0, "{preset:?} {short}");
            let s = w.min(h);
            assert!(s.abs_diff(short) <= 4, "{preset:?} {short} -> {s}");
        }
    }
    let json = serde_json::to_string(&CanvasSettings::default()).expect("json");
    let back: CanvasSettings = serde_json::from_str(&json).expect("back");
    assert_eq!(back, CanvasSettings::default());
}

#[test]
fn product_fits_and_is_centred_on_every_preset() {
    // One wide and one tall product.
    let products = [
        flat_product(
            400,
            300,
            [50.0, 100.0, 350.0, 200.0],
            [20, 180, 90],
            [0, 0, 0],
        ),
        flat_product(
            300,
            400,
            [120.0, 40.0, 180.0, 360.0],
            [20, 180, 90],
            [0, 0, 0],
        ),
    ];
    for (img, mask) in &products {
        for preset in AspectPreset::ALL {
            let s = settings(preset);
            let placed = place_product(img, mask, &s).expect("place");
            let (cw, ch) = preset.size(512);
            assert_eq!(placed.rgba.dimensions(), (cw, ch));
            let (x0, y0, x1, y1) = alpha_bbox(&placed.rgba).expect("placed product");
            let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
            let (fw, fh) = (0.78 * cw as f32, 0.78 * ch as f32);
            assert!(
                bw as f32 <= fw + 1.0 && bh as f32 <= fh + 1.0,
                "{preset:?}: {bw}x{bh}"
            );
            // It touches the limit along one axis.
            assert!(
                (bw as f32 - fw).abs() <= 2.0 || (bh as f32 - fh).abs() <= 2.0,
                "{preset:?}: {bw}x{bh}"
            );
            // Centred within one pixel.
            let left = x0 as i64;
            let right = cw as i64 - 1 - x1 as i64;
            let top = y0 as i64;
            let bottom = ch as i64 - 1 - y1 as i64;
            assert!(
                (left - right).abs() <= 1,
                "{preset:?}: left {left} right {right}"
            );
            assert!(
                (top - bottom).abs() <= 1,
                "{preset:?}: top {top} bottom {bottom}"
            );
            let p = placed.placement;
            assert!(p.placed_w.abs_diff(bw) <= 1 && p.placed_h.abs_diff(bh) <= 1);
        }
    }
}

#[test]
fn area_resampling_keeps_the_colour_of_a_flat_product() {
    let colour = [200, 100, 50];
    let (img, mask) = flat_product(1200, 900, [100.0, 100.0, 1100.0, 800.0], colour, [0, 0, 0]);
    let placed = place_product(&img, &mask, &CanvasSettings::default()).expect("place");
    assert!(placed.placement.scale < 0.5);
    let (mut sums, mut weight) = ([0f64; 3], 0f64);
    for p in placed.rgba.pixels() {
        let a = f64::from(p.0[3]);
        if p.0[3] == 255 {
            assert_eq!([p.0[0], p.0[1], p.0[2]], colour);
        }
        for (sum, v) in sums.iter_mut().zip(p.0) {
            *sum += f64::from(v) * a;
        }
        weight += a;
    }
    for c in 0..3 {
        let mean = sums[c] / weight;
        assert!(
            (mean - f64::from(colour[c])).abs() < 0.5,
            "channel {c}: {mean}"
        );
    }
}

#[test]
fn transparent_pixels_never_bleed_into_the_product() {
    let colour = [30, 60, 220];
    for (w, h, rect) in [
        (900, 700, [100.0, 80.0, 800.0, 620.0]),
        (60, 40, [10.0, 8.0, 50.0, 32.0]),
    ] {
        let (clean, mask) = flat_product(w, h, rect, colour, [0, 0, 0]);
        let (dirty, _) = flat_product(w, h, rect, colour, [255, 0, 255]);
        let s = CanvasSettings::default();
        let a = place_product(&clean, &mask, &s).expect("clean");
        let b = place_product(&dirty, &mask, &s).expect("dirty");
        assert_eq!(a.rgba, b.rgba, "{w}x{h}");
        // Every visible pixel has the product colour, including the soft edge.
        for p in a.rgba.pixels().filter(|p| p.0[3] > 0) {
            for (v, want) in p.0.iter().zip(colour) {
                assert!(v.abs_diff(want) <= 1, "{p:?}");
            }
        }
    }
}

#[test]
fn upscaling_a_small_product_stays_flat_inside() {
    let colour = [120, 200, 40];
    let (img, mask) = flat_product(40, 30, [5.0, 5.0, 35.0, 25.0], colour, [255, 255, 255]);
    let placed = place_product(&img, &mask, &CanvasSettings::default()).expect("place");
    assert!(placed.placement.scale > 10.0);
    let centre = placed.rgba.get_pixel(256, 256).0;
    assert_eq!(centre, [colour[0], colour[1], colour[2], 255]);
    let soft = placed
        .rgba
        .pixels()
        .filter(|p| p.0[3] > 0 && p.0[3] < 255)
        .count();
    assert!(
        soft > 100,
        "edge should stay soft when enlarged, {soft} soft pixels"
    );
}

#[test]
fn placement_maps_both_ways() {
    let (img, mask) = flat_product(400, 300, [50.0, 100.0, 350.0, 200.0], [1, 2, 3], [0, 0, 0]);
    let p = place_product(&img, &mask, &CanvasSettings::default())
        .expect("place")
        .placement;
    let q = p.source_to_canvas([p.crop_x as f32, p.crop_y as f32]);
    assert!((q[0] - p.offset_x as f32).abs() < 1e-3 && (q[1] - p.offset_y as f32).abs() < 1e-3);
    let back = p.canvas_to_source(p.source_to_canvas([123.5, 167.25]));
    assert!((back[0] - 123.5).abs() < 1e-3 && (back[1] - 167.25).abs() < 1e-3);
    let json = serde_json::to_string(&p).expect("json");
    assert_eq!(
        serde_json::from_str::<adstudio::product::Placement>(&json).expect("back"),
        p
    );
}

#[test]
fn empty_mask_and_wrong_sizes_are_errors() {
    let img = RgbaImage::from_pixel(50, 40, Rgba([255, 0, 0, 255]));
    let err = place_product(&img, &GrayImage::new(50, 40), &CanvasSettings::default())
        .expect_err("empty");
    assert!(matches!(err, ProductError::NoProduct));
    let err =
        place_product(&img, &GrayImage::new(40, 40), &CanvasSettings::default()).expect_err("size");
    assert!(matches!(err, ProductError::SizeMismatch { .. }), "{err:?}");
    let bad = CanvasSettings {
        fit_fraction: 1.5,
        ..CanvasSettings::default()
    };
    let err = place_product(
        &img,
        &GrayImage::from_pixel(50, 40, image::Luma([255])),
        &bad,
    )
    .expect_err("fit");
    assert!(matches!(err, ProductError::InvalidSettings { .. }));
}

#[test]
fn inpaint_mask_covers_background_and_reaches_into_the_edge() {
    let mask = disc(300, 300, 150.0, 150.0, 120.0);
    let img = cutout(&mask, [200, 50, 50], [0, 0, 0]);
    let placed = place_product(&img, &mask, &CanvasSettings::default()).expect("place");
    let dilate = 10;
    let inpaint = inpaint_mask(&placed, dilate);
    for (p, m) in placed.rgba.pixels().zip(inpaint.pixels()) {
        if p.0[3] == 0 {
            assert_eq!(m.0[0], 255);
        }
    }
    // Walk from the canvas centre to the right along the middle row.
    let y = 256;
    let alpha_at = |x: u32| placed.rgba.get_pixel(x, y).0[3];
    let soft_start = (256..512).find(|&x| alpha_at(x) < 255).expect("edge");
    let transparent = (256..512).find(|&x| alpha_at(x) == 0).expect("outside");
    assert_eq!(
        inpaint.get_pixel(transparent - dilate, y).0[0],
        255,
        "repaint reaches 10 px inside"
    );
    // Along the row, the repaint zone starts about `dilate` pixels before
    // the soft edge (a little more where the edge curves within the square).
    let first_repaint = (256..512)
        .find(|&x| inpaint.get_pixel(x, y).0[0] > 0)
        .expect("repaint");
    let reach = soft_start - first_repaint;
    assert!((dilate..=dilate + 3).contains(&reach), "reach {reach}");
    assert_eq!(inpaint.get_pixel(256, 256).0[0], 0);
    let undilated = inpaint_mask(&placed, 0);
    let alpha = alpha_mask(&placed.rgba);
    for (u, a) in undilated.pixels().zip(alpha.pixels()) {
        assert_eq!(u.0[0], 255 - a.0[0]);
    }
}

#[test]
fn control_image_has_edges_on_the_outline_only() {
    let mask = disc(300, 300, 150.0, 150.0, 120.0);
    let img = cutout(&mask, [230, 200, 40], [255, 255, 255]);
    let placed = place_product(&img, &mask, &CanvasSettings::default()).expect("place");
    let control = control_image(&placed);
    assert_eq!(control.dimensions(), placed.rgba.dimensions());
    assert!(control
        .pixels()
        .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
    assert!(control.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    let alpha = alpha_mask(&placed.rgba);
    let near_outline = |x: u32, y: u32| {
        let (x0, y0) = (x.saturating_sub(3), y.saturating_sub(3));
        let mut any_in = false;
        let mut any_out = false;
        for yy in y0..(y + 4).min(512) {
            for xx in x0..(x + 4).min(512) {
                let a = alpha.get_pixel(xx, yy).0[0];
                any_in |= a >= 128;
                any_out |= a < 128;
            }
        }
        any_in && any_out
    };
    let mut on_outline = 0;
    for (x, y, p) in control.enumerate_pixels() {
        if p.0[0] == 255 {
            assert!(
                near_outline(x, y),
                "edge pixel away from the outline at ({x}, {y})"
            );
            on_outline += 1;
        }
    }
    // The outline of a disc of radius ~200 px is ~1250 px long.
    assert!(on_outline > 800, "only {on_outline} edge pixels");
}

#[test]
fn composite_keeps_product_pixels_exactly() {
    let mask = disc(200, 200, 100.0, 100.0, 80.0);
    let img = RgbaImage::from_fn(200, 200, |x, y| {
        Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            ((x * y) % 256) as u8,
            mask.get_pixel(x, y).0[0],
        ])
    });
    let placed = place_product(&img, &mask, &CanvasSettings::default()).expect("place");
    let generated = RgbImage::from_fn(512, 512, |x, y| Rgb([(x / 2) as u8, 77, (y / 2) as u8]));
    let out = composite(&placed, &generated).expect("composite");
    let mut soft = 0;
    for ((p, g), o) in placed
        .rgba
        .pixels()
        .zip(generated.pixels())
        .zip(out.pixels())
    {
        match p.0[3] {
            255 => assert_eq!([p.0[0], p.0[1], p.0[2]], o.0),
            0 => assert_eq!(g.0, o.0),
            a => {
                soft += 1;
                for c in 0..3 {
                    let expect = (f64::from(p.0[c]) * f64::from(a)
                        + f64::from(g.0[c]) * f64::from(255 - a))
                        / 255.0;
                    assert!((f64::from(o.0[c]) - expect).abs() <= 0.51);
                }
            }
        }
    }
    assert!(soft > 0);
    let err = composite(&placed, &RgbImage::new(256, 256)).expect_err("size");
    assert!(matches!(err, ProductError::SizeMismatch { .. }));
}

#[test]
fn prepare_canvas_bundles_everything() {
    let mask = disc(320, 240, 160.0, 120.0, 90.0);
    let img = cutout(&mask, [90, 90, 200], [0, 0, 0]);
    let s = settings(AspectPreset::Story9x16);
    let prepared = prepare_canvas(&img, &mask, &s).expect("prepare");
    assert_eq!(prepared.placed.rgba.dimensions(), (512, 912));
    assert_eq!(prepared.inpaint_mask.dimensions(), (512, 912));
    assert_eq!(prepared.control.dimensions(), (512, 912));
    assert_eq!(
        prepared.inpaint_mask,
        inpaint_mask(&prepared.placed, s.inpaint_dilate_px)
    );
    assert_eq!(prepared.control, control_image(&prepared.placed));
}
