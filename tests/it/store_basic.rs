//! Store tests on real temporary SQLite files and, through
//! `on_both_backends!`, the same bodies on a fresh PostgreSQL database:
//! migrations, reopening, round trips, constraints, refusal of foreign
//! files, undo, image files and data-directory resolution.

use crate::common::backends::on_both_backends;
use crate::common::child;

use std::path::{Path, PathBuf};

use adstudio::paths::{DataDir, DATA_DIR_ENV};
use adstudio::store::{
    FinishTrainingRun, ImageStore, NewAdapter, NewPreference, NewProduct, NewRender, NewScore,
    NewTrainingRun, Outcome, PairItem, PreferenceSource, ProductId, ProductSettings, RenderId,
    RunStatus, Store, StoreError, SCHEMA_VERSION,
};
use serde_json::json;

const TABLES: &[&str] = &[
    "products",
    "renders",
    "scores",
    "preferences",
    "training_runs",
    "adapters",
];

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("adstudio.sqlite3")
}

fn settings(tag: &str) -> ProductSettings {
    ProductSettings {
        mask_settings_json: json!({"method": "flood_fill", "tolerance": 12, "tag": tag}),
        mask_edits_json: json!([]),
        canvas_settings_json: json!({"scale": 0.78, "size": 512}),
    }
}

fn new_product(title: &str) -> NewProduct {
    NewProduct {
        title: title.to_string(),
        source_name: format!("{title}.png"),
        image_hash: "ab".repeat(32),
        image_ext: "png".to_string(),
        width: 800,
        height: 600,
        has_transparency: true,
        settings: settings(title),
    }
}

fn new_render(product_id: ProductId, seed: u64) -> NewRender {
    NewRender {
        product_id,
        params_json: json!({"prompt": "a marble table", "steps": 30, "cfg": 7.5}),
        seed,
        model_ids_json: json!(["sd15", "control_v11p_sd15_canny"]),
        image_hash: "cd".repeat(32),
        image_path: "images/cd/cdcd.png".to_string(),
        width: 512,
        height: 512,
    }
}

fn pref(a: RenderId, b: RenderId, outcome: Outcome, labeler: &str) -> NewPreference {
    NewPreference::human(PairItem::Render(a), PairItem::Render(b), outcome, labeler)
}

/// A store with one product and two renders of it.
fn setup(store: &Store) -> (ProductId, RenderId, RenderId) {
    let p = store.insert_product(&new_product("mug")).expect("product");
    let a = store.insert_render(&new_render(p, 1)).expect("render a");
    let b = store.insert_render(&new_render(p, 2)).expect("render b");
    (p, a, b)
}

fn table_names(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("raw open");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn migrations_from_empty_file_reach_latest_version_with_all_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    std::fs::write(&path, b"").expect("empty file");
    let store = Store::open(&path).expect("open");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 1) };
    assert_eq!(store.integrity_check().expect("check"), "ok");
    drop(store);
    let names = table_names(&path);
    for table in TABLES {
        assert!(
            names.iter().any(|n| n == table),
            "missing {table} in {names:?}"
        );
    }
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

on_both_backends! {
    fn reopen_keeps_data_and_does_not_remigrate(db) {
        let (p, a, b) = {
            let store = db.open();
            let ids = setup(&store);
            store
                .record_preference(&pref(ids.1, ids.2, Outcome::A, "ann"))
                .expect("pref");
            ids
        };
        let store = db.open();
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        assert_eq!(
            store.product(p).expect("product").expect("exists").title,
            "mug"
        );
        assert_eq!(store.renders_for_product(p).expect("renders").len(), 2);
        let prefs = store.preferences().expect("prefs");
        assert_eq!(prefs.len(), 1);
        assert_eq!(
            (prefs[0].a, prefs[0].b),
            (PairItem::Render(a), PairItem::Render(b))
        );
    }
}

on_both_backends! {
    fn products_round_trip_and_settings_update(db) {
        let store = db.open();
        let first = store.insert_product(&new_product("mug")).expect("insert");
        let second = store.insert_product(&new_product("lamp")).expect("insert");

        let row = store.product(first).expect("query").expect("exists");
        let expected = new_product("mug");
        assert_eq!(row.id, first);
        assert_eq!(row.title, expected.title);
        assert_eq!(row.source_name, expected.source_name);
        assert_eq!(row.image_hash, expected.image_hash);
        assert_eq!(row.image_ext, "png");
        assert_eq!((row.width, row.height), (800, 600));
        assert!(row.has_transparency);
        assert_eq!(row.settings, expected.settings);
        assert!(row.created_at.ends_with('Z'));

        let edited = ProductSettings {
            mask_edits_json: json!([{"brush": "add", "x": 3, "y": 4, "r": 10}]),
            ..settings("edited")
        };
        store
            .update_product_settings(first, &edited)
            .expect("update");
        let row = store.product(first).expect("query").expect("exists");
        assert_eq!(row.settings, edited);
        assert!(row.updated_at >= row.created_at);

        let missing = store.update_product_settings(ProductId(9999), &edited);
        assert!(matches!(
            missing,
            Err(StoreError::NotFound {
                table: "products",
                ..
            })
        ));
        assert!(store.product(ProductId(9999)).expect("query").is_none());

        let listed: Vec<ProductId> = store
            .list_products()
            .expect("list")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(listed, vec![second, first], "newest first");

        let json = serde_json::to_value(&row).expect("serialize");
        assert_eq!(json["id"], json!(first.0));
    }
}

on_both_backends! {
    fn renders_and_scores_round_trip(db) {
        let store = db.open();
        let p = store.insert_product(&new_product("mug")).expect("product");
        let big_seed = u64::MAX - 7;
        let r = store
            .insert_render(&new_render(p, big_seed))
            .expect("render");
        let row = store.render(r).expect("query").expect("exists");
        assert_eq!(row.seed, big_seed, "all 64 bits of the seed survive");
        assert_eq!(row.product_id, p);
        assert_eq!(row.params_json, new_render(p, 0).params_json);
        assert_eq!(
            row.model_ids_json,
            json!(["sd15", "control_v11p_sd15_canny"])
        );
        assert!(store.render(RenderId(424242)).expect("query").is_none());

        let missing_product = store.insert_render(&new_render(ProductId(777), 1));
        assert!(matches!(
            missing_product,
            Err(StoreError::Constraint {
                table: "renders",
                ..
            })
        ));

        let s1 = store
            .insert_score(&NewScore {
                render_id: r,
                model_id: "rm-v1".to_string(),
                score: 0.25,
                ctr: Some(0.031),
                details_json: json!({"swap_avg": true}),
            })
            .expect("score");
        let s2 = store
            .insert_score(&NewScore {
                render_id: r,
                model_id: "rm-v2".to_string(),
                score: -1.5,
                ctr: None,
                details_json: serde_json::Value::Null,
            })
            .expect("score");
        let scores = store.scores_for_render(r).expect("scores");
        assert_eq!(
            scores.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![s1, s2]
        );
        assert_eq!(scores[0].ctr, Some(0.031));
        assert_eq!(scores[1].ctr, None);
        assert_eq!(scores[1].details_json, serde_json::Value::Null);

        let bad_ctr = store.insert_score(&NewScore {
            render_id: r,
            model_id: "rm".to_string(),
            score: 1.0,
            ctr: Some(1.5),
            details_json: json!({}),
        });
        assert!(matches!(
            bad_ctr,
            Err(StoreError::Constraint {
                table: "scores",
                ..
            })
        ));
        let nan = store.insert_score(&NewScore {
            render_id: r,
            model_id: "rm".to_string(),
            score: f64::NAN,
            ctr: None,
            details_json: json!({}),
        });
        assert!(matches!(nan, Err(StoreError::InvalidArgument { .. })));
    }
}

on_both_backends! {
    fn preferences_round_trip_and_counts(db) {
        let store = db.open();
        let (_, a, b) = setup(&store);
        let mut ids = Vec::new();
        for (i, outcome) in [
            Outcome::A,
            Outcome::B,
            Outcome::B,
            Outcome::Tie,
            Outcome::CantTell,
        ]
        .into_iter()
        .enumerate()
        {
            let (x, y) = if i % 2 == 0 { (a, b) } else { (b, a) };
            ids.push(
                store
                    .record_preference(&pref(x, y, outcome, "ann"))
                    .expect("pref"),
            );
        }
        ids.push(
            store
                .record_preference(&NewPreference {
                    source: PreferenceSource::Model,
                    ..pref(a, b, Outcome::Skip, "rm-v1")
                })
                .expect("model pref"),
        );
        let rows = store.preferences().expect("prefs");
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
        assert_eq!(rows[1].outcome, Outcome::B);
        assert_eq!(
            (rows[1].a, rows[1].b),
            (PairItem::Render(b), PairItem::Render(a))
        );
        assert_eq!(rows[5].source, PreferenceSource::Model);
        assert_eq!(rows[5].labeler, "rm-v1");
        assert_eq!(
            store.preference(ids[3]).expect("query").expect("row"),
            rows[3]
        );

        let counts = store.preference_counts().expect("counts");
        assert_eq!(
            (
                counts.a,
                counts.b,
                counts.tie,
                counts.cant_tell,
                counts.skip
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(counts.get(Outcome::B), 2);
        assert_eq!(counts.total(), 6);
        assert_eq!(counts.decided(), 4);

        let json = serde_json::to_value(&rows[4]).expect("serialize");
        assert_eq!(json["outcome"], "cant_tell");
        assert_eq!(json["source"], "human");
    }
}

#[test]
fn outcome_and_source_text_forms() {
    for outcome in Outcome::ALL {
        assert_eq!(Outcome::parse(outcome.as_str()), Ok(*outcome));
    }
    for source in PreferenceSource::ALL {
        assert_eq!(PreferenceSource::parse(source.as_str()), Ok(*source));
    }
    for status in RunStatus::ALL {
        assert_eq!(RunStatus::parse(status.as_str()), Ok(*status));
    }
    let err = Outcome::parse("maybe").expect_err("not an outcome");
    assert!(err.to_string().contains("maybe"), "{err}");
    assert!(PreferenceSource::parse("robot").is_err());
}

on_both_backends! {
    fn preference_to_missing_render_fails(db) {
        let store = db.open();
        let (_, a, _) = setup(&store);
        let err = store
            .record_preference(&pref(a, RenderId(99_999), Outcome::A, "ann"))
            .expect_err("missing render must fail");
        assert!(
            matches!(
                err,
                StoreError::Constraint {
                    table: "preferences",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("preferences"), "{err}");
        let same = store.record_preference(&pref(a, a, Outcome::A, "ann"));
        assert!(
            matches!(same, Err(StoreError::Constraint { .. })),
            "{same:?}"
        );
        let empty_labeler = store.record_preference(&pref(a, RenderId(a.0 + 1), Outcome::A, ""));
        assert!(matches!(empty_labeler, Err(StoreError::Constraint { .. })));
        assert!(store.preferences().expect("prefs").is_empty());
    }
}

on_both_backends! {
    fn schema_rejects_outcome_outside_the_set(db) {
        let (a, b) = {
            let store = db.open();
            let (_, a, b) = setup(&store);
            (a, b)
        };
        let insert = |outcome: &str, source: &str| {
            db.raw_execute(&format!(
                "INSERT INTO preferences (render_a, render_b, outcome, source, labeler) \
                 VALUES ({}, {}, '{outcome}', '{source}', 'ann')",
                a.0, b.0
            ))
        };
        assert!(insert("maybe", "human").is_err(), "outcome outside the set");
        assert!(insert("a", "robot").is_err(), "source outside the set");
        assert!(insert("tie", "human").is_ok(), "control row");
    }
}

on_both_backends! {
    fn newer_schema_version_is_refused_and_left_alone(db) {
        drop(db.open());
        db.set_recorded_version(SCHEMA_VERSION + 1);
        let err = db.try_open().expect_err("newer schema must be refused");
        match &err {
            StoreError::SchemaTooNew {
                found, supported, ..
            } => {
                assert_eq!(*found, SCHEMA_VERSION + 1);
                assert_eq!(*supported, SCHEMA_VERSION);
            }
            other => panic!("unexpected error {other:?}"),
        }
        let named = if db.is_postgres() {
            "adstudio_test_"
        } else {
            "adstudio.sqlite3"
        };
        assert!(err.to_string().contains(named), "{err}");
        let version = db.raw_i64(if db.is_postgres() {
            "SELECT version FROM adstudio_schema"
        } else {
            "PRAGMA user_version"
        });
        assert_eq!(version, SCHEMA_VERSION + 1);
    }
}

#[test]
fn non_sqlite_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut random = vec![0u8; 8192];
    rand::fill(&mut random[..]);
    let cases: [(&str, Vec<u8>); 3] = [
        ("random.bin", random),
        ("notes.txt", b"hello, this is not a database\n".to_vec()),
        ("tiny", b"SQLite".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let before = dir_listing(dir.path());
        let err = Store::open(&path).expect_err("must refuse");
        assert!(
            matches!(err, StoreError::NotADatabase { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "{name} modified"
        );
        assert_eq!(dir_listing(dir.path()), before, "no journal files created");
    }
}

#[test]
fn foreign_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch("CREATE TABLE contacts (name TEXT);")
            .expect("create");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(
        matches!(err, StoreError::NotAdstudioDatabase { .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

on_both_backends! {
    fn retract_last_preference_keeps_history_and_touches_only_that_labeler(db) {
        let store = db.open();
        let (_, a, b) = setup(&store);
        assert_eq!(store.retract_last_preference("ann").expect("undo"), None);
        let p1 = store
            .record_preference(&pref(a, b, Outcome::A, "ann"))
            .expect("p1");
        let p2 = store
            .record_preference(&pref(a, b, Outcome::B, "ann"))
            .expect("p2");
        let q1 = store
            .record_preference(&pref(b, a, Outcome::Tie, "bob"))
            .expect("q1");

        let active = |store: &Store| -> Vec<_> {
            store
                .active_preferences()
                .expect("prefs")
                .iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(
            store.retract_last_preference("ann").expect("undo"),
            Some(p2)
        );
        assert_eq!(active(&store), vec![p1, q1]);
        let p3 = store
            .record_preference(&pref(a, b, Outcome::Skip, "ann"))
            .expect("p3");
        assert!(p3 > p2, "ids are never reused after an undo");
        assert_eq!(
            store.retract_last_preference("ann").expect("undo"),
            Some(p3)
        );
        assert_eq!(
            store.retract_last_preference("ann").expect("undo"),
            Some(p1)
        );
        assert_eq!(store.retract_last_preference("ann").expect("undo"), None);
        assert_eq!(active(&store), vec![q1]);
        assert_eq!(store.preferences_of("bob").expect("bob").len(), 1);
        assert!(store.preferences_of("ann").expect("ann").is_empty());

        // History: every row is still there, the retracted ones marked.
        let all = store.preferences().expect("all");
        assert_eq!(
            all.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![p1, p2, q1, p3]
        );
        let retracted: Vec<_> = all
            .iter()
            .filter(|r| !r.is_active())
            .map(|r| r.id)
            .collect();
        assert_eq!(retracted, vec![p1, p2, p3]);
        assert_eq!(store.preference_counts().expect("counts").total(), 1);
    }
}

on_both_backends! {
    fn training_runs_and_adapters_round_trip(db) {
        let store = db.open();
        let run = store
            .insert_training_run(&NewTrainingRun {
                kind: "pcpo".to_string(),
                config_json: json!({"beta": 0.1, "lora_rank": 16}),
            })
            .expect("run");
        let row = store.training_run(run).expect("query").expect("exists");
        assert_eq!(row.status, RunStatus::Running);
        assert_eq!(row.finished_at, None);
        assert_eq!(row.metrics_json, json!({}));

        let running = store.finish_training_run(
            run,
            &FinishTrainingRun {
                status: RunStatus::Running,
                metrics_json: json!({}),
            },
        );
        assert!(matches!(running, Err(StoreError::InvalidArgument { .. })));
        let finish = FinishTrainingRun {
            status: RunStatus::Succeeded,
            metrics_json: json!({"pairwise_accuracy": 0.56}),
        };
        store.finish_training_run(run, &finish).expect("finish");
        let row = store.training_run(run).expect("query").expect("exists");
        assert_eq!(row.status, RunStatus::Succeeded);
        assert_eq!(row.metrics_json, finish.metrics_json);
        assert!(row.finished_at.is_some());
        let again = store.finish_training_run(run, &finish);
        assert!(
            matches!(again, Err(StoreError::NotFound { .. })),
            "finish only once"
        );
        assert_eq!(store.list_training_runs().expect("runs").len(), 1);

        let first = store
            .insert_adapter(&NewAdapter {
                training_run_id: Some(run),
                name: "pcpo-1".to_string(),
                base_model: "llava-1.5-7b".to_string(),
                path: "adapters/pcpo-1.safetensors".to_string(),
                config_json: json!({"rank": 16}),
            })
            .expect("adapter");
        let second = store
            .insert_adapter(&NewAdapter {
                training_run_id: None,
                name: "imported".to_string(),
                base_model: "llava-1.5-7b".to_string(),
                path: "/tmp/imported.safetensors".to_string(),
                config_json: json!({}),
            })
            .expect("adapter");
        let adapters = store.list_adapters().expect("adapters");
        assert_eq!(
            adapters.iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![second, first]
        );
        assert_eq!(adapters[1].training_run_id, Some(run));
        assert_eq!(adapters[1].config_json, json!({"rank": 16}));
        assert_eq!(adapters[0].training_run_id, None);
    }
}

#[test]
fn in_memory_store_works() {
    let store = Store::open_in_memory().expect("open");
    let (p, _, _) = setup(&store);
    assert_eq!(store.renders_for_product(p).expect("renders").len(), 2);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn images_same_bytes_give_same_hash_and_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = ImageStore::new(dir.path().join("images"));
    let first = images.put_bytes(b"fake jpeg bytes", "JPG").expect("put");
    let second = images.put_bytes(b"fake jpeg bytes", "jpg").expect("put");
    assert_eq!(first, second);
    assert_eq!(first.hash.len(), 64);
    let expected = dir
        .path()
        .join("images")
        .join(&first.hash[..2])
        .join(format!("{}.jpg", first.hash));
    assert_eq!(first.path, expected);
    assert_eq!(images.path_for(&first.hash, "jpg").expect("path"), expected);
    assert_eq!(
        images.read(&first.hash, "jpg").expect("read"),
        b"fake jpeg bytes"
    );
    assert!(images.contains(&first.hash, "jpg").expect("contains"));
    assert_eq!(all_files(&dir.path().join("images")), vec![expected]);

    let other = images.put_bytes(b"other bytes", "jpg").expect("put");
    assert_ne!(other.hash, first.hash);

    let mut rgba = image::RgbaImage::new(8, 4);
    rgba.put_pixel(1, 1, image::Rgba([255, 0, 0, 128]));
    let png_a = images.put_rgba_png(&rgba).expect("png");
    let png_b = images
        .put_png(&image::DynamicImage::ImageRgba8(rgba.clone()))
        .expect("png");
    assert_eq!(png_a.hash, png_b.hash);
    let decoded = image::load_from_memory(&images.read(&png_a.hash, "png").expect("read"))
        .expect("decode")
        .to_rgba8();
    assert_eq!(decoded, rgba);
    assert_eq!(all_files(&dir.path().join("images")).len(), 3);

    assert!(matches!(
        images.path_for("not-a-hash", "png"),
        Err(StoreError::InvalidImageKey { .. })
    ));
    assert!(matches!(
        images.put_bytes(b"x", "../png"),
        Err(StoreError::InvalidImageKey { .. })
    ));
}

#[test]
fn images_atomic_write_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = ImageStore::new(dir.path());
    for i in 0..50u32 {
        let bytes = i.to_le_bytes().repeat(1000 + i as usize);
        let stored = images.put_bytes(&bytes, "bin").expect("put");
        assert_eq!(std::fs::read(&stored.path).expect("read"), bytes);
    }
    let files = all_files(dir.path());
    assert_eq!(files.len(), 50);
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            !name.starts_with('.') && !name.ends_with(".part"),
            "temp file left: {name}"
        );
    }
}

#[test]
fn images_failed_write_names_the_path_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = ImageStore::new(dir.path());
    let bytes = b"contents that cannot be written";
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    let target = images.path_for(&hash, "png").expect("path");
    // A directory where the file should go makes the final rename fail.
    std::fs::create_dir_all(target.join("blocker")).expect("mkdir");
    let err = images
        .put_bytes(bytes, "png")
        .expect_err("rename must fail");
    assert!(matches!(err, StoreError::ImageIo { .. }), "{err:?}");
    assert!(err.to_string().contains(&hash), "{err}");
    let shard = target.parent().expect("shard");
    assert_eq!(
        dir_listing(shard),
        vec![format!("{hash}.png")],
        "only the blocker dir"
    );
}

/// Set (to a temporary folder) only in the child process of
/// [`data_dir_resolution_order_and_layout`].
const DATA_DIR_CHILD_ENV: &str = "ADSTUDIO_TEST_DATA_DIR_CHILD";

/// Child half of [`data_dir_resolution_order_and_layout`], run in its own
/// process with [`DATA_DIR_ENV`] set to `<root>/env` (so that no test thread
/// changes the environment of the test process). Without
/// `ADSTUDIO_TEST_DATA_DIR_CHILD` (any normal test run) it returns at once.
#[test]
fn data_dir_resolution_child() {
    let Some(root) = std::env::var_os(DATA_DIR_CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let from_cli = root.join("cli");
    let from_env = root.join("env");
    assert_eq!(
        std::env::var_os(DATA_DIR_ENV),
        Some(from_env.clone().into())
    );
    let chosen = DataDir::resolve(Some(from_cli.clone())).expect("resolve");
    assert_eq!(chosen.root(), from_cli);
    assert!(from_cli.is_dir(), "created");
    let chosen = DataDir::resolve(None).expect("resolve");
    assert_eq!(chosen.root(), from_env);
    assert!(from_env.is_dir());
}

#[test]
fn data_dir_resolution_order_and_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = child::test_command(module_path!(), "data_dir_resolution_child");
    cmd.env(DATA_DIR_CHILD_ENV, dir.path())
        .env(DATA_DIR_ENV, dir.path().join("env"));
    child::run_one_test(cmd);
    assert!(dir.path().join("cli").is_dir());
    assert!(dir.path().join("env").is_dir());

    let data = DataDir::at(dir.path().join("d")).expect("at");
    assert_eq!(data.database_path(), dir.path().join("d/adstudio.sqlite3"));
    assert_eq!(data.images_dir(), dir.path().join("d/images"));
    assert_eq!(data.exports_dir(), dir.path().join("d/exports"));

    let file = dir.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    assert!(DataDir::at(&file).is_err());
}

on_both_backends! {
    fn product_title_updates_and_unknown_ids_are_not_found(db) {
        let store = db.open();
        let id = store.insert_product(&new_product("mug")).expect("insert");
        store
            .update_product_title(id, "ceramic mug, matte blue")
            .expect("rename");
        let row = store.product(id).expect("query").expect("exists");
        assert_eq!(row.title, "ceramic mug, matte blue");
        assert_eq!(
            row.settings,
            new_product("mug").settings,
            "settings untouched"
        );
        let missing = store.update_product_title(ProductId(424242), "x");
        assert!(
            matches!(missing, Err(StoreError::NotFound { id: 424242, .. })),
            "{missing:?}"
        );
    }
}

on_both_backends! {
    fn resolved_mask_source_is_stored_and_checked(db) {
        let store = db.open();
        let id = store.insert_product(&new_product("lamp")).expect("insert");
        assert_eq!(
            store.product(id).expect("q").expect("row").mask_source,
            None
        );
        store.set_product_mask_source(id, "saliency").expect("set");
        assert_eq!(
            store
                .product(id)
                .expect("q")
                .expect("row")
                .mask_source
                .as_deref(),
            Some("saliency")
        );
        assert!(
            store.set_product_mask_source(id, "magic").is_err(),
            "CHECK rejects unknown sources"
        );
        assert!(matches!(
            store.set_product_mask_source(ProductId(777), "key"),
            Err(StoreError::NotFound { id: 777, .. })
        ));
    }
}
