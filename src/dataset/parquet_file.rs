//! Writing a [`Column`] table as a Parquet file: snappy-compressed, flat
//! schema, row groups of at most [`ROWS_PER_GROUP`] rows (no rows: a
//! valid file with the schema and no row group).

use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};

use super::atomic::write_atomically;
use super::columns::{parquet_schema, Column, Values};
use super::error::DatasetError;

/// The most rows in one row group.
pub const ROWS_PER_GROUP: usize = 65_536;

/// Writes `columns` (all of the same length) to `out` (atomically) as a
/// Parquet file whose schema message is named `name`.
pub fn write_parquet(out: &Path, name: &str, columns: &[Column]) -> Result<(), DatasetError> {
    let parquet_err = |source| DatasetError::Parquet {
        path: out.to_path_buf(),
        source,
    };
    write_atomically(out, |file| encode(file, name, columns).map_err(parquet_err))
}

/// Encodes the table into `file` and returns it (footer written).
fn encode(file: File, name: &str, columns: &[Column]) -> Result<File, ParquetError> {
    let rows = columns.first().map_or(0, |c| c.values.len());
    if let Some(odd) = columns.iter().find(|c| c.values.len() != rows) {
        return Err(ParquetError::General(format!(
            "column {} has {} rows, expected {rows}",
            odd.name,
            odd.values.len()
        )));
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("adstudio {}", env!("CARGO_PKG_VERSION")))
        .build();
    let schema = parquet_schema(name, columns)?;
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(props))?;
    let mut start = 0;
    while start < rows {
        let end = rows.min(start + ROWS_PER_GROUP);
        let mut group = writer.next_row_group()?;
        for column in columns {
            let mut column_writer = group.next_column()?.ok_or_else(|| {
                ParquetError::General(format!("no column in the schema for {}", column.name))
            })?;
            write_values(&mut column_writer, &column.values, start..end)?;
            column_writer.close()?;
        }
        group.close()?;
        start = end;
    }
    writer.into_inner()
}

/// Writes the rows `range` of one column.
fn write_values(
    writer: &mut SerializedColumnWriter<'_>,
    values: &Values,
    range: Range<usize>,
) -> Result<usize, ParquetError> {
    match values {
        Values::Text(v) => {
            let bytes: Vec<ByteArray> = v[range]
                .iter()
                .map(|s| ByteArray::from(s.as_str()))
                .collect();
            writer
                .typed::<ByteArrayType>()
                .write_batch(&bytes, None, None)
        }
        Values::Int(v) => writer
            .typed::<Int64Type>()
            .write_batch(&v[range], None, None),
        Values::UInt(v) => {
            // Parquet stores unsigned 64-bit integers in INT64, bit for bit.
            let bits: Vec<i64> = v[range]
                .iter()
                .map(|u| i64::from_ne_bytes(u.to_ne_bytes()))
                .collect();
            writer.typed::<Int64Type>().write_batch(&bits, None, None)
        }
        Values::Float(v) => writer
            .typed::<DoubleType>()
            .write_batch(&v[range], None, None),
        Values::OptFloat(v) => {
            let (present, levels) = split_nulls(&v[range]);
            writer
                .typed::<DoubleType>()
                .write_batch(&present, Some(&levels), None)
        }
        Values::OptBool(v) => {
            let (present, levels) = split_nulls(&v[range]);
            writer
                .typed::<BoolType>()
                .write_batch(&present, Some(&levels), None)
        }
    }
}

/// The present values and the definition levels (1 present, 0 null) of
/// an optional column.
fn split_nulls<T: Copy>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().filter_map(|v| *v).collect();
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, levels)
}
