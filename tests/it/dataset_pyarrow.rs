//! Cross-tool checks of the exported tables and the TRL recipe, with a
//! Python outside cargo (`.ci/python-tools.sh` provides one in CI):
//! pyarrow reads the Parquet files written by `adstudio prefs export`
//! with the same rows and types; docs/train_trl_dpo.py compiles.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

use crate::common::dataset_store::{open, world};
use adstudio::dataset::{export_table, Table, TableFormat};

/// The Python named by `var`; panics (never passes) when unset.
fn python(var: &str, what: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "this test needs {what}: set {var} to a python (`eval \"$(.ci/python-tools.sh)\"` makes one)"
        ),
    }
}

/// Reads `file` with pyarrow: its Arrow schema as (name, type) and rows.
const READ: &str = r#"
import json, sys
import pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
print(json.dumps({
    "num_rows": table.num_rows,
    "schema": [[f.name, str(f.type)] for f in table.schema],
    "rows": table.to_pylist(),
}))
"#;

fn pyarrow_read(python: &Path, file: &Path) -> Value {
    let out = Command::new(python)
        .args(["-c", READ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyarrow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows(value: &Value) -> Vec<Map<String, Value>> {
    serde_json::from_value(value["rows"].clone()).unwrap()
}

fn arrow_type<'a>(value: &'a Value, column: &str) -> &'a str {
    value["schema"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == column)
        .unwrap_or_else(|| panic!("no column {column}"))[1]
        .as_str()
        .unwrap()
}

#[test]
#[ignore = "needs pyarrow: set ADSTUDIO_TEST_PYARROW_PYTHON"]
fn pyarrow_reads_the_exported_tables() {
    let python = python("ADSTUDIO_TEST_PYARROW_PYTHON", "pyarrow");
    let dir = tempfile::tempdir().unwrap();
    let world = world(dir.path());
    let (store, images) = open(dir.path());
    let prefs = dir.path().join("prefs.parquet");
    export_table(&store, &images, Table::Prefs, TableFormat::Parquet, &prefs).unwrap();
    let read = pyarrow_read(&python, &prefs);
    assert_eq!(read["num_rows"], 4);
    for (column, ty) in [
        ("prompt", "string"),
        ("chosen", "string"),
        ("rejected", "string"),
        ("chosen_seed", "uint64"),
        ("label_id", "int64"),
        ("left_is_a", "bool"),
        ("model_p_a", "double"),
    ] {
        assert_eq!(arrow_type(&read, column), ty, "{column}");
    }
    let got = rows(&read);
    assert_eq!(got, world.pairs);
    assert_eq!(got[1]["chosen_seed"], serde_json::json!(u64::MAX - 6));
    assert_eq!(got[3]["model_p_a"], serde_json::json!(0.7));

    let clicks = dir.path().join("clicks.parquet");
    export_table(
        &store,
        &images,
        Table::Clicks,
        TableFormat::Parquet,
        &clicks,
    )
    .unwrap();
    let read = pyarrow_read(&python, &clicks);
    assert_eq!(read["num_rows"], 3);
    assert_eq!(arrow_type(&read, "ctr"), "double");
    assert_eq!(rows(&read), world.clicks);

    let (empty_store, empty_images) = open(&dir.path().join("empty"));
    let empty = dir.path().join("empty.parquet");
    export_table(
        &empty_store,
        &empty_images,
        Table::Prefs,
        TableFormat::Parquet,
        &empty,
    )
    .unwrap();
    let read = pyarrow_read(&python, &empty);
    assert_eq!(read["num_rows"], 0);
    assert_eq!(read["schema"].as_array().unwrap().len(), 22);
}

#[test]
#[ignore = "needs Python 3: set ADSTUDIO_TEST_PYTHON"]
fn the_trl_recipe_script_compiles() {
    let python = python("ADSTUDIO_TEST_PYTHON", "Python 3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/train_trl_dpo.py");
    let dir = tempfile::tempdir().unwrap();
    // Compiled into a temporary file: no __pycache__ in the repository.
    let out = Command::new(&python)
        .arg("-c")
        .arg("import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)")
        .arg(&script)
        .arg(dir.path().join("train_trl_dpo.pyc"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} does not compile: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("train_trl_dpo.pyc").is_file());
}
