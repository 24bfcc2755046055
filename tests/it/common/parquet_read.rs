//! Reading exported tables back: Parquet with the `parquet` crate's own
//! reader (schema and rows), JSONL line by line.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Map, Value};

/// One column of a Parquet schema: name, physical type, logical type and
/// whether it may be null, as text ("chosen_seed INT64 Integer { .. }
/// required").
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Physical type, e.g. "INT64".
    pub physical: String,
    /// Logical type, e.g. "Some(String)".
    pub logical: String,
    /// Whether the column is OPTIONAL.
    pub optional: bool,
}

/// A Parquet file read back.
pub struct ParquetTable {
    /// The schema's columns, in order.
    pub columns: Vec<ColumnInfo>,
    /// The schema message's name.
    pub schema_name: String,
    /// Row groups.
    pub row_groups: usize,
    /// Rows per the footer.
    pub num_rows: i64,
    /// The compression of every column chunk (e.g. "SNAPPY").
    pub codecs: Vec<String>,
    /// The rows, each as a JSON object of column name to value.
    pub rows: Vec<Map<String, Value>>,
}

fn json_of(field: &Field) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Long(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Double(x) => Value::from(*x),
        Field::Str(s) => Value::String(s.clone()),
        other => panic!("unexpected Parquet field {other:?}"),
    }
}

/// Reads `path` with the parquet crate's reader.
pub fn read_parquet(path: &Path) -> ParquetTable {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let columns = schema
        .columns()
        .iter()
        .map(|c| ColumnInfo {
            name: c.name().to_string(),
            physical: c.physical_type().to_string(),
            logical: format!("{:?}", c.logical_type_ref()),
            optional: c.self_type().get_basic_info().repetition()
                == parquet::basic::Repetition::OPTIONAL,
        })
        .collect();
    let codecs = meta
        .row_groups()
        .iter()
        .flat_map(|g| g.columns().iter().map(|c| c.compression().to_string()))
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| (name.clone(), json_of(field)))
                .collect()
        })
        .collect();
    ParquetTable {
        columns,
        schema_name: schema.name().to_string(),
        row_groups: meta.num_row_groups(),
        num_rows: meta.file_metadata().num_rows(),
        codecs,
        rows,
    }
}

/// Reads a JSONL file: one JSON object per non-empty line.
pub fn read_jsonl(path: &Path) -> Vec<Map<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| match serde_json::from_str(line).unwrap() {
            Value::Object(map) => map,
            other => panic!("line is not an object: {other}"),
        })
        .collect()
}

/// The column names of a schema.
pub fn names(columns: &[ColumnInfo]) -> Vec<&str> {
    columns.iter().map(|c| c.name.as_str()).collect()
}
