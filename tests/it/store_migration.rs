//! Schema upgrades that must keep human work: a version-3 database with
//! preference labels opens, migrates to the current version and keeps
//! every label.

#![allow(clippy::unwrap_used)]

use adstudio::store::{
    Outcome, PairItem, PreferenceSource, RenderId, Store, APPLICATION_ID, MIGRATIONS,
    SCHEMA_VERSION,
};

/// Builds a version-3 database (the first three migrations, as a build of
/// that time wrote it) with one product, two renders and two labels.
fn version_three_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for sql in &MIGRATIONS[..3] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute(
        "INSERT INTO products (title, source_name, image_hash, image_ext, width, height, \
         has_transparency, mask_settings_json, mask_edits_json, canvas_settings_json) \
         VALUES ('mug', 'mug.png', ?1, 'png', 4, 4, 0, '{}', '[]', '{}')",
        [&"a".repeat(64)],
    )
    .unwrap();
    for seed in [1, 2] {
        conn.execute(
            "INSERT INTO renders (product_id, params_json, seed, model_ids_json, image_hash, \
             image_path, width, height) VALUES (1, '{}', ?1, '[]', ?2, 'x.png', 4, 4)",
            rusqlite::params![seed, "b".repeat(64)],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO preferences (render_a, render_b, outcome, source, labeler) \
         VALUES (1, 2, 'b', 'human', 'ann'), (2, 1, 'tie', 'model', 'rm-7')",
        [],
    )
    .unwrap();
}

#[test]
fn version_three_preferences_survive_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v3.sqlite3");
    version_three_database(&db);

    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let rows = store.preferences().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (r1, r2) = (PairItem::Render(RenderId(1)), PairItem::Render(RenderId(2)));
    assert_eq!((rows[0].a, rows[0].b), (r1, r2));
    assert_eq!(rows[0].outcome, Outcome::B);
    assert_eq!(rows[0].source, PreferenceSource::Human);
    assert_eq!(rows[0].labeler, "ann");
    assert_eq!((rows[1].a, rows[1].b), (r2, r1));
    assert_eq!(rows[1].outcome, Outcome::Tie);
    assert_eq!(rows[1].source, PreferenceSource::Model);
    for row in &rows {
        assert_eq!(row.left_is_a, None, "v3 did not record sides");
        assert_eq!(row.model_p_a, None);
        assert!(row.is_active());
        assert!(!row.created_at.is_empty());
    }
    assert_eq!(store.preference_counts().unwrap().total(), 2);
    // The migrated table takes new labels and retractions.
    assert_eq!(
        store.retract_last_preference("ann").unwrap(),
        Some(rows[0].id)
    );
    assert_eq!(store.active_preferences().unwrap().len(), 1);
    drop(store);

    // Reopening does not migrate again or lose anything.
    let store = Store::open(&db).unwrap();
    assert_eq!(store.preferences().unwrap().len(), 2);
    assert_eq!(store.preference_counts().unwrap().total(), 1);
}
