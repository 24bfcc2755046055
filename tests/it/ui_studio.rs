//! The studio window, driven headless with egui_kittest: open a product by
//! dropping it, toggle the mask overlay, paint a brush stroke, undo/redo,
//! and reopen the stored product after a restart.

use crate::common::product_images;
use crate::common::studio;

use std::path::Path;

use adstudio::app::{CanvasView, StudioApp};
use egui::{Modifiers, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use image::GrayImage;
use studio::{drop_file, step_until};

/// The studio on `data_dir` in this file's window size.
fn open_studio(data_dir: &Path) -> Harness<'static, StudioApp> {
    studio::studio(data_dir, egui::vec2(1280.0, 800.0))
}

/// A 200x160 product: an anti-aliased disc of radius 60 on transparency.
fn draw_product(path: &Path) {
    product_images::save_disc_product(path, 200, 160, 60.0, [200, 60, 40]);
}

fn mask_of(app: &StudioApp) -> GrayImage {
    app.session()
        .and_then(|s| s.mask.as_deref().cloned())
        .expect("a mask is shown")
}

/// A horizontal drag through the middle of the canvas view.
fn paint_across_centre(harness: &mut Harness<'_, StudioApp>) {
    let rect = harness.get_by_label("Canvas view").rect();
    let c = rect.center();
    let start = Pos2::new(c.x - 40.0, c.y);
    harness.hover_at(start);
    harness.step();
    harness.drag_at(start);
    harness.step();
    for i in 1..=8 {
        harness.hover_at(Pos2::new(start.x + i as f32 * 10.0, c.y));
        harness.step();
    }
    harness.drop_at(Pos2::new(start.x + 80.0, c.y));
    harness.step();
}

#[test]
fn drop_toggle_overlay_paint_undo_redo_and_reopen_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product = dir.path().join("red_disc.png");
    draw_product(&product);
    let data = dir.path().join("data");
    let mut harness = open_studio(&data);

    // Dropping the file goes through the drop handler's command.
    drop_file(&mut harness, product);
    step_until(&mut harness, "product opened", |app| {
        app.session().is_some_and(|s| s.mask.is_some())
    });
    let original = mask_of(harness.state());
    assert_eq!(original.dimensions(), (200, 160));
    assert_eq!(
        original.get_pixel(100, 80).0[0],
        255,
        "disc centre is product"
    );
    assert_eq!(original.get_pixel(2, 2).0[0], 0, "corner is background");
    assert_eq!(harness.state().prefs().view, CanvasView::Product);

    // Toggle the mask overlay off and on again by its checkbox.
    assert!(harness.state().prefs().show_mask_overlay);
    harness.get_by_label("Mask overlay").click();
    harness.run_steps(2);
    assert!(!harness.state().prefs().show_mask_overlay);
    harness.get_by_label("Mask overlay").click();
    harness.run_steps(2);
    assert!(harness.state().prefs().show_mask_overlay);

    // Turn the brush on (it paints background by default) and paint.
    harness.get_by_label("Brush").click();
    harness.run_steps(2);
    assert!(harness.state().prefs().brush.enabled);
    paint_across_centre(&mut harness);
    step_until(&mut harness, "stroke applied", |app| {
        app.session().is_some_and(|s| {
            s.product.edits.strokes().len() == 1 && s.shown_generation == s.requested_generation
        })
    });
    let painted = mask_of(harness.state());
    assert_eq!(
        painted.get_pixel(100, 80).0[0],
        0,
        "the stroke through the centre painted background"
    );
    let changed = painted
        .pixels()
        .zip(original.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 500, "only {changed} pixels changed");

    // Ctrl+Z restores the mask bit-exactly; Ctrl+Shift+Z repaints it.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "undo applied", |app| {
        app.session().is_some_and(|s| {
            s.product.edits.strokes().is_empty() && s.shown_generation == s.requested_generation
        })
    });
    assert_eq!(mask_of(harness.state()), original);
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    step_until(&mut harness, "redo applied", |app| {
        app.session().is_some_and(|s| {
            s.product.edits.strokes().len() == 1 && s.shown_generation == s.requested_generation
        })
    });
    assert_eq!(mask_of(harness.state()), painted);

    // The Undo button does the same as Ctrl+Z.
    harness.get_by_label("Undo").click();
    step_until(&mut harness, "undo button applied", |app| {
        app.session().is_some_and(|s| {
            s.product.edits.strokes().is_empty() && s.shown_generation == s.requested_generation
        })
    });
    assert_eq!(mask_of(harness.state()), original);
    harness.get_by_label("Redo").click();
    step_until(&mut harness, "redo button applied", |app| {
        app.session().is_some_and(|s| {
            s.product.edits.strokes().len() == 1 && s.shown_generation == s.requested_generation
        })
    });
    drop(harness);

    // Restart: the product is listed from the store and reopens with its edits.
    let mut harness = open_studio(&data);
    step_until(&mut harness, "products listed", |app| {
        app.products().len() == 1
    });
    assert!(harness.state().session().is_none());
    harness.get_by_label("Products (1)").click();
    harness.run_steps(2);
    harness.get_by_label("red disc").click();
    step_until(&mut harness, "stored product reopened", |app| {
        app.session().is_some_and(|s| s.mask.is_some())
    });
    let session = harness.state().session().expect("session");
    assert_eq!(session.product.edits.strokes().len(), 1);
    assert_eq!(mask_of(harness.state()), painted);
}

#[test]
fn a_corrupt_drop_shows_a_clear_error_and_keeps_the_studio_usable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nthis is not really a png").expect("write");
    let mut harness = open_studio(&dir.path().join("data"));
    drop_file(&mut harness, bad);
    step_until(&mut harness, "error shown", |app| {
        app.status()
            .message
            .as_ref()
            .is_some_and(|(_, is_error)| *is_error)
    });
    let (message, _) = harness.state().status().message.clone().expect("message");
    assert!(
        message.to_lowercase().contains("broken.png") || message.to_lowercase().contains("corrupt"),
        "{message}"
    );
    assert!(harness.state().session().is_none());
    // The message is on screen, in the status bar.
    assert!(harness
        .query_by_label_contains(&message[..message.len().min(20)])
        .is_some());
}
