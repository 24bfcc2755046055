//! Product masks: alpha, keying, grow/shrink, feather, brush and build order.

use crate::common::product_images;

use adstudio::product::{
    alpha_mask, base_mask, build_mask, feather, grow_shrink, key_background, refine_base,
    BrushMode, BrushStroke, KeySettings, MaskEdits, MaskSettings, MaskSource, MaskSourceChoice,
    ProductError, ProductImage, SourceInfo,
};
use image::{GrayImage, Luma, RgbaImage};
use product_images::{area, cutout, disc, iou, noise_image, on_backdrop, rounded_rect};

const STUDIO_BLUE: [u8; 3] = [40, 90, 160];

fn product_image(rgba: RgbaImage, has_transparency: bool) -> ProductImage {
    let (width, height) = rgba.dimensions();
    ProductImage {
        rgba,
        has_transparency,
        info: SourceInfo {
            format: "PNG".into(),
            color_type: "Rgba8".into(),
            width,
            height,
            orientation_applied: false,
        },
    }
}

/// A red bottle-like body with an enclosed white label.
fn labelled_product() -> (GrayImage, RgbaImage) {
    let body = rounded_rect(200, 160, [40.0, 20.0, 160.0, 140.0], 18.0);
    let label = rounded_rect(200, 160, [65.0, 55.0, 135.0, 105.0], 4.0);
    let photo = on_backdrop(
        &body,
        |x, y| {
            if label.get_pixel(x, y).0[0] >= 128 {
                [255, 255, 255]
            } else {
                [190, 30, 40]
            }
        },
        [255, 255, 255],
        0,
        7,
    );
    (body, photo)
}

#[test]
fn alpha_mask_is_the_alpha_channel() {
    let truth = disc(64, 64, 32.0, 32.0, 20.0);
    let img = cutout(&truth, [10, 200, 30], [99, 99, 99]);
    assert_eq!(alpha_mask(&img), truth);
}

#[test]
fn keying_on_pure_white_recovers_the_product() {
    let truth = disc(160, 120, 80.0, 60.0, 40.0);
    let photo = on_backdrop(&truth, |_, _| [30, 120, 60], [255, 255, 255], 0, 1);
    let mask = key_background(&photo, &KeySettings::default()).expect("key");
    let score = iou(&mask, &truth);
    assert!(score >= 0.97, "IoU {score}");
    // The corners are background, the centre is product.
    assert_eq!(mask.get_pixel(0, 0).0[0], 0);
    assert_eq!(mask.get_pixel(80, 60).0[0], 255);
}

#[test]
fn keying_on_a_noisy_studio_backdrop_recovers_the_product() {
    let truth = rounded_rect(180, 140, [30.0, 25.0, 150.0, 115.0], 20.0);
    let photo = on_backdrop(&truth, |_, _| [230, 200, 60], STUDIO_BLUE, 3, 2);
    let mask = key_background(&photo, &KeySettings::default()).expect("key");
    let score = iou(&mask, &truth);
    assert!(score >= 0.97, "IoU {score}");
}

#[test]
fn keyed_edge_is_soft_and_follows_coverage() {
    let truth = disc(160, 120, 80.0, 60.0, 40.0);
    let photo = on_backdrop(&truth, |_, _| [20, 20, 20], [255, 255, 255], 0, 1);
    let mask = key_background(&photo, &KeySettings::default()).expect("key");
    let partial = mask.pixels().filter(|p| p.0[0] > 0 && p.0[0] < 255).count();
    assert!(partial > 100, "only {partial} soft edge pixels");
    // On edge pixels the estimated alpha is close to the true coverage.
    let mut worst = 0i32;
    for (m, t) in mask.pixels().zip(truth.pixels()) {
        if t.0[0] > 64 && t.0[0] < 192 {
            worst = worst.max((i32::from(m.0[0]) - i32::from(t.0[0])).abs());
        }
    }
    assert!(worst <= 40, "edge alpha off by up to {worst}");
}

#[test]
fn enclosed_white_label_stays_product() {
    let (body, photo) = labelled_product();
    let mask = key_background(&photo, &KeySettings::default()).expect("key");
    assert!(iou(&mask, &body) >= 0.97, "IoU {}", iou(&mask, &body));
    for y in 60..100 {
        for x in 70..130 {
            assert_eq!(mask.get_pixel(x, y).0[0], 255, "label pixel ({x}, {y})");
        }
    }
}

#[test]
fn tolerance_decides_what_counts_as_background() {
    // A very light grey product on white: 30 levels away from the backdrop.
    let truth = disc(120, 120, 60.0, 60.0, 30.0);
    let photo = on_backdrop(&truth, |_, _| [225, 225, 225], [255, 255, 255], 0, 3);
    let tight = key_background(&photo, &KeySettings { tolerance: 12.0 }).expect("key");
    assert!(iou(&tight, &truth) >= 0.95, "IoU {}", iou(&tight, &truth));
    let loose = key_background(&photo, &KeySettings { tolerance: 40.0 });
    assert!(matches!(loose, Err(ProductError::NoProduct)), "{loose:?}");
}

#[test]
fn busy_border_is_not_keyable() {
    let err = key_background(&noise_image(80, 60, 4), &KeySettings::default()).expect_err("busy");
    match err {
        ProductError::NoKeyableBackground { detail } => assert!(detail.contains('%'), "{detail}"),
        other => panic!("expected NoKeyableBackground, got {other:?}"),
    }
}

#[test]
fn blank_backdrop_has_no_product() {
    let photo = on_backdrop(&GrayImage::new(50, 40), |_, _| [0, 0, 0], STUDIO_BLUE, 3, 5);
    let err = key_background(&photo, &KeySettings::default()).expect_err("blank");
    assert!(matches!(err, ProductError::NoProduct), "{err:?}");
}

fn disc_radius(mask: &GrayImage) -> f64 {
    (area(mask) as f64 / std::f64::consts::PI).sqrt()
}

#[test]
fn grow_and_shrink_move_the_edge_by_about_n_pixels() {
    let mask = disc(160, 160, 80.0, 80.0, 40.0);
    let r0 = disc_radius(&mask);
    let grown = grow_shrink(&mask, 6);
    let shrunk = grow_shrink(&mask, -6);
    let (rg, rs) = (disc_radius(&grown), disc_radius(&shrunk));
    assert!(
        (rg - (r0 + 6.0)).abs() <= 1.0,
        "grown radius {rg}, from {r0}"
    );
    assert!(
        (rs - (r0 - 6.0)).abs() <= 1.0,
        "shrunk radius {rs}, from {r0}"
    );
    assert_eq!(grow_shrink(&mask, 0), mask);
}

#[test]
fn feather_softens_the_edge_but_keeps_the_interior() {
    let mask = disc(120, 120, 60.0, 60.0, 35.0);
    let soft = feather(&mask, 6.0);
    let partial = |m: &GrayImage| m.pixels().filter(|p| p.0[0] > 0 && p.0[0] < 255).count();
    assert!(
        partial(&soft) > 3 * partial(&mask),
        "{} vs {}",
        partial(&soft),
        partial(&mask)
    );
    assert_eq!(soft.get_pixel(60, 60).0[0], 255);
    assert_eq!(soft.get_pixel(60, 40).0[0], 255);
    assert_eq!(soft.get_pixel(2, 2).0[0], 0);
    assert_eq!(feather(&mask, 0.0), mask);
    // Area at the 50 % level is kept.
    let ratio = area(&soft) as f64 / area(&mask) as f64;
    assert!((ratio - 1.0).abs() < 0.03, "area ratio {ratio}");
}

fn stroke(mode: BrushMode, points: Vec<[f32; 2]>) -> BrushStroke {
    BrushStroke {
        mode,
        radius: 6.0,
        hardness: 0.8,
        points,
    }
}

#[test]
fn brush_paints_and_erases_along_the_polyline() {
    let mut mask = GrayImage::new(100, 60);
    stroke(BrushMode::Product, vec![[10.0, 30.0], [90.0, 30.0]]).apply(&mut mask);
    for x in 10..90 {
        assert_eq!(mask.get_pixel(x, 30).0[0], 255, "x={x}");
    }
    assert_eq!(mask.get_pixel(50, 45).0[0], 0);
    // Soft edge: the brush has intermediate values near its radius.
    assert!((0..60).any(|y| {
        let v = mask.get_pixel(50, y).0[0];
        v > 0 && v < 255
    }));
    stroke(BrushMode::Background, vec![[50.0, 10.0], [50.0, 50.0]]).apply(&mut mask);
    assert_eq!(mask.get_pixel(50, 30).0[0], 0);
    assert_eq!(mask.get_pixel(20, 30).0[0], 255);
}

#[test]
fn repeated_dabs_do_not_accumulate() {
    let s = BrushStroke {
        mode: BrushMode::Product,
        radius: 8.0,
        hardness: 0.2,
        points: vec![[20.0, 20.0], [40.0, 22.0], [20.0, 20.0], [40.0, 22.0]],
    };
    let mut once = GrayImage::new(64, 48);
    s.apply(&mut once);
    let mut twice = once.clone();
    s.apply(&mut twice);
    assert_eq!(once, twice);
}

#[test]
fn undo_restores_bit_exactly_and_redo_reapplies() {
    let truth = disc(120, 100, 60.0, 50.0, 30.0);
    let img = product_image(cutout(&truth, [200, 10, 10], [0, 0, 0]), true);
    let settings = MaskSettings::default();
    let mut edits = MaskEdits::default();
    let before = build_mask(&img, &settings, &edits).expect("mask").mask;
    assert!(!edits.can_undo() && !edits.can_redo() && edits.is_empty());

    edits.push(stroke(
        BrushMode::Background,
        vec![[40.0, 50.0], [80.0, 50.0]],
    ));
    let edited = build_mask(&img, &settings, &edits).expect("mask").mask;
    assert_ne!(edited, before);
    assert_eq!(edited.get_pixel(60, 50).0[0], 0);

    assert!(edits.undo());
    assert_eq!(
        build_mask(&img, &settings, &edits).expect("mask").mask,
        before
    );
    assert!(edits.can_redo() && !edits.can_undo());
    assert!(!edits.undo());

    assert!(edits.redo());
    assert_eq!(
        build_mask(&img, &settings, &edits).expect("mask").mask,
        edited
    );
    assert!(!edits.redo());

    // A new stroke after undo drops the redo history.
    assert!(edits.undo());
    edits.push(stroke(BrushMode::Product, vec![[5.0, 5.0]]));
    assert!(!edits.can_redo());
    assert_eq!(edits.strokes().len(), 1);
}

#[test]
fn auto_source_picks_alpha_or_key() {
    let truth = disc(100, 80, 50.0, 40.0, 25.0);
    let transparent = product_image(cutout(&truth, [0, 0, 200], [0, 0, 0]), true);
    let built = build_mask(
        &transparent,
        &MaskSettings::default(),
        &MaskEdits::default(),
    )
    .expect("alpha");
    assert_eq!(built.source, MaskSource::Alpha);
    assert_eq!(built.mask, truth);

    let photo = product_image(
        on_backdrop(&truth, |_, _| [0, 0, 200], [255, 255, 255], 0, 1),
        false,
    );
    let built = build_mask(&photo, &MaskSettings::default(), &MaskEdits::default()).expect("key");
    assert_eq!(built.source, MaskSource::Key);
    assert!(iou(&built.mask, &truth) >= 0.97);

    let forced = MaskSettings {
        source: MaskSourceChoice::Alpha,
        ..MaskSettings::default()
    };
    let built = build_mask(&photo, &forced, &MaskEdits::default()).expect("forced alpha");
    assert_eq!(built.source, MaskSource::Alpha);
    assert!(built.mask.pixels().all(|p| p.0[0] == 255));
}

#[test]
fn build_order_is_grow_then_brush_then_feather() {
    let truth = disc(120, 100, 60.0, 50.0, 30.0);
    let img = product_image(cutout(&truth, [200, 10, 10], [0, 0, 0]), true);
    let mut edits = MaskEdits::default();
    edits.push(BrushStroke {
        mode: BrushMode::Background,
        radius: 4.0,
        hardness: 1.0,
        points: vec![[60.0, 50.0]],
    });
    let settings = MaskSettings {
        grow_px: 5,
        ..MaskSettings::default()
    };
    let built = build_mask(&img, &settings, &edits).expect("mask");
    // Growing happened before the brush, so the erased hole stays a hole.
    assert_eq!(built.mask.get_pixel(60, 50).0[0], 0);
    assert!(area(&built.mask) > area(&truth));

    let feathered = MaskSettings {
        feather_px: 4.0,
        ..settings
    };
    let soft = build_mask(&img, &feathered, &edits).expect("mask").mask;
    // Feather came last: the hard hole edge is now soft.
    let v = soft.get_pixel(60, 50).0[0];
    assert!(v > 0 && v < 128, "hole centre after feather: {v}");
}

#[test]
fn cached_base_gives_the_same_result() {
    let (_, photo) = labelled_product();
    let img = product_image(photo, false);
    let settings = MaskSettings {
        grow_px: 2,
        feather_px: 1.5,
        ..MaskSettings::default()
    };
    let mut edits = MaskEdits::default();
    edits.push(stroke(BrushMode::Background, vec![[100.0, 30.0]]));
    let base = base_mask(&img, &settings).expect("base");
    assert_eq!(base.source, MaskSource::Key);
    let cached = refine_base(&base, &settings, &edits).expect("refine");
    let full = build_mask(&img, &settings, &edits).expect("build");
    assert_eq!(cached.mask, full.mask);
    assert_eq!(cached.source, full.source);
}

#[test]
fn brush_can_rescue_an_unkeyable_photo() {
    let img = product_image(noise_image(80, 60, 9), false);
    let mut edits = MaskEdits::default();
    let err = build_mask(&img, &MaskSettings::default(), &edits).expect_err("busy");
    assert!(matches!(err, ProductError::NoKeyableBackground { .. }));
    edits.push(BrushStroke {
        mode: BrushMode::Product,
        radius: 10.0,
        hardness: 1.0,
        points: vec![[40.0, 30.0]],
    });
    let built = build_mask(&img, &MaskSettings::default(), &edits).expect("painted");
    assert_eq!(built.mask.get_pixel(40, 30).0[0], 255);
    assert_eq!(built.mask.get_pixel(2, 2).0[0], 0);
}

#[test]
fn brush_erasing_everything_gives_no_product() {
    let truth = disc(60, 60, 30.0, 30.0, 10.0);
    let img = product_image(cutout(&truth, [200, 10, 10], [0, 0, 0]), true);
    let mut edits = MaskEdits::default();
    edits.push(BrushStroke {
        mode: BrushMode::Background,
        radius: 30.0,
        hardness: 1.0,
        points: vec![[30.0, 30.0]],
    });
    let err = build_mask(&img, &MaskSettings::default(), &edits).expect_err("erased");
    assert!(matches!(err, ProductError::NoProduct));
}

#[test]
fn settings_and_edits_round_trip_through_json() {
    let settings = MaskSettings {
        source: MaskSourceChoice::Key,
        key: KeySettings { tolerance: 31.5 },
        grow_px: -3,
        feather_px: 2.5,
    };
    let json = serde_json::to_string(&settings).expect("json");
    assert_eq!(
        serde_json::from_str::<MaskSettings>(&json).expect("back"),
        settings
    );
    assert_eq!(
        serde_json::from_str::<MaskSettings>("{}").expect("defaults"),
        MaskSettings::default()
    );
    assert_eq!(MaskSettings::default().source, MaskSourceChoice::Auto);
    assert!((KeySettings::default().tolerance - 24.0).abs() < f32::EPSILON);

    let mut edits = MaskEdits::default();
    edits.push(stroke(BrushMode::Product, vec![[1.0, 2.0], [3.0, 4.0]]));
    edits.push(stroke(BrushMode::Background, vec![[5.0, 6.0]]));
    edits.undo();
    let json = serde_json::to_string(&edits).expect("json");
    let back: MaskEdits = serde_json::from_str(&json).expect("back");
    assert_eq!(back, edits);
    assert!(back.can_redo());
}

#[test]
fn keying_ignores_already_transparent_pixels() {
    let truth = disc(80, 80, 40.0, 40.0, 20.0);
    let mut photo = on_backdrop(&truth, |_, _| [0, 150, 0], [255, 255, 255], 0, 1);
    photo.put_pixel(40, 40, image::Rgba([0, 150, 0, 0]));
    let mask = key_background(&photo, &KeySettings::default()).expect("key");
    assert_eq!(mask.get_pixel(40, 40), &Luma([0]));
    assert_eq!(mask.get_pixel(41, 40), &Luma([255]));
}
