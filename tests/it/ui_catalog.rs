//! The Catalog window and the Export winners dialog in the studio, under
//! egui_kittest: the catalog lists every stored product with its variant
//! count, best predicted CTR and labelled pairs; a click opens one; an
//! export runs on the worker and its files appear; the Stories/Reels safe
//! zones toggle shows on a 9:16 canvas only.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use adstudio::app::{Command, ExportSettings, StudioApp};
use adstudio::paths::DataDir;
use adstudio::product::{AspectPreset, CanvasSettings};
use adstudio::store::{NewPreference, Outcome, PairItem, Store};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use crate::common::export_store::{product_with_scored_renders, ExportFixture};
use crate::common::studio::{step_until, studio};

/// Two products: "desk lamp" with two 1:1 renders and one 9:16 render (all
/// scored, one pair labelled by a person), and "bare vase" with nothing.
fn catalog_data(data: &Path) -> (ExportFixture, ExportFixture) {
    let lamp = product_with_scored_renders(
        data,
        "desk lamp",
        &[AspectPreset::Square, AspectPreset::Story9x16],
        2,
    );
    let store = Store::open(&DataDir::at(data).unwrap().database_path()).unwrap();
    let (a, b) = (lamp.renders[0].0, lamp.renders[1].0);
    for _ in 0..2 {
        let pref =
            NewPreference::human(PairItem::Render(a), PairItem::Render(b), Outcome::A, "ann");
        store.record_preference(&pref).unwrap();
    }
    let vase = product_with_scored_renders(data, "bare vase", &[], 0);
    (lamp, vase)
}

fn open_catalog(harness: &mut Harness<'static, StudioApp>) {
    harness.get_by_label("Catalog").click();
    step_until(harness, "the catalog listed", |app| {
        app.catalog().open && app.catalog().entries.len() == 2
    });
}

#[test]
fn the_catalog_lists_opens_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (lamp, vase) = catalog_data(&data);
    let mut harness = studio(&data, egui::vec2(1400.0, 900.0));
    step_until(&mut harness, "start-up", |_| true);
    open_catalog(&mut harness);
    let entries = &harness.state().catalog().entries;
    // Newest first.
    assert_eq!(entries[0].id, vase.product);
    assert_eq!((entries[0].variants, entries[0].labelled_pairs), (0, 0));
    assert_eq!(entries[0].best_ctr, None);
    let e = &entries[1];
    assert_eq!((e.id, e.variants, e.labelled_pairs), (lamp.product, 4, 1));
    let best = lamp
        .renders
        .iter()
        .map(|r| 0.02 + 0.01 * r.2.max(0.0))
        .fold(0.0, f64::max);
    assert!(
        (e.best_ctr.unwrap() - best).abs() < 1e-9,
        "{:?} vs {best}",
        e.best_ctr
    );
    assert!(e
        .thumbnail
        .as_ref()
        .is_some_and(|t| t.width() <= 96 && t.height() <= 96));
    harness.get_by_label(&format!("{:.2}%", best * 100.0));

    harness
        .get_by_label(&format!("Open #{}", lamp.product.0))
        .click();
    step_until(&mut harness, "the lamp opened", |app| {
        app.session()
            .is_some_and(|s| s.product.id == lamp.product && s.prepared.is_some())
    });

    let out = tmp.path().join("exports");
    harness
        .state_mut()
        .handle_command(Command::ShowExport(true));
    harness
        .state_mut()
        .handle_command(Command::SetExportSettings(ExportSettings {
            folder: out.display().to_string(),
            top_k: 2,
            ..ExportSettings::default()
        }));
    harness.run_steps(2);
    harness.get_by_label("Stories / Reels 9:16 (1080x1920)");
    harness.get_by_label("Export").click();
    step_until(&mut harness, "the export finished", |app| {
        app.catalog().export.result.is_some()
    });
    let report = harness
        .state()
        .catalog()
        .export
        .result
        .clone()
        .unwrap()
        .unwrap();
    let dir = out.join(lamp.product.0.to_string());
    let mut names: Vec<PathBuf> = report.files.iter().map(|f| f.path.clone()).collect();
    names.sort();
    let expected: Vec<PathBuf> = [
        "rank1-meta-feed.png",
        "rank1-reels.png",
        "rank2-meta-feed.png",
        "rank2-reels.png",
    ]
    .iter()
    .map(|n| dir.join(n))
    .collect();
    assert_eq!(names, expected);
    for path in &expected {
        let img = image::open(path).unwrap();
        let want = if path.to_string_lossy().contains("reels") {
            (1080, 1920)
        } else {
            (1080, 1080)
        };
        assert_eq!((img.width(), img.height()), want, "{}", path.display());
    }
    harness.get_by_label(&format!("4 files written to {}", out.display()));
}

#[test]
fn safe_zones_show_on_story_canvases_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (lamp, _) = catalog_data(&data);
    let mut harness = studio(&data, egui::vec2(1400.0, 900.0));
    harness
        .state_mut()
        .handle_command(Command::OpenStored(lamp.product.0));
    step_until(&mut harness, "the lamp opened", |app| {
        app.session().is_some_and(|s| s.prepared.is_some())
    });
    assert!(harness.query_by_label("Safe zones").is_none(), "not on 1:1");
    let story = CanvasSettings {
        aspect: AspectPreset::Story9x16,
        ..CanvasSettings::default()
    };
    harness
        .state_mut()
        .handle_command(Command::SetCanvasSettings(story));
    harness
        .state_mut()
        .handle_command(Command::SetView(adstudio::app::CanvasView::Canvas));
    step_until(&mut harness, "the 9:16 canvas", |app| {
        app.session()
            .and_then(|s| s.prepared.as_ref())
            .is_some_and(|p| p.placed.rgba.height() == 912)
    });
    assert!(harness.state().prefs().show_safe_zones);
    harness.get_by_label("safe zone: top 14%");
    harness.get_by_label("Safe zones").click();
    harness.run_steps(2);
    assert!(!harness.state().prefs().show_safe_zones);
    assert!(harness.query_by_label("safe zone: top 14%").is_none());
}

/// Writes the data dir the catalog screenshot was taken from
/// (`ADSTUDIO_CATALOG_SHOTS=DIR`; a temporary dir otherwise).
#[test]
fn write_catalog_screenshot_data() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::env::var_os("ADSTUDIO_CATALOG_SHOTS")
        .map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    let (lamp, _) = catalog_data(&root.join("data"));
    product_with_scored_renders(
        &root.join("data"),
        "table clock",
        &[AspectPreset::Portrait4x5],
        3,
    );
    let store = Store::open(&DataDir::at(root.join("data")).unwrap().database_path()).unwrap();
    assert_eq!(store.product_summaries().unwrap().len(), 3);
    assert_eq!(store.renders_for_product(lamp.product).unwrap().len(), 4);
}
