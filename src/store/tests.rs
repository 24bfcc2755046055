//! Unit tests that need the store's private connection.

use serde_json::json;

use super::*;

fn setup(store: &Store) -> (RenderId, RenderId) {
    let product = store
        .insert_product(&NewProduct {
            title: "t".to_string(),
            source_name: "t.png".to_string(),
            image_hash: "0".repeat(64),
            image_ext: "png".to_string(),
            width: 1,
            height: 1,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        })
        .expect("product");
    let render = |seed| NewRender {
        product_id: product,
        params_json: json!({}),
        seed,
        model_ids_json: json!([]),
        image_hash: "1".repeat(64),
        image_path: "x.png".to_string(),
        width: 1,
        height: 1,
    };
    (
        store.insert_render(&render(1)).expect("render"),
        store.insert_render(&render(2)).expect("render"),
    )
}

/// SQLITE_FULL (simulated with `max_page_count`) is reported as
/// `DiskFull` naming the table, and committed rows stay intact.
#[test]
fn full_database_reports_disk_full_and_keeps_committed_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("full.sqlite3")).expect("open");
    let (a, b) = setup(&store);
    let pages: i64 = store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .expect("page_count");
    store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_update(None, "max_page_count", pages + 4)
        .expect("max_page_count");
    let mut committed = Vec::new();
    let err = loop {
        let pref = NewPreference::human(
            PairItem::Render(a),
            PairItem::Render(b),
            Outcome::A,
            &"x".repeat(500),
        );
        match store.record_preference(&pref) {
            Ok(id) => committed.push(id),
            Err(e) => break e,
        }
        assert!(committed.len() < 10_000, "database never filled up");
    };
    assert!(
        matches!(
            err,
            StoreError::DiskFull {
                table: "preferences",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_disk_full());
    assert!(err.to_string().contains("full.sqlite3"), "{err}");
    let stored: Vec<_> = store
        .preferences()
        .expect("preferences")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(stored, committed);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

/// Corrupt JSON in a column is an error naming the table, not a panic.
#[test]
fn invalid_json_in_a_column_is_an_error_naming_the_table() {
    let store = Store::open_in_memory().expect("open");
    let (a, _) = setup(&store);
    store
        .sqlite_conn()
        .expect("sqlite")
        .execute_batch("PRAGMA ignore_check_constraints = ON")
        .expect("pragma");
    store
        .sqlite_conn()
        .expect("sqlite")
        .execute(
            "UPDATE renders SET params_json = '{broken' WHERE id = ?1",
            [a.0],
        )
        .expect("corrupt");
    let err = store.render(a).expect_err("must fail");
    assert!(err.to_string().contains("renders"), "{err}");
}

/// Each migration bumps `user_version`; the application id is set.
#[test]
fn migrations_set_version_and_application_id() {
    let store = Store::open_in_memory().expect("open");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    let app_id: i64 = store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .expect("application_id");
    assert_eq!(app_id, APPLICATION_ID);
    let fk: bool = store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .expect("foreign_keys");
    assert!(fk);
}

/// File-backed stores use WAL and synchronous=FULL (2).
#[test]
fn file_store_uses_wal_and_full_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db.sqlite3")).expect("open");
    let mode: String = store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let sync: i64 = store
        .sqlite_conn()
        .expect("sqlite")
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .expect("synchronous");
    assert_eq!(sync, 2);
}
