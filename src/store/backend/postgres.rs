//! The PostgreSQL side of the backend layer (the `postgres` crate: a
//! synchronous client over tokio-postgres, no TLS).

use std::error::Error;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, Config, NoTls, Row};

use super::error::DbError;
use super::value::{ConvertError, DbRow, Value};

/// How long connecting to the server may take before the store gives up
/// with a clear message (a refused port fails at once; a silent host after
/// this long).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `url` (a `postgres://` URL or a `key=value` string) with
/// [`CONNECT_TIMEOUT`]; `dbname` overrides the URL's database.
pub(crate) fn connect(url: &str, dbname: Option<&str>) -> Result<Client, DbError> {
    let mut config: Config = url.parse()?;
    config.connect_timeout(CONNECT_TIMEOUT);
    if config.get_application_name().is_none() {
        config.application_name("adstudio");
    }
    if let Some(name) = dbname {
        config.dbname(name);
    }
    // The client's timeout covers only the TCP connect: a host that accepts
    // and never answers would hang the caller. Connect on a helper thread
    // and give up after the same limit (the thread ends with its socket).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(NoTls));
    });
    match rx.recv_timeout(CONNECT_TIMEOUT) {
        Ok(result) => Ok(result?),
        Err(_) => Err(DbError::NoAnswer(CONNECT_TIMEOUT.as_secs())),
    }
}

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => int_to_sql(*i, ty, out),
            Value::Real(f) if *ty == Type::FLOAT4 => {
                #[allow(clippy::cast_possible_truncation)]
                let narrow = *f as f32;
                narrow.to_sql(ty, out)
            }
            Value::Real(f) => f.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// An integer parameter in whatever integer-like type the server inferred.
fn int_to_sql(i: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if *ty == Type::INT2 {
        i16::try_from(i)?.to_sql(ty, out)
    } else if *ty == Type::INT4 {
        i32::try_from(i)?.to_sql(ty, out)
    } else if *ty == Type::BOOL {
        (i != 0).to_sql(ty, out)
    } else if *ty == Type::FLOAT8 {
        #[allow(clippy::cast_precision_loss)]
        let wide = i as f64;
        wide.to_sql(ty, out)
    } else if [Type::TEXT, Type::VARCHAR, Type::UNKNOWN].contains(ty) {
        i.to_string().as_str().to_sql(ty, out)
    } else {
        i.to_sql(ty, out)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Runs one statement.
pub(super) fn execute(client: &mut Client, sql: &str, values: &[Value]) -> Result<usize, DbError> {
    let changed = client.execute(sql, &params(values))?;
    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
}

/// Runs a query and converts its rows.
pub(super) fn query(
    client: &mut Client,
    sql: &str,
    values: &[Value],
) -> Result<Vec<DbRow>, DbError> {
    let rows = client.query(sql, &params(values))?;
    rows.iter().map(convert_row).collect()
}

fn convert_row(row: &Row) -> Result<DbRow, DbError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        values.push(column_value(row, i, column.type_())?.unwrap_or(Value::Null));
    }
    Ok(DbRow(values))
}

/// Column `i` as a [`Value`] (`None`: NULL).
fn column_value(row: &Row, i: usize, ty: &Type) -> Result<Option<Value>, DbError> {
    let value = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?.map(Value::Real)
    } else if *ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into()))
    } else if *ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
    } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(ty) {
        row.try_get::<_, Option<String>>(i)?.map(Value::Text)
    } else {
        return Err(DbError::Convert(ConvertError {
            column: i,
            message: format!(
                "PostgreSQL type {ty} is not supported \
                 (cast it to BIGINT, DOUBLE PRECISION or TEXT)"
            ),
        }));
    };
    Ok(value)
}
