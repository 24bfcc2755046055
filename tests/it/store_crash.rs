//! Crash safety of preference labels.
//!
//! `preference_rows_survive_sigkill` re-executes this test binary as a
//! child that runs only `crash_child_writes_preferences`; the child records
//! preference rows in a loop and prints each id after `record_preference`
//! returned. The parent kills the child with SIGKILL at a random moment,
//! reopens the database, checks its integrity and checks that every printed
//! id is there. Twenty rounds on the same file.

use crate::common::child;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use adstudio::store::{
    NewPreference, NewProduct, NewRender, Outcome, PairItem, PreferenceId, ProductSettings, Store,
};
use serde_json::json;

/// Set (to the database path) only in the child process.
const CHILD_ENV: &str = "ADSTUDIO_CRASH_CHILD_DB";
/// Name of the child half (in this module).
const CHILD_TEST: &str = "crash_child_writes_preferences";
/// Prefix of the child's id lines (the test harness prints other lines).
const ID_PREFIX: &str = "PREF_ID ";
const ROUNDS: usize = 20;
/// Safety net so a child whose parent died does not write forever (the
/// parent kills it at most 300 ms after its first id).
const CHILD_MAX_RUNTIME: Duration = Duration::from_secs(120);

/// Child half of [`preference_rows_survive_sigkill`]. Without
/// `ADSTUDIO_CRASH_CHILD_DB` (any normal test run) it returns at once and is
/// a trivial pass; with it, it writes preference rows until killed.
#[test]
fn crash_child_writes_preferences() {
    let Some(db) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&db)).expect("child: open store");
    let product = store.list_products().expect("child: products")[0].id;
    let renders = store.renders_for_product(product).expect("child: renders");
    let (a, b) = (renders[0].id, renders[1].id);
    let mut stdout = std::io::stdout();
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < CHILD_MAX_RUNTIME {
        let outcome = Outcome::ALL[i % Outcome::ALL.len()];
        let id = store
            .record_preference(&NewPreference::human(
                PairItem::Render(a),
                PairItem::Render(b),
                outcome,
                "crash-child",
            ))
            .expect("child: record_preference");
        // Printed only after the call returned, i.e. after COMMIT.
        writeln!(stdout, "{ID_PREFIX}{}", id.0).expect("child: print");
        stdout.flush().expect("child: flush");
        i += 1;
    }
}

fn setup(path: &Path) {
    let store = Store::open(path).expect("open");
    let product = store
        .insert_product(&NewProduct {
            title: "crash mug".to_string(),
            source_name: "mug.png".to_string(),
            image_hash: "ab".repeat(32),
            image_ext: "png".to_string(),
            width: 64,
            height: 64,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        })
        .expect("product");
    for seed in [1, 2] {
        store
            .insert_render(&NewRender {
                product_id: product,
                params_json: json!({"prompt": "p"}),
                seed,
                model_ids_json: json!([]),
                image_hash: "cd".repeat(32),
                image_path: "images/cd/x.png".to_string(),
                width: 64,
                height: 64,
            })
            .expect("render");
    }
}

/// Runs one child, kills it after a random delay once it has printed at
/// least one id, and returns the ids it printed.
fn run_and_kill_child(db: &Path) -> Vec<PreferenceId> {
    let mut child = child::test_command(module_path!(), CHILD_TEST)
        .env(CHILD_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let (tx, rx) = mpsc::channel::<PreferenceId>();
    let reader = thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            // A line cut by the kill has no newline; ignore it. The first id
            // shares its line with libtest's "test <name> ... " banner.
            let Some(rest) = line
                .strip_suffix('\n')
                .and_then(|l| l.split_once(ID_PREFIX))
                .map(|(_, id)| id)
            else {
                continue;
            };
            let id = rest.parse().expect("child printed a bad id");
            if tx.send(PreferenceId(id)).is_err() {
                break;
            }
        }
    });

    let mut printed = Vec::new();
    // A deadline for a hung child only (it starts a whole test binary on a
    // possibly busy machine), not a timing requirement.
    let first = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("child printed no id within 120 s");
    printed.push(first);
    thread::sleep(Duration::from_millis(rand::random_range(20..=300)));
    child.kill().expect("SIGKILL child");
    let status = child.wait().expect("wait child");
    assert!(
        !status.success(),
        "child must have been killed, got {status:?}"
    );
    reader.join().expect("reader thread");
    printed.extend(rx.try_iter());
    printed
}

#[test]
fn preference_rows_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("adstudio.sqlite3");
    setup(&db);
    let mut all_printed = BTreeSet::new();
    for round in 0..ROUNDS {
        let printed = run_and_kill_child(&db);
        assert!(!printed.is_empty());
        assert!(
            printed.windows(2).all(|w| w[0] < w[1]),
            "round {round}: ids not increasing"
        );

        let store = Store::open(&db).expect("reopen after kill");
        assert_eq!(
            store.integrity_check().expect("integrity_check"),
            "ok",
            "round {round}"
        );
        let present: BTreeSet<PreferenceId> = store
            .preferences()
            .expect("preferences")
            .iter()
            .map(|r| r.id)
            .collect();
        for id in &printed {
            assert!(
                present.contains(id),
                "round {round}: printed id {id} lost after SIGKILL"
            );
        }
        all_printed.extend(printed.iter().copied());
        assert!(
            all_printed.is_subset(&present),
            "round {round}: an id from an earlier round disappeared"
        );
        // At most one row per round can be committed but not yet printed.
        assert!(
            present.len() <= all_printed.len() + round + 1,
            "round {round}: {} rows, {} printed, not printed: {:?}",
            present.len(),
            all_printed.len(),
            present.difference(&all_printed).collect::<Vec<_>>()
        );
        drop(store);
    }
}
