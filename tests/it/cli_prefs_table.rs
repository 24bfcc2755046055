//! `adstudio prefs export --format parquet|jsonl [--what prefs|clicks]`
//! through the binary: the files it writes hold the store's rows, an
//! empty store gives an empty table, and bad combinations or paths fail
//! with a clear message.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use crate::common::dataset_store::world;
use crate::common::parquet_read::{read_jsonl, read_parquet};

fn export(data: &Path, args: &[&str], out: &Path) -> (Output, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data)
        .args(["prefs", "export"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

fn export_ok(data: &Path, args: &[&str], out: &Path) -> String {
    let (output, stdout, stderr) = export(data, args, out);
    assert!(
        output.status.success(),
        "{args:?} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

#[test]
fn format_parquet_and_jsonl_with_what_prefs_and_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let world = world(&data);

    // --what defaults to prefs.
    let out = dir.path().join("prefs.parquet");
    let stdout = export_ok(&data, &["--format", "parquet"], &out);
    assert!(stdout.contains("wrote 4 prefs rows as parquet"), "{stdout}");
    assert!(
        stdout.contains("1 tie/can't tell/skip labels, 1 labels on creatives, 2 with problems"),
        "{stdout}"
    );
    assert_eq!(read_parquet(&out).rows, world.pairs);

    let out = dir.path().join("prefs.jsonl");
    let stdout = export_ok(&data, &["--format", "jsonl", "--what", "prefs"], &out);
    assert!(stdout.contains("wrote 4 prefs rows as jsonl"), "{stdout}");
    assert_eq!(read_jsonl(&out), world.pairs);

    let out = dir.path().join("clicks.parquet");
    let stdout = export_ok(&data, &["--what", "clicks", "--format", "parquet"], &out);
    assert!(
        stdout.contains("wrote 3 clicks rows as parquet"),
        "{stdout}"
    );
    assert_eq!(read_parquet(&out).rows, world.clicks);

    let out = dir.path().join("clicks.jsonl");
    export_ok(&data, &["--what", "clicks", "--format", "jsonl"], &out);
    assert_eq!(read_jsonl(&out), world.clicks);
}

#[test]
fn an_empty_store_exports_an_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("clicks.parquet");
    let stdout = export_ok(&data, &["--what", "clicks", "--format", "parquet"], &out);
    assert!(stdout.contains("wrote 0 clicks rows"), "{stdout}");
    let table = read_parquet(&out);
    assert_eq!((table.num_rows, table.columns.len()), (0, 13));
}

#[test]
fn clicks_in_a_pair_layout_and_unwritable_paths_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    world(&data);
    let out = dir.path().join("clicks.jsonl");
    for format in ["trl", "caig"] {
        let (output, _, stderr) = export(&data, &["--what", "clicks", "--format", format], &out);
        assert!(!output.status.success());
        assert!(
            stderr.contains("--what clicks needs --format parquet or jsonl"),
            "{stderr}"
        );
        assert!(!out.exists());
    }
    let (output, _, stderr) = export(&data, &["--format", "xml"], &out);
    assert!(!output.status.success());
    assert!(
        stderr.contains("possible values: trl, caig, parquet, jsonl"),
        "{stderr}"
    );

    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let out = blocker.join("prefs.parquet");
    let (output, _, stderr) = export(&data, &["--format", "parquet"], &out);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("cannot write {}", out.display())),
        "{stderr}"
    );
}
