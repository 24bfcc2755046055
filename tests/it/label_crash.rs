//! Durability of labelling under SIGKILL, through the real command path.
//!
//! A store with 2 products x 5 renders; then 100 rounds of
//! `adstudio --data-dir D label --labeler L --answers random --seed <round>
//! --count 100000`, each killed with SIGKILL a random 2-300 ms after its
//! first line. The driver prints `COMMITTED <id>` / `RETRACTED <id>` only
//! after the COMMIT returned. After every kill the store is reopened:
//! `PRAGMA integrity_check` is "ok", every printed label (of every round so
//! far) is there, every printed retraction is there, the active counts
//! match the active rows and no retracted label is among them.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use adstudio::store::{PreferenceId, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::common::label_store;

const ROUNDS: u64 = 100;
const LABELER: &str = "crash-labeler";

/// What one killed run printed (complete lines only).
#[derive(Default)]
struct Printed {
    lines: usize,
    committed: Vec<PreferenceId>,
    retracted: Vec<PreferenceId>,
}

fn spawn(data_dir: &Path, round: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["label", "--labeler", LABELER, "--answers", "random"])
        .args(["--seed", &round.to_string(), "--count", "100000"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs one round: waits for the first line, sleeps `delay`, kills.
fn run_and_kill(data_dir: &Path, round: u64, delay: Duration) -> Printed {
    let mut child = spawn(data_dir, round);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // A line cut by the kill has no newline: it does not count.
                Ok(_) if line.ends_with('\n') => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
            }
        }
    });
    // A deadline for a hung child only, not a timing requirement.
    let first = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the driver printed nothing within 120 s");
    thread::sleep(delay);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "round {round}: not killed: {status:?}");
    reader.join().unwrap();
    let mut printed = Printed::default();
    for line in std::iter::once(first).chain(rx.try_iter()) {
        printed.lines += 1;
        let id = |rest: &str| PreferenceId(rest.trim().parse().unwrap());
        if let Some(rest) = line.strip_prefix("COMMITTED ") {
            printed.committed.push(id(rest));
        } else if let Some(rest) = line.strip_prefix("RETRACTED ") {
            printed.retracted.push(id(rest));
        }
    }
    printed
}

/// The store's invariants after a kill, against everything printed so far.
fn check_store(
    db: &Path,
    round: u64,
    committed: &BTreeSet<PreferenceId>,
    retracted: &BTreeSet<PreferenceId>,
) {
    let store = Store::open(db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
    let all = store.preferences().unwrap();
    let present: BTreeSet<PreferenceId> = all.iter().map(|r| r.id).collect();
    let missing: Vec<_> = committed.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "round {round}: labels lost: {missing:?}"
    );
    let retracted_rows: BTreeSet<PreferenceId> = all
        .iter()
        .filter(|r| r.retracted_at.is_some())
        .map(|r| r.id)
        .collect();
    let lost: Vec<_> = retracted.difference(&retracted_rows).collect();
    assert!(lost.is_empty(), "round {round}: retractions lost: {lost:?}");
    let active: BTreeSet<PreferenceId> = store
        .active_preferences()
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(
        active.is_disjoint(&retracted_rows),
        "round {round}: a retracted label is active"
    );
    assert_eq!(
        active.len() + retracted_rows.len(),
        all.len(),
        "round {round}"
    );
    let counts = store.preference_counts().unwrap();
    assert_eq!(counts.total(), active.len() as u64, "round {round}");
    // One labeler never holds two active labels on one pair.
    let pairs: BTreeSet<_> = store
        .preferences_of(LABELER)
        .unwrap()
        .iter()
        .map(|r| adstudio::store::unordered(r.a, r.b))
        .collect();
    assert_eq!(pairs.len(), active.len(), "round {round}: a pair repeated");
}

#[test]
fn labels_survive_sigkill_of_the_label_driver() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    label_store::products_with_renders(dir.path(), 2, 5);
    let db = label_store::database(dir.path());
    let mut rng = StdRng::seed_from_u64(14);
    let mut committed = BTreeSet::new();
    let mut retracted = BTreeSet::new();
    let mut events = 0;
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(rng.random_range(2..=300));
        let printed = run_and_kill(dir.path(), round, delay);
        assert!(printed.lines >= 1, "round {round}");
        events += printed.committed.len() + printed.retracted.len();
        committed.extend(printed.committed);
        retracted.extend(printed.retracted);
        check_store(&db, round, &committed, &retracted);
    }
    assert!(!committed.is_empty() && !retracted.is_empty());
    eprintln!(
        "{ROUNDS} kills, {events} printed commits and retractions, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
