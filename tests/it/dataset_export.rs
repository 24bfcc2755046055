//! The training-data tables (`adstudio::dataset`): preferences and click
//! data written as Parquet and JSONL from a store built here, read back
//! with the parquet crate's reader and compared, row by row and column by
//! column, with what was put into the store; the schema of each table;
//! empty stores; unwritable paths; several row groups.

#![allow(clippy::unwrap_used)]

use adstudio::dataset::{
    export_table, temp_path, write_parquet, Column, Table, TableFormat, ROWS_PER_GROUP,
};
use serde_json::{json, Value};

use crate::common::dataset_store::{open, world};
use crate::common::parquet_read::{names, read_jsonl, read_parquet, ColumnInfo};

/// The preference table's columns: name, physical type, optional.
const PREFS_SCHEMA: &[(&str, &str, bool)] = &[
    ("label_id", "INT64", false),
    ("product_id", "INT64", false),
    ("product_title", "BYTE_ARRAY", false),
    ("product_image_hash", "BYTE_ARRAY", false),
    ("product_image", "BYTE_ARRAY", false),
    ("prompt", "BYTE_ARRAY", false),
    ("chosen", "BYTE_ARRAY", false),
    ("rejected", "BYTE_ARRAY", false),
    ("chosen_render_id", "INT64", false),
    ("rejected_render_id", "INT64", false),
    ("chosen_image_hash", "BYTE_ARRAY", false),
    ("rejected_image_hash", "BYTE_ARRAY", false),
    ("chosen_image", "BYTE_ARRAY", false),
    ("rejected_image", "BYTE_ARRAY", false),
    ("chosen_seed", "INT64", false),
    ("rejected_seed", "INT64", false),
    ("labeler", "BYTE_ARRAY", false),
    ("source", "BYTE_ARRAY", false),
    ("outcome", "BYTE_ARRAY", false),
    ("left_is_a", "BOOLEAN", true),
    ("model_p_a", "DOUBLE", true),
    ("created_at", "BYTE_ARRAY", false),
];

/// The click table's columns.
const CLICKS_SCHEMA: &[(&str, &str, bool)] = &[
    ("creative_row_id", "INT64", false),
    ("creative_id", "BYTE_ARRAY", false),
    ("product_key", "BYTE_ARRAY", false),
    ("image_hash", "BYTE_ARRAY", false),
    ("image", "BYTE_ARRAY", false),
    ("source_path", "BYTE_ARRAY", false),
    ("impressions", "INT64", false),
    ("clicks", "INT64", false),
    ("ctr", "DOUBLE", false),
    ("import_id", "INT64", false),
    ("import_file", "BYTE_ARRAY", false),
    ("imported_at", "BYTE_ARRAY", false),
    ("line", "INT64", false),
];

/// Unsigned columns (INT64 annotated unsigned).
const UNSIGNED: &[&str] = &[
    "chosen_seed",
    "rejected_seed",
    "impressions",
    "clicks",
    "line",
];

fn assert_schema(columns: &[ColumnInfo], expected: &[(&str, &str, bool)]) {
    let got: Vec<(&str, &str, bool)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.physical.as_str(), c.optional))
        .collect();
    assert_eq!(got, expected);
    for c in columns {
        if c.physical == "BYTE_ARRAY" {
            assert_eq!(c.logical, "Some(String)", "{}", c.name);
        } else if UNSIGNED.contains(&c.name.as_str()) {
            assert!(c.logical.contains("is_signed: false"), "{c:?}");
        } else {
            assert_eq!(c.logical, "None", "{}", c.name);
        }
    }
}

#[test]
fn prefs_as_parquet_and_jsonl_hold_every_decisive_label_on_renders() {
    let dir = tempfile::tempdir().unwrap();
    let world = world(dir.path());
    let (store, images) = open(dir.path());
    let parquet = dir.path().join("prefs.parquet");
    let report = export_table(
        &store,
        &images,
        Table::Prefs,
        TableFormat::Parquet,
        &parquet,
    )
    .unwrap();
    assert_eq!(report.rows, 4);
    assert_eq!((report.undecided, report.on_creatives), (1, 1));
    let problems: Vec<&str> = report.problems.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("no prompt"), "{problems:?}");
    assert!(problems[1].contains("of product"), "{problems:?}");

    let table = read_parquet(&parquet);
    assert_schema(&table.columns, PREFS_SCHEMA);
    assert_eq!(table.schema_name, "prefs");
    assert_eq!((table.num_rows, table.row_groups), (4, 1));
    assert!(
        table.codecs.iter().all(|c| c == "SNAPPY"),
        "{:?}",
        table.codecs
    );
    assert_eq!(table.rows, world.pairs);
    // The seed above i64::MAX survives as an unsigned value.
    assert_eq!(table.rows[1]["chosen_seed"], json!(u64::MAX - 6));
    assert!(!temp_path(&parquet).exists());

    let jsonl = dir.path().join("prefs.jsonl");
    let report = export_table(&store, &images, Table::Prefs, TableFormat::Jsonl, &jsonl).unwrap();
    assert_eq!(report.rows, 4);
    assert_eq!(read_jsonl(&jsonl), world.pairs);
}

#[test]
fn clicks_as_parquet_and_jsonl_hold_every_creative() {
    let dir = tempfile::tempdir().unwrap();
    let world = world(dir.path());
    let (store, images) = open(dir.path());
    let parquet = dir.path().join("clicks.parquet");
    let report = export_table(
        &store,
        &images,
        Table::Clicks,
        TableFormat::Parquet,
        &parquet,
    )
    .unwrap();
    assert_eq!(report.rows, 3);
    let table = read_parquet(&parquet);
    assert_schema(&table.columns, CLICKS_SCHEMA);
    assert_eq!(table.schema_name, "clicks");
    assert_eq!(table.num_rows, 3);
    assert_eq!(table.rows, world.clicks);
    assert_eq!(table.rows[0]["ctr"], json!(0.035));

    let jsonl = dir.path().join("clicks.jsonl");
    export_table(&store, &images, Table::Clicks, TableFormat::Jsonl, &jsonl).unwrap();
    assert_eq!(read_jsonl(&jsonl), world.clicks);
}

#[test]
fn an_empty_store_gives_empty_files_with_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (store, images) = open(dir.path());
    for (table, schema) in [(Table::Prefs, PREFS_SCHEMA), (Table::Clicks, CLICKS_SCHEMA)] {
        let parquet = dir.path().join(format!("{}.parquet", table.as_str()));
        let report = export_table(&store, &images, table, TableFormat::Parquet, &parquet).unwrap();
        assert_eq!(report.rows, 0);
        let read = read_parquet(&parquet);
        assert_schema(&read.columns, schema);
        assert_eq!((read.num_rows, read.row_groups, read.rows.len()), (0, 0, 0));

        let jsonl = dir.path().join(format!("{}.jsonl", table.as_str()));
        export_table(&store, &images, table, TableFormat::Jsonl, &jsonl).unwrap();
        assert_eq!(std::fs::read(&jsonl).unwrap().len(), 0);
    }
}

#[test]
fn an_unwritable_path_fails_clearly_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let (store, images) = open(dir.path());
    // The parent is a regular file (fails for root too).
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    for format in [TableFormat::Parquet, TableFormat::Jsonl] {
        let out = blocker.join("prefs.out");
        let err = export_table(&store, &images, Table::Prefs, format, &out).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cannot write"), "{text}");
        assert!(text.contains(&out.display().to_string()), "{text}");
    }
    // A failure (here: the temporary name is taken by a folder) leaves
    // an existing file as it was.
    let out = dir.path().join("old.parquet");
    std::fs::write(&out, "old contents").unwrap();
    std::fs::create_dir(temp_path(&out)).unwrap();
    let err = export_table(&store, &images, Table::Clicks, TableFormat::Parquet, &out);
    assert!(err.is_err());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old contents");
    // Once the name is free the file is replaced.
    std::fs::remove_dir(temp_path(&out)).unwrap();
    export_table(&store, &images, Table::Clicks, TableFormat::Parquet, &out).unwrap();
    assert_eq!(read_parquet(&out).num_rows, 3);
}

#[test]
fn a_long_table_spans_row_groups_with_nulls_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let n = ROWS_PER_GROUP + 1234;
    let float = |i: usize| (!i.is_multiple_of(3)).then_some(i as f64 / 8.0);
    let flag = |i: usize| (!i.is_multiple_of(5)).then_some(i.is_multiple_of(2));
    let columns = vec![
        Column::int("i", (0..n).map(|i| i as i64 - 7)),
        Column::uint("u", (0..n).map(|i| u64::MAX - i as u64)),
        Column::opt_float("x", (0..n).map(float)),
        Column::opt_bool("b", (0..n).map(flag)),
        Column::text("t", (0..n).map(|i| if i % 2 == 0 { "even" } else { "odd" })),
    ];
    let out = dir.path().join("long.parquet");
    write_parquet(&out, "long", &columns).unwrap();
    let table = read_parquet(&out);
    assert_eq!(names(&table.columns), ["i", "u", "x", "b", "t"]);
    assert_eq!((table.num_rows, table.row_groups), (n as i64, 2));
    for (i, row) in table.rows.iter().enumerate() {
        let expected = json!({
            "i": i as i64 - 7,
            "u": u64::MAX - i as u64,
            "x": float(i),
            "b": flag(i),
            "t": if i % 2 == 0 { "even" } else { "odd" },
        });
        assert_eq!(&Value::Object(row.clone()), &expected, "row {i}");
    }
}

#[test]
fn columns_of_different_lengths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.parquet");
    let columns = vec![
        Column::int("a", [1, 2].into_iter()),
        Column::int("b", [1].into_iter()),
    ];
    let err = write_parquet(&out, "bad", &columns)
        .unwrap_err()
        .to_string();
    assert!(err.contains("column b has 1 rows, expected 2"), "{err}");
    assert!(!out.exists() && !temp_path(&out).exists());
}
