//! `adstudio label` through the binary: answers from a file and stdin,
//! undo, the product scope, seeded random answers with a count, progress
//! lines, and bad input.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use adstudio::store::{unordered, Outcome, PairItem, PreferenceId, PreferenceRow, Store};

use crate::common::label_store;

fn adstudio(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.arg("--data-dir")
        .arg(data)
        .arg("label")
        .env("RUST_LOG", "warn");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "failed\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout).lines().map(str::to_string).collect()
}

fn fails(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded\nstdout: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// The id of a `COMMITTED <id>` / `RETRACTED <id>` line.
fn id_of(line: &str, prefix: &str) -> PreferenceId {
    PreferenceId(line.strip_prefix(prefix).unwrap().parse().unwrap())
}

/// Whether the outcome prefers the item shown on the left.
fn prefers_left(row: &PreferenceRow) -> bool {
    (row.outcome == Outcome::A) == row.left_is_a.unwrap()
}

#[test]
fn answers_file_commits_undoes_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    label_store::products_with_renders(dir.path(), 2, 3); // 6 pairs
    let answers = dir.path().join("answers.txt");
    std::fs::write(
        &answers,
        "a\nRIGHT\n\n# the undo re-shows the last pair\nu\nt\ns\n",
    )
    .unwrap();
    let out = adstudio(dir.path())
        .args(["--labeler", "ann", "--answers"])
        .arg(&answers)
        .output()
        .unwrap();
    let lines = ok(&out);
    assert_eq!(
        lines[0], "labelling as ann: 0 of 6 pairs labelled",
        "{lines:?}"
    );
    assert_eq!(lines.len(), 7, "{lines:?}");
    let c1 = id_of(&lines[1], "COMMITTED ");
    let c2 = id_of(&lines[2], "COMMITTED ");
    assert_eq!(id_of(&lines[3], "RETRACTED "), c2);
    let c3 = id_of(&lines[4], "COMMITTED ");
    let c4 = id_of(&lines[5], "COMMITTED ");
    assert!(
        lines[6].starts_with("progress: overall 3 labelled, 3 remaining; product "),
        "{}",
        lines[6]
    );

    let store = Store::open(&label_store::database(dir.path())).unwrap();
    let row = |id| store.preference(id).unwrap().unwrap();
    let (r1, r2, r3, r4) = (row(c1), row(c2), row(c3), row(c4));
    assert!(prefers_left(&r1), "a = left better: {r1:?}");
    assert!(!prefers_left(&r2), "right = right better: {r2:?}");
    assert!(r2.retracted_at.is_some() && r1.retracted_at.is_none());
    assert_eq!(r3.outcome, Outcome::Tie);
    assert_eq!(r4.outcome, Outcome::Skip);
    // The undone pair came back, on the same sides, and got the tie.
    assert_eq!(unordered(r3.a, r3.b), unordered(r2.a, r2.b));
    assert_eq!(r3.left_is_a, r2.left_is_a);
    for r in [&r1, &r2, &r3, &r4] {
        assert_eq!(r.labeler, "ann");
        assert!(r.a < r.b, "stored smaller first");
    }
    assert_eq!(store.preference_counts().unwrap().total(), 3);
}

#[test]
fn product_scope_with_answers_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let products = label_store::products_with_renders(dir.path(), 2, 3);
    let (lamp, lamp_renders) = &products[1];
    let mut child = adstudio(dir.path())
        .args(["--labeler", "bob", "--product", &lamp.0.to_string()])
        .args(["--answers", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a\nl\nt\nc\ns\n")
        .unwrap();
    let lines = ok(&child.wait_with_output().unwrap());
    let committed: Vec<PreferenceId> = lines
        .iter()
        .filter(|l| l.starts_with("COMMITTED "))
        .map(|l| id_of(l, "COMMITTED "))
        .collect();
    assert_eq!(committed.len(), 3, "the lamp has 3 pairs: {lines:?}");
    assert!(lines.contains(&"DONE no pair left to label".to_string()));
    let last = lines.last().unwrap();
    assert_eq!(
        last,
        &format!(
            "progress: overall 3 labelled, 3 remaining; product {}: 3 labelled, 0 remaining",
            lamp.0
        )
    );
    let store = Store::open(&label_store::database(dir.path())).unwrap();
    for id in committed {
        let row = store.preference(id).unwrap().unwrap();
        for item in [row.a, row.b] {
            let PairItem::Render(r) = item else {
                panic!("{item:?}")
            };
            assert!(lamp_renders.contains(&r), "{r} is not a lamp render");
        }
    }
}

/// The stored labels of a run, comparable across stores.
fn label_rows(data: &Path) -> Vec<(PairItem, PairItem, Option<bool>, Outcome, bool)> {
    let store = Store::open(&label_store::database(data)).unwrap();
    store
        .preferences()
        .unwrap()
        .into_iter()
        .map(|r| (r.a, r.b, r.left_is_a, r.outcome, r.retracted_at.is_some()))
        .collect()
}

fn random_run(data: &Path, seed: Option<u64>, count: Option<u64>) -> Vec<String> {
    let mut cmd = adstudio(data);
    cmd.args(["--labeler", "rnd", "--answers", "random"]);
    if let Some(seed) = seed {
        cmd.args(["--seed", &seed.to_string()]);
    }
    if let Some(count) = count {
        cmd.args(["--count", &count.to_string()]);
    }
    ok(&cmd.output().unwrap())
}

fn events(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| l.starts_with("COMMITTED ") || l.starts_with("RETRACTED "))
        .count()
}

#[test]
fn random_answers_follow_seed_and_count() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for d in &dirs {
        label_store::products_with_renders(d.path(), 2, 3);
    }
    let a = random_run(dirs[0].path(), Some(7), Some(15));
    let b = random_run(dirs[1].path(), Some(7), Some(15));
    let c = random_run(dirs[2].path(), Some(8), Some(15));
    // Every key is one event: a finished pool is undone, never idle.
    assert_eq!(events(&a), 15, "{a:?}");
    assert_eq!(a, b, "same seed, same run");
    let rows_a = label_rows(dirs[0].path());
    assert_eq!(rows_a, label_rows(dirs[1].path()));
    assert_ne!(rows_a, label_rows(dirs[2].path()), "another seed: {c:?}");
    assert!(rows_a.iter().any(|r| r.4), "random answers include undo");

    // Without --count: 100 keys; without --seed: seed 0.
    let fresh = tempfile::tempdir().unwrap();
    label_store::products_with_renders(fresh.path(), 2, 3);
    let default = random_run(fresh.path(), None, None);
    assert_eq!(events(&default), 100);
    let again = tempfile::tempdir().unwrap();
    label_store::products_with_renders(again.path(), 2, 3);
    assert_eq!(random_run(again.path(), Some(0), Some(100)), default);
}

#[test]
fn bad_input_fails_clearly_and_keeps_earlier_labels() {
    let dir = tempfile::tempdir().unwrap();
    label_store::products_with_renders(dir.path(), 1, 3);
    let answers = dir.path().join("answers.txt");
    std::fs::write(&answers, "a\nzz\nl\n").unwrap();

    let run = |args: &[&str]| adstudio(dir.path()).args(args).output().unwrap();
    let file = answers.to_str().unwrap();
    let err = fails(&run(&["--labeler", " ", "--answers", file]));
    assert!(err.contains("labeler") && err.contains("empty"), "{err}");
    let err = fails(&run(&[
        "--labeler",
        "ann",
        "--product",
        "99",
        "--answers",
        file,
    ]));
    assert!(err.contains("product 99 is not in the store"), "{err}");
    let err = fails(&run(&["--labeler", "ann", "--answers", "/no/such/answers"]));
    assert!(err.contains("/no/such/answers"), "{err}");

    let out = run(&["--labeler", "ann", "--answers", file]);
    let err = fails(&out);
    assert!(err.contains("line 2") && err.contains("\"zz\""), "{err}");
    let stdout = text(&out.stdout);
    let first = stdout
        .lines()
        .find(|l| l.starts_with("COMMITTED "))
        .unwrap();
    let store = Store::open(&label_store::database(dir.path())).unwrap();
    let rows = store.active_preferences().unwrap();
    assert_eq!(rows.len(), 1, "the label before the bad line stays");
    assert_eq!(rows[0].id, id_of(first, "COMMITTED "));
}
