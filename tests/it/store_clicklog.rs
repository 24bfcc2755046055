//! Click-log imports in the store: one transaction per file, per-row
//! rejections, images copied into the image store, cancel rolls back, and
//! the v2 -> v3 migration keeps existing rows.

#![allow(clippy::unwrap_used)]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use adstudio::store::{
    ClickLogKind, ImageStore, ImportProblem, NewClickImport, NewCreative, Store, StoreError,
    MIGRATIONS, SCHEMA_VERSION,
};
use image::{Rgb, RgbImage};

use crate::common::backends::on_both_backends;

fn draw(dir: &Path, name: &str, shade: u8) -> PathBuf {
    let path = dir.join(name);
    RgbImage::from_pixel(8, 8, Rgb([shade, 40, 200 - shade / 2]))
        .save(&path)
        .unwrap();
    path
}

fn row(line: usize, id: &str, product: &str, image: PathBuf, imp: u64, clicks: u64) -> NewCreative {
    NewCreative {
        line,
        creative_id: id.to_string(),
        product_key: product.to_string(),
        image_source: image,
        impressions: imp,
        clicks,
    }
}

fn import(rows: Vec<NewCreative>) -> NewClickImport {
    NewClickImport {
        file: "clicks.csv".to_string(),
        format: ClickLogKind::Csv,
        rows,
        rejected_while_parsing: 1,
    }
}

on_both_backends! {
    /// Good rows are stored with their images (hash = SHA-256 of the file);
    /// an in-file repeat, a missing image, a non-image file and bad counts are
    /// rejected by line; a second import of a stored id is rejected naming the
    /// first import; `click_imports` counts parser rejections too.
    fn import_keeps_good_rows_and_reports_bad_ones_by_line(db) {
        let dir = tempfile::tempdir().unwrap();
        let images = ImageStore::new(dir.path().join("images"));
        let store = db.open();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let a = draw(dir.path(), "a.png", 10);
        let b = draw(dir.path(), "b.png", 90);
        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not an image").unwrap();
        let summary = store
            .import_click_log(
                &images,
                &import(vec![
                    row(2, "c1", "p1", a.clone(), 2000, 20),
                    row(3, "c2", "p1", b.clone(), 3000, 90),
                    row(4, "c1", "p1", b.clone(), 100, 1),
                    row(5, "c3", "p1", dir.path().join("gone.png"), 100, 1),
                    row(6, "c4", "p2", text, 100, 1),
                    row(7, "c5", "p2", a.clone(), 10, 11),
                ]),
            )
            .unwrap();
        let kept: Vec<usize> = summary.kept.iter().map(|(l, _)| *l).collect();
        assert_eq!(kept, vec![2, 3]);
        let lines: Vec<usize> = summary.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
        assert_eq!(
            summary.rejected[0].problem,
            ImportProblem::DuplicateInFile { first_line: 2 }
        );
        assert!(matches!(
            summary.rejected[1].problem,
            ImportProblem::MissingImage(_)
        ));
        assert!(matches!(
            summary.rejected[2].problem,
            ImportProblem::NotAnImage(_)
        ));
        assert!(matches!(
            summary.rejected[3].problem,
            ImportProblem::BadCounts { .. }
        ));

        let stored = store.creatives().unwrap();
        assert_eq!(stored.len(), 2);
        let c2 = store.creative("c2").unwrap().unwrap();
        assert_eq!((c2.impressions, c2.clicks, c2.line), (3000, 90, 3));
        assert!((c2.ctr() - 0.03).abs() < 1e-12);
        let stored_bytes = std::fs::read(c2.image_path(&images).unwrap()).unwrap();
        assert_eq!(stored_bytes, std::fs::read(&b).unwrap());
        use sha2::Digest as _;
        assert_eq!(
            c2.image_hash,
            hex::encode(sha2::Sha256::digest(&stored_bytes))
        );

        let imports = store.click_imports().unwrap();
        assert_eq!(imports.len(), 1);
        assert_eq!((imports[0].rows_ok, imports[0].rows_rejected), (2, 5));

        // A later import: stored ids are refused (first import wins), new ones kept.
        let again = store
            .import_click_log(
                &images,
                &import(vec![
                    row(2, "c2", "p1", a.clone(), 9000, 9),
                    row(3, "c9", "p3", a, 1500, 15),
                ]),
            )
            .unwrap();
        assert_eq!(again.kept, vec![(3, "c9".to_string())]);
        assert_eq!(
            again.rejected[0].problem,
            ImportProblem::AlreadyImported {
                import_id: summary.import_id
            }
        );
        assert_eq!(store.creative("c2").unwrap().unwrap().impressions, 3000);
        assert_eq!(store.creative_count().unwrap(), 3);
    }
}

on_both_backends! {
    /// Cancelling after two of four rows rolls the whole import back: no
    /// creative and no import record remain (also after reopening the file),
    /// and the same rows import fully afterwards.
    fn cancelled_import_leaves_nothing_half_written(db) {
        let dir = tempfile::tempdir().unwrap();
        let images = ImageStore::new(dir.path().join("images"));
        let store = db.open();
        let rows: Vec<NewCreative> = (0..4)
            .map(|i| {
                let img = draw(dir.path(), &format!("i{i}.png"), 20 * i as u8);
                row(i + 2, &format!("c{i}"), "p1", img, 5000, 50 + i as u64)
            })
            .collect();
        let err = store
            .import_click_log_with(&images, &import(rows.clone()), &mut |done, _| {
                if done == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Cancelled {
                    done: 2,
                    total: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(store.creative_count().unwrap(), 0);
        assert!(store.click_imports().unwrap().is_empty());
        drop(store);
        let store = db.open();
        assert_eq!(store.creative_count().unwrap(), 0);
        assert!(store.click_imports().unwrap().is_empty());
        let summary = store.import_click_log(&images, &import(rows)).unwrap();
        assert_eq!(summary.kept.len(), 4);
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}

/// A version-2 database (written with the first two migrations) opens,
/// migrates to the current version and keeps its products; the new tables
/// are empty.
#[test]
fn version_two_database_migrates_to_click_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", adstudio::store::APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO products (title, source_name, image_hash, image_ext, width, height, \
             has_transparency, mask_settings_json, mask_edits_json, canvas_settings_json) \
             VALUES ('mug', 'mug.png', ?1, 'png', 4, 4, 0, '{}', '[]', '{}')",
            [&"a".repeat(64)],
        )
        .unwrap();
    }
    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.list_products().unwrap().len(), 1);
    assert_eq!(store.creative_count().unwrap(), 0);
}
