//! `adstudio prepare`: the CLI writes the canvas, masks, edges and report
//! through the same library code as the studio, and fails clearly.

use std::path::Path;
use std::process::Command;

use adstudio::product::{
    build_mask, load_product_file, prepare_canvas, AspectPreset, CanvasSettings, MaskEdits,
    MaskSettings,
};
use image::{Rgb, RgbImage};

/// A product photo on a flat coloured studio backdrop: a dark-blue bottle
/// with a white label, no alpha channel.
fn draw_opaque_product(path: &Path) {
    let mut img = RgbImage::from_pixel(300, 240, Rgb([40, 150, 90]));
    for y in 30..210 {
        for x in 110..190 {
            img.put_pixel(x, y, Rgb([20, 30, 120]));
        }
    }
    for y in 90..140 {
        for x in 120..180 {
            img.put_pixel(x, y, Rgb([255, 255, 255]));
        }
    }
    img.save(path).expect("save");
}

fn adstudio() -> Command {
    Command::new(env!("CARGO_BIN_EXE_adstudio"))
}

#[test]
fn prepare_writes_the_same_images_as_the_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product = dir.path().join("bottle.png");
    draw_opaque_product(&product);
    let out = dir.path().join("out");
    let status = adstudio()
        .args(["prepare"])
        .arg(&product)
        .args(["--aspect", "4:5", "--out"])
        .arg(&out)
        .env("ADSTUDIO_DATA_DIR", dir.path().join("data"))
        .output()
        .expect("run adstudio");
    assert!(
        status.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    for name in [
        "canvas.png",
        "mask.png",
        "control.png",
        "product_mask.png",
        "prepare.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let canvas = image::open(out.join("canvas.png"))
        .expect("canvas")
        .to_rgba8();
    assert_eq!(canvas.dimensions(), (512, 640));

    // The library, called directly with the same settings, gives the same pixels.
    let image = load_product_file(&product).expect("load");
    let settings = CanvasSettings {
        aspect: AspectPreset::Portrait4x5,
        ..CanvasSettings::default()
    };
    let built = build_mask(&image, &MaskSettings::default(), &MaskEdits::default()).expect("mask");
    let prepared = prepare_canvas(&image.rgba, &built.mask, &settings).expect("canvas");
    assert_eq!(canvas, prepared.placed.rgba);
    let mask = image::open(out.join("mask.png")).expect("mask").to_luma8();
    assert_eq!(mask, prepared.inpaint_mask);
    let control = image::open(out.join("control.png"))
        .expect("control")
        .to_rgb8();
    assert_eq!(control, prepared.control);

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("prepare.json")).expect("json"))
            .expect("parse");
    assert_eq!(report["mask_source"], "Key");
    assert_eq!(report["canvas_size"], serde_json::json!([512, 640]));
}

#[test]
fn prepare_reports_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "just some text, not an image").expect("write");
    let run = adstudio()
        .arg("prepare")
        .arg(&text)
        .args(["--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("run");
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("notes.png"), "{stderr}");

    let unknown = adstudio()
        .args(["prepare", "x.png", "--aspect", "3:2", "--out", "o"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("1.91:1") && stderr.contains("3:2"),
        "{stderr}"
    );

    let missing = adstudio()
        .args(["prepare"])
        .arg(dir.path().join("absent.png"))
        .args(["--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("absent.png"));
}
