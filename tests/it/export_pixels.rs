//! The winner export (issue #17, point 3): at every export size the
//! product's pixels are the original photo resampled once to that size
//! (exact where the resampled mask is 255), the soft edge is the
//! soft-mask blend of product and upscaled render, and bad input fails
//! cleanly (unwritable folder, no scored renders, a full disk midway:
//! no half files).

#![allow(clippy::unwrap_used)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use adstudio::jobs::{CancelToken, InlineReporter};
use adstudio::paths::DataDir;
use adstudio::product::{place_product, product_alpha, render_layer, AspectPreset, CanvasSettings};
use adstudio::studio::export::{
    export_winners, export_winners_with, Backdrop, ExportError, ExportJob, ExportReport,
    ExportSize, ExportedFile, FileWriter, OutputFormat, ProductSelection,
};
use adstudio::studio::{registry_for, ModelHub, Studio};
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

use crate::common::export_store::{product_with_scored_renders, ExportFixture};

fn studio(dir: &Path) -> Studio {
    let data = DataDir::at(dir).unwrap();
    Studio::open(&data, Arc::new(ModelHub::new(registry_for(Some(&data))))).unwrap()
}

fn job(products: ProductSelection, sizes: &str, top_k: usize, out: &Path) -> ExportJob {
    ExportJob {
        products,
        sizes: ExportSize::parse_list(sizes).unwrap(),
        top_k,
        out_dir: out.to_path_buf(),
        format: OutputFormat::Png,
    }
}

fn run(studio: &Studio, job: &ExportJob) -> Result<ExportReport, ExportError> {
    export_winners(studio, &InlineReporter::new(|_| {}), job)
}

/// The render upscaled with Lanczos3 to cover `size` and centre-cropped,
/// computed here from the render's file.
fn expected_background(render: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (rw, rh) = render.dimensions();
    let k = (f64::from(w) / f64::from(rw)).max(f64::from(h) / f64::from(rh));
    let sw = ((f64::from(rw) * k).round() as u32).max(w);
    let sh = ((f64::from(rh) * k).round() as u32).max(h);
    let up = imageops::resize(render, sw, sh, FilterType::Lanczos3);
    imageops::crop_imm(&up, (sw - w) / 2, (sh - h) / 2, w, h).to_image()
}

/// Checks one exported file against the rule; returns (exact, edge) pixel
/// counts.
fn check_file(fx: &ExportFixture, studio: &Studio, file: &ExportedFile) -> (usize, usize) {
    let out = image::open(&file.path).unwrap().to_rgb8();
    let (w, h) = out.dimensions();
    let size = ExportSize::parse(&file.size).unwrap();
    assert_eq!((w, h), (size.width, size.height), "{}", file.path.display());
    let alpha = product_alpha(&fx.photo, &fx.mask).unwrap();
    // The original photo resampled once to its place at the export size.
    let layer = render_layer(&fx.photo, &alpha, file.map, (w, h)).unwrap();
    let background = match size.backdrop {
        Backdrop::White { .. } => RgbImage::from_pixel(w, h, Rgb([255, 255, 255])),
        Backdrop::Render => {
            let row = studio.store.render(file.render.unwrap()).unwrap().unwrap();
            let render = image::open(&row.image_path).unwrap().to_rgb8();
            expected_background(&render, w, h)
        }
    };
    let (mut exact, mut edge) = (0, 0);
    for (x, y, p) in layer.enumerate_pixels() {
        let a = u32::from(p.0[3]);
        let got = out.get_pixel(x, y).0;
        if a == 255 {
            assert_eq!(got, [p.0[0], p.0[1], p.0[2]], "{} ({x}, {y})", file.size);
            exact += 1;
        } else if a > 0 {
            let b = background.get_pixel(x, y).0;
            let blend: [u8; 3] = std::array::from_fn(|c| {
                ((u32::from(p.0[c]) * a + u32::from(b[c]) * (255 - a) + 127) / 255) as u8
            });
            assert_eq!(got, blend, "{} soft edge ({x}, {y}) alpha {a}", file.size);
            edge += 1;
        } else {
            assert_eq!(
                got,
                background.get_pixel(x, y).0,
                "{} ({x}, {y})",
                file.size
            );
        }
    }
    (exact, edge)
}

/// The product where the export puts it: the 512 canvas placement scaled
/// by the cover factor (render sizes) or centred at 85 % (on white).
fn check_placement(fx: &ExportFixture, file: &ExportedFile, aspect: Option<AspectPreset>) {
    let size = ExportSize::parse(&file.size).unwrap();
    let (w, h) = (f64::from(size.width), f64::from(size.height));
    let m = file.map;
    let x0 = m.origin_x + m.scale * f64::from(bbox(&fx.mask).0);
    let x1 = m.origin_x + m.scale * f64::from(bbox(&fx.mask).2 + 1);
    let y0 = m.origin_y + m.scale * f64::from(bbox(&fx.mask).1);
    let y1 = m.origin_y + m.scale * f64::from(bbox(&fx.mask).3 + 1);
    match aspect {
        None => {
            let fill = ((x1 - x0) / w).max((y1 - y0) / h);
            assert!((fill - 0.85).abs() < 0.002, "marketplace fill {fill}");
            assert!(((x0 + x1) / 2.0 - w / 2.0).abs() < 1.0);
        }
        Some(aspect) => {
            let settings = CanvasSettings {
                aspect,
                ..CanvasSettings::default()
            };
            let placed = place_product(&fx.photo, &fx.mask, &settings)
                .unwrap()
                .placement;
            let (cw, ch) = settings.canvas_size();
            let k = (w / f64::from(cw)).max(h / f64::from(ch));
            let cx0 = f64::from(placed.offset_x) * k - (f64::from(cw) * k - w) / 2.0;
            assert!((x0 - cx0).abs() < 2.0, "{}: left {x0} vs {cx0}", file.size);
        }
    }
}

fn bbox(mask: &image::GrayImage) -> (u32, u32, u32, u32) {
    let on: Vec<(u32, u32)> = mask
        .enumerate_pixels()
        .filter(|p| p.2 .0[0] >= 128)
        .map(|p| (p.0, p.1))
        .collect();
    let xs = on.iter().map(|p| p.0);
    let ys = on.iter().map(|p| p.1);
    (
        xs.clone().min().unwrap(),
        ys.clone().min().unwrap(),
        xs.max().unwrap(),
        ys.max().unwrap(),
    )
}

#[test]
fn product_pixels_are_the_photo_resampled_once_at_every_preset() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &AspectPreset::ALL, 1);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let sizes = "meta-feed,meta-feed-45,reels,link,marketplace";
    let report = run(&studio, &job(ProductSelection::All, sizes, 1, &out)).unwrap();
    assert_eq!(report.files.len(), 5, "{:?}", report.skipped);
    for file in &report.files {
        let (exact, edge) = check_file(&fx, &studio, file);
        assert!(exact > 50_000, "{}: {exact} exact pixels", file.size);
        assert!(edge > 500, "{}: {edge} soft-edge pixels", file.size);
        let aspect = file
            .render
            .map(|r| fx.renders.iter().find(|x| x.0 == r).unwrap().1);
        check_placement(&fx, file, aspect);
    }
    let names: Vec<String> = report
        .files
        .iter()
        .map(|f| f.path.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    let id = fx.product.0;
    assert!(
        names.contains(&format!("{id}/rank1-reels.png")),
        "{names:?}"
    );
    assert!(
        names.contains(&format!("{id}/marketplace.png")),
        "{names:?}"
    );
}

#[test]
fn the_product_is_not_the_canvas_upscaled() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &[AspectPreset::Square], 1);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let report = run(&studio, &job(ProductSelection::All, "meta-feed", 1, &out)).unwrap();
    let file = &report.files[0];
    let exported = image::open(&file.path).unwrap().to_rgb8();
    let row = studio.store.render(file.render.unwrap()).unwrap().unwrap();
    let upscaled =
        expected_background(&image::open(&row.image_path).unwrap().to_rgb8(), 1080, 1080);
    let alpha = product_alpha(&fx.photo, &fx.mask).unwrap();
    let layer = render_layer(&fx.photo, &alpha, file.map, (1080, 1080)).unwrap();
    let (mut diff, mut n) = (0u64, 0u64);
    for (x, y, p) in layer.enumerate_pixels() {
        if p.0[3] == 255 {
            let (a, b) = (exported.get_pixel(x, y).0, upscaled.get_pixel(x, y).0);
            diff += (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
            n += 3;
        }
    }
    let mean = diff as f64 / n as f64;
    assert!(
        mean > 8.0,
        "the product looks upscaled from the canvas (mean diff {mean})"
    );
}

#[test]
fn winners_are_the_top_k_by_stored_score_per_aspect() {
    let dir = tempfile::tempdir().unwrap();
    let aspects = [AspectPreset::Square, AspectPreset::Story9x16];
    let fx = product_with_scored_renders(dir.path(), "lamp", &aspects, 3);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let report = run(
        &studio,
        &job(
            ProductSelection::Ids(vec![fx.product]),
            "meta-feed,reels",
            2,
            &out,
        ),
    )
    .unwrap();
    assert_eq!(report.files.len(), 4);
    for (size, aspect) in [("meta-feed", aspects[0]), ("reels", aspects[1])] {
        let mut expected: Vec<_> = fx.renders.iter().filter(|r| r.1 == aspect).collect();
        expected.sort_by(|a, b| b.2.partial_cmp(&a.2).unwrap());
        for rank in 1..=2 {
            let file = report
                .files
                .iter()
                .find(|f| f.size == size && f.rank == Some(rank))
                .unwrap();
            assert_eq!(
                file.render,
                Some(expected[rank - 1].0),
                "{size} rank {rank}"
            );
            assert!(file
                .path
                .ends_with(format!("{}/rank{rank}-{size}.png", fx.product.0)));
        }
    }
}

#[test]
fn a_size_of_another_aspect_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &[AspectPreset::Square], 1);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let err = run(
        &studio,
        &job(
            ProductSelection::Ids(vec![fx.product]),
            "reels,1600x900",
            1,
            &out,
        ),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ExportError::NothingExported { .. }), "{msg}");
    assert!(
        msg.contains("reels is 1080x1920") && msg.contains("512x512"),
        "{msg}"
    );
    assert!(msg.contains("1600x900"), "{msg}");
    // A custom size of the render's aspect works.
    let report = run(&studio, &job(ProductSelection::All, "800x800", 1, &out)).unwrap();
    assert_eq!(report.files.len(), 1);
    check_file(&fx, &studio, &report.files[0]);
}

#[test]
fn unwritable_output_folder_and_unscored_products_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &[AspectPreset::Square], 1);
    let studio = studio(dir.path());
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = run(
        &studio,
        &job(ProductSelection::All, "meta-feed", 1, &file.join("out")),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::OutputDir { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");

    let bare = product_with_scored_renders(dir.path(), "bare", &[], 0);
    let out = dir.path().join("out");
    let err = run(
        &studio,
        &job(
            ProductSelection::Ids(vec![bare.product]),
            "meta-feed",
            1,
            &out,
        ),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::NoScoredRenders { .. }), "{err}");
    assert!(err.to_string().contains("bare"), "{err}");
    let err = run(
        &studio,
        &job(
            ProductSelection::Ids(vec![adstudio::store::ProductId(999)]),
            "link",
            1,
            &out,
        ),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::UnknownProduct(999)), "{err}");
    // Exporting all: the unscored product is a skip note, the other exports.
    let report = run(&studio, &job(ProductSelection::All, "meta-feed", 1, &out)).unwrap();
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].product, fx.product);
    assert!(
        report.skipped.iter().any(|s| s.contains("bare")),
        "{:?}",
        report.skipped
    );
}

/// Writes half of every file after the first `ok` ones, then fails as a
/// full disk does.
struct FullDisk {
    ok: usize,
    calls: AtomicUsize,
}

impl FileWriter for FullDisk {
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let keep = if n < self.ok {
            bytes.len()
        } else {
            bytes.len() / 2
        };
        std::fs::write(path, &bytes[..keep])?;
        if n < self.ok {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(files_under(&path));
        } else {
            all.push(path);
        }
    }
    all.sort();
    all
}

#[test]
fn a_full_disk_leaves_no_half_file_and_keeps_finished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &[AspectPreset::Square], 3);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let writer = FullDisk {
        ok: 1,
        calls: AtomicUsize::new(0),
    };
    let rep = InlineReporter::new(|_| {});
    let err = export_winners_with(
        &studio,
        &rep,
        &job(ProductSelection::All, "meta-feed", 3, &out),
        &writer,
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("rank2-meta-feed.png"), "{err}");
    let left = files_under(&out);
    let first = out
        .join(fx.product.0.to_string())
        .join("rank1-meta-feed.png");
    assert_eq!(left, vec![first.clone()], "only the finished file stays");
    image::open(&first).unwrap();

    // A cancelled export writes nothing more.
    let cancel = CancelToken::new();
    cancel.cancel();
    let rep = InlineReporter::with_cancel(|_| {}, cancel);
    let err = export_winners(
        &studio,
        &rep,
        &job(ProductSelection::All, "link,meta-feed", 3, &out),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::Cancelled(_)), "{err}");
    assert_eq!(files_under(&out), vec![first]);
}

#[test]
fn jpeg_output_has_the_size_and_extension() {
    let dir = tempfile::tempdir().unwrap();
    let fx = product_with_scored_renders(dir.path(), "lamp", &[AspectPreset::Portrait4x5], 1);
    let studio = studio(dir.path());
    let out = dir.path().join("out");
    let mut j = job(ProductSelection::All, "meta-feed-45", 1, &out);
    j.format = OutputFormat::Jpeg { quality: 90 };
    let report = run(&studio, &j).unwrap();
    let path = out
        .join(fx.product.0.to_string())
        .join("rank1-meta-feed-45.jpg");
    assert_eq!(report.files[0].path, path);
    let img = image::open(&path).unwrap();
    assert_eq!((img.width(), img.height()), (1080, 1350));
}
