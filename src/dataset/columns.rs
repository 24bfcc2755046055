//! A table as named, typed columns: what the Parquet writer needs (the
//! schema and one value vector per column), independent of what the rows
//! mean.
//!
//! The column type, not the data, decides the schema: an empty table has
//! the same schema as a full one.

use std::sync::Arc;

use parquet::basic::{IntType, LogicalType, Repetition, Type as PhysicalType};
use parquet::errors::ParquetError;
use parquet::schema::types::{Type, TypePtr};

/// The values of one column, all rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Required UTF-8 text (Parquet `BYTE_ARRAY` annotated `STRING`).
    Text(Vec<String>),
    /// Required signed 64-bit integers (`INT64`).
    Int(Vec<i64>),
    /// Required unsigned 64-bit integers (`INT64` annotated
    /// `INTEGER(64, false)`).
    UInt(Vec<u64>),
    /// Required 64-bit floats (`DOUBLE`).
    Float(Vec<f64>),
    /// Optional 64-bit floats (`DOUBLE`, null allowed).
    OptFloat(Vec<Option<f64>>),
    /// Optional booleans (`BOOLEAN`, null allowed).
    OptBool(Vec<Option<bool>>),
}

impl Values {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::UInt(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::OptFloat(v) => v.len(),
            Values::OptBool(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn physical(&self) -> PhysicalType {
        match self {
            Values::Text(_) => PhysicalType::BYTE_ARRAY,
            Values::Int(_) | Values::UInt(_) => PhysicalType::INT64,
            Values::Float(_) | Values::OptFloat(_) => PhysicalType::DOUBLE,
            Values::OptBool(_) => PhysicalType::BOOLEAN,
        }
    }

    fn logical(&self) -> Option<LogicalType> {
        match self {
            Values::Text(_) => Some(LogicalType::String),
            Values::UInt(_) => Some(LogicalType::Integer(IntType {
                bit_width: 64,
                is_signed: false,
            })),
            _ => None,
        }
    }

    fn repetition(&self) -> Repetition {
        match self {
            Values::OptFloat(_) | Values::OptBool(_) => Repetition::OPTIONAL,
            _ => Repetition::REQUIRED,
        }
    }
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column name (also the JSONL key of the same field).
    pub name: &'static str,
    /// Its values.
    pub values: Values,
}

impl Column {
    /// A required text column.
    pub fn text<'a>(name: &'static str, values: impl Iterator<Item = &'a str>) -> Column {
        Column {
            name,
            values: Values::Text(values.map(str::to_string).collect()),
        }
    }

    /// A required signed integer column.
    pub fn int(name: &'static str, values: impl Iterator<Item = i64>) -> Column {
        Column {
            name,
            values: Values::Int(values.collect()),
        }
    }

    /// A required unsigned integer column.
    pub fn uint(name: &'static str, values: impl Iterator<Item = u64>) -> Column {
        Column {
            name,
            values: Values::UInt(values.collect()),
        }
    }

    /// A required float column.
    pub fn float(name: &'static str, values: impl Iterator<Item = f64>) -> Column {
        Column {
            name,
            values: Values::Float(values.collect()),
        }
    }

    /// An optional float column.
    pub fn opt_float(name: &'static str, values: impl Iterator<Item = Option<f64>>) -> Column {
        Column {
            name,
            values: Values::OptFloat(values.collect()),
        }
    }

    /// An optional boolean column.
    pub fn opt_bool(name: &'static str, values: impl Iterator<Item = Option<bool>>) -> Column {
        Column {
            name,
            values: Values::OptBool(values.collect()),
        }
    }

    fn parquet_type(&self) -> Result<TypePtr, ParquetError> {
        Type::primitive_type_builder(self.name, self.values.physical())
            .with_repetition(self.values.repetition())
            .with_logical_type(self.values.logical())
            .build()
            .map(Arc::new)
    }
}

/// The Parquet schema (a flat message named `name`) of `columns`.
pub fn parquet_schema(name: &str, columns: &[Column]) -> Result<TypePtr, ParquetError> {
    let fields = columns
        .iter()
        .map(Column::parquet_type)
        .collect::<Result<Vec<_>, _>>()?;
    Type::group_type_builder(name)
        .with_fields(fields)
        .build()
        .map(Arc::new)
}
