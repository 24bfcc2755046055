//! The value type both backends bind and return: parameters go in as
//! [`Value`]s, rows come back as [`DbRow`]s of [`Value`]s, and the table
//! modules convert with [`ToValue`] and [`FromValue`].

/// One SQL value, in the storage classes both SQLite and PostgreSQL have.
/// Booleans are stored as 0/1 integers (the schema's CHECKs say so).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT).
    Int(i64),
    /// A double (SQLite REAL, PostgreSQL DOUBLE PRECISION).
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes (SQLite BLOB, PostgreSQL BYTEA).
    Blob(Vec<u8>),
}

impl Value {
    /// The storage class, for conversion messages.
    fn class(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
        }
    }
}

/// A column value could not be converted to the Rust type asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ConvertError {
    /// Zero-based column index.
    pub column: usize,
    /// What did not fit.
    pub message: String,
}

/// Converts a Rust value into a bound parameter.
pub trait ToValue {
    /// The parameter value.
    fn to_value(&self) -> Value;
}

/// Converts a column value into a Rust value.
pub trait FromValue: Sized {
    /// The Rust value, or a message saying why the column does not fit.
    fn from_value(value: &Value) -> Result<Self, String>;
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct DbRow(pub Vec<Value>);

impl DbRow {
    /// Column `idx` converted to `T`.
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T, ConvertError> {
        let value = self.0.get(idx).ok_or_else(|| ConvertError {
            column: idx,
            message: format!("row has only {} columns", self.0.len()),
        })?;
        T::from_value(value).map_err(|message| ConvertError {
            column: idx,
            message,
        })
    }
}

/// `[Value; N]` from a list of expressions implementing [`ToValue`].
macro_rules! vals {
    ($($x:expr),* $(,)?) => {
        [$($crate::store::backend::ToValue::to_value(&$x)),*]
    };
}
pub(crate) use vals;

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for usize {
    fn to_value(&self) -> Value {
        // Row counts and indexes; saturates far beyond any table size.
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

fn mismatch(want: &str, got: &Value) -> String {
    format!("expected {want}, found {}", got.class())
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(*i),
            other => Err(mismatch("integer", other)),
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: &Value) -> Result<Self, String> {
        let i = i64::from_value(value)?;
        u32::try_from(i).map_err(|_| format!("integer {i} out of range for u32"))
    }
}

impl FromValue for u64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        let i = i64::from_value(value)?;
        u64::try_from(i).map_err(|_| format!("integer {i} out of range for u64"))
    }
}

impl FromValue for usize {
    fn from_value(value: &Value) -> Result<Self, String> {
        let i = i64::from_value(value)?;
        usize::try_from(i).map_err(|_| format!("integer {i} out of range for usize"))
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        match i64::from_value(value)? {
            0 => Ok(false),
            1 => Ok(true),
            i => Err(format!("integer {i} is not a boolean (0 or 1)")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(f) => Ok(*f),
            // SQLite may hand back an integral REAL aggregate as INTEGER.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Ok(*i as f64),
            other => Err(mismatch("real", other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(mismatch("blob", other)),
        }
    }
}

impl FromValue for serde_json::Value {
    fn from_value(value: &Value) -> Result<Self, String> {
        let text = String::from_value(value)?;
        serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_mismatches_are_reported() {
        let row = DbRow(vec![
            vals![7u32, true, "x", Option::<i64>::None, 0.5][0].clone(),
            Value::Int(1),
            Value::Text("{\"a\":1}".into()),
            Value::Null,
            Value::Text("{broken".into()),
        ]);
        assert_eq!(row.get::<u32>(0), Ok(7));
        assert_eq!(row.get::<bool>(1), Ok(true));
        assert_eq!(
            row.get::<serde_json::Value>(2),
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(row.get::<Option<String>>(3), Ok(None));
        assert!(row.get::<serde_json::Value>(4).is_err());
        assert!(row.get::<i64>(2).is_err());
        assert!(row.get::<i64>(9).is_err());
        assert_eq!(Value::Int(-1).to_value(), Value::Int(-1));
        assert!(u32::from_value(&Value::Int(-1)).is_err());
    }
}
