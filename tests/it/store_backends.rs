//! What the two store backends must do alike beyond the round trips of
//! `store_basic`: transactions that roll back whole, concurrent writers
//! and openers, the queries with dialect-sensitive SQL (catalog summaries,
//! model picks, imports), foreign databases; and a refused server.

use std::time::{Duration, Instant};

use adstudio::store::{
    ImportedPreference, ImportedRender, NewAdapter, NewBatchSuggestions, NewPreference, NewProduct,
    NewRender, NewScore, NewTrainingRun, Outcome, PairItem, PreferenceSource, ProductId,
    ProductSettings, RenderId, Store, StoreError, SCHEMA_VERSION,
};
use serde_json::json;

use crate::common::backends::on_both_backends;

fn new_product(title: &str, hash: char) -> NewProduct {
    NewProduct {
        title: title.to_string(),
        source_name: format!("{title}.png"),
        image_hash: hash.to_string().repeat(64),
        image_ext: "png".to_string(),
        width: 8,
        height: 8,
        has_transparency: false,
        settings: ProductSettings {
            mask_settings_json: json!({}),
            mask_edits_json: json!([]),
            canvas_settings_json: json!({}),
        },
    }
}

fn new_render(product_id: ProductId, seed: u64) -> NewRender {
    NewRender {
        product_id,
        params_json: json!({"prompt": format!("p{seed}")}),
        seed,
        model_ids_json: json!([]),
        image_hash: format!("{seed:064x}"),
        image_path: format!("r{seed}.png"),
        width: 8,
        height: 8,
    }
}

fn renders(store: &Store, n: u64) -> (ProductId, Vec<RenderId>) {
    let p = store
        .insert_product(&new_product("mug", 'a'))
        .expect("product");
    let ids = (1..=n)
        .map(|seed| store.insert_render(&new_render(p, seed)).expect("render"))
        .collect();
    (p, ids)
}

fn label(a: RenderId, b: RenderId, outcome: Outcome, labeler: &str) -> NewPreference {
    NewPreference::human(PairItem::Render(a), PairItem::Render(b), outcome, labeler)
}

on_both_backends! {
    /// A write that fails half-way leaves nothing behind: the trained
    /// adapter's run, a batch's suggestions, a click-log-style import.
    fn failed_transactions_roll_back_whole(db) {
        let store = db.open();
        let (p, _) = renders(&store, 1);
        let run = NewTrainingRun {
            kind: "pcpo".to_string(),
            config_json: json!({"epochs": 1}),
        };
        let bad_adapter = NewAdapter {
            training_run_id: None,
            name: String::new(),
            base_model: "base".to_string(),
            path: "a.safetensors".to_string(),
            config_json: json!({}),
        };
        let err = store
            .record_trained_adapter(&run, &json!({}), &bad_adapter)
            .expect_err("empty name refused");
        assert!(matches!(err, StoreError::Constraint { table: "adapters", .. }), "{err:?}");
        assert!(store.list_training_runs().expect("runs").is_empty(), "run rolled back");

        let settings = json!({"k": 2});
        let texts = vec!["a beach".to_string(), "a kitchen".to_string()];
        let new = NewBatchSuggestions {
            product_id: p,
            settings_json: &settings,
            texts: &texts,
            prompt_model: "tiny",
            adapter: None,
        };
        store.insert_batch_suggestions(&new).expect("first");
        assert!(store.insert_batch_suggestions(&new).is_err(), "duplicate refused");
        let good_then_empty = vec!["a desk".to_string(), String::new()];
        let other = json!({"k": 3});
        let half_bad = NewBatchSuggestions {
            texts: &good_then_empty,
            settings_json: &other,
            ..new.clone()
        };
        let err = store.insert_batch_suggestions(&half_bad).expect_err("empty text");
        assert!(err.to_string().contains("batch_suggestions"), "{err}");
        assert_eq!(store.batch_suggestions(p, &settings).expect("rows").len(), 2);
        assert!(store.batch_suggestions(p, &other).expect("rows").is_empty(), "none kept");
        // After a failed transaction the connection is usable again.
        store.insert_product(&new_product("after", 'b')).expect("usable");
    }
}

on_both_backends! {
    /// Four labelers on their own connections write 1,000 labels at once:
    /// every label is stored once, and each labeler's undo takes back only
    /// their own last label.
    fn concurrent_labelers_lose_nothing(db) {
        let store = db.open();
        let (_, ids) = renders(&store, 4);
        let labelers = ["ann", "bob", "cyd", "dee"];
        let per_labeler = 250;
        std::thread::scope(|scope| {
            for labeler in labelers {
                let ids = ids.clone();
                scope.spawn(move || {
                    let store = db.open();
                    for i in 0..per_labeler {
                        let (a, b) = (ids[i % 4], ids[(i + 1) % 4]);
                        store
                            .record_preference(&label(a, b, Outcome::A, labeler))
                            .expect("label");
                    }
                    store.retract_last_preference(labeler).expect("undo");
                });
            }
        });
        let n = labelers.len();
        let all = store.preferences().expect("prefs");
        assert_eq!(all.len(), n * per_labeler);
        let mut seen: Vec<_> = all.iter().map(|r| r.id).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), all.len(), "ids unique");
        assert_eq!(store.active_preferences().expect("active").len(), n * per_labeler - n);
        for labeler in labelers {
            assert_eq!(store.preferences_of(labeler).expect("of").len(), per_labeler - 1);
        }
    }
}

on_both_backends! {
    /// Several processes starting on a new database at once: one migrates,
    /// the others wait and find it migrated.
    fn concurrent_first_opens_migrate_once(db) {
        std::thread::scope(|scope| {
            let opens: Vec<_> = (0..3).map(|_| scope.spawn(|| db.try_open())).collect();
            for open in opens {
                let store = open.join().expect("thread").expect("open");
                assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
            }
        });
        assert_eq!(db.open().integrity_check().expect("check"), "ok");
    }
}

on_both_backends! {
    /// Catalog summaries (distinct unordered pairs), model picks (null-safe
    /// comparisons) and imported labels give the same answers on both.
    fn dialect_sensitive_queries_agree(db) {
        let store = db.open();
        let (p, ids) = renders(&store, 3);
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        store.record_preference(&label(a, b, Outcome::A, "ann")).expect("l1");
        store.record_preference(&label(b, a, Outcome::B, "bob")).expect("l2");
        store.record_preference(&label(a, c, Outcome::Skip, "ann")).expect("l3");
        store
            .insert_score(&NewScore {
                render_id: b,
                model_id: "rm".to_string(),
                score: 1.0,
                ctr: Some(0.04),
                details_json: json!({}),
            })
            .expect("score");
        let summary = store.product_summaries().expect("summaries");
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].product, p);
        assert_eq!(summary[0].renders, 3);
        assert_eq!(summary[0].best_ctr, Some(0.04));
        assert_eq!(summary[0].labelled_pairs, 1, "{{a,b}} once; the skip does not count");

        let pick = |x: RenderId, y: RenderId| NewPreference {
            source: PreferenceSource::Model,
            model_p_a: Some(0.75),
            left_is_a: None,
            ..label(x, y, Outcome::A, "rm-v1")
        };
        assert_eq!(store.record_model_picks(&[pick(a, b), pick(b, c)]).expect("picks"), 2);
        assert_eq!(store.record_model_picks(&[pick(b, a), pick(c, b)]).expect("again"), 0);
        let picked = store.preferences_of("rm-v1").expect("picks");
        assert_eq!(picked[0].model_p_a, Some(0.75));
        assert_eq!(picked[0].left_is_a, None);

        let imported = ImportedPreference {
            product: new_product("lamp", 'f'),
            a: imported_render(101),
            b: imported_render(102),
            outcome: Outcome::B,
            source: PreferenceSource::Human,
            labeler: "cy".to_string(),
            left_is_a: Some(false),
            model_p_a: None,
            created_at: Some("2026-01-02T03:04:05.678Z".to_string()),
        };
        let first = store.import_render_preference(&imported).expect("import");
        assert!(first.product_created && !first.already_present);
        let again = store.import_render_preference(&imported).expect("again");
        assert!(again.already_present && again.preference == first.preference);
        let row = store.preference(first.preference).expect("q").expect("row");
        assert_eq!(row.created_at, "2026-01-02T03:04:05.678Z");
        assert_eq!(row.left_is_a, Some(false));
    }
}

fn imported_render(seed: u64) -> ImportedRender {
    let r = new_render(ProductId(0), seed);
    ImportedRender {
        params_json: r.params_json,
        seed: u64::MAX - seed,
        model_ids_json: r.model_ids_json,
        image_hash: r.image_hash,
        image_path: r.image_path,
        width: r.width,
        height: r.height,
    }
}

on_both_backends! {
    /// A database that already holds someone else's tables is refused and
    /// left as it was.
    fn foreign_database_is_refused_untouched(db) {
        db.raw_execute("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');")
            .expect("foreign table");
        let err = db.try_open().expect_err("must refuse");
        assert!(matches!(err, StoreError::NotAdstudioDatabase { .. }), "{err:?}");
        assert_eq!(db.raw_i64("SELECT count(*) FROM contacts"), 1);
        let tables = db.raw_i64(if db.is_postgres() {
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        } else {
            "SELECT count(*) FROM sqlite_schema"
        });
        assert_eq!(tables, 1, "nothing created");
    }
}

/// A server that refuses the connection fails at once with a message that
/// names the backend and the URL, without the password.
#[test]
fn refused_server_fails_fast_and_hides_the_password() {
    let started = Instant::now();
    let err = Store::open_postgres("postgres://ann:s3cret@127.0.0.1:1/ads")
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(text.contains("postgres://ann@127.0.0.1:1/ads"), "{text}");
    assert!(text.contains("PostgreSQL"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

/// A server that accepts the connection and never answers: the store gives
/// up within 10 s with a message saying so, never hangs.
#[test]
fn silent_server_fails_within_seconds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let started = Instant::now();
    let err = Store::open_postgres(&format!("postgres://ann@127.0.0.1:{port}/ads"))
        .expect_err("nobody answers");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(text.contains("did not answer"), "{text}");
    drop(listener);
}
