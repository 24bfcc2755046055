//! The store's backend layer: one small interface (execute, query,
//! transactions, bound [`Value`]s) over an embedded SQLite connection or a
//! PostgreSQL client. The table modules write their SQL once, in the
//! dialect both accept, with `?N` placeholders and the `@NOW` token;
//! [`Dialect::sql`] makes the few named substitutions per backend.

mod dialect;
mod error;
mod location;
mod postgres;
mod sqlite;
mod value;

use std::borrow::Cow;
use std::cell::RefCell;

pub use dialect::Dialect;
pub use error::{DbError, DbErrorKind};
pub use location::{redact_password, StoreLocation, STORE_ENV};
pub(crate) use value::vals;
pub use value::{ConvertError, DbRow, FromValue, ToValue, Value};

pub(crate) use self::postgres::connect as connect_postgres;

/// An open connection to one of the two backends.
pub(crate) enum Db {
    /// The embedded default.
    Sqlite(rusqlite::Connection),
    /// A shared server; `RefCell` because the store's methods take `&self`
    /// while the client's take `&mut self` (a `Store` is used from one
    /// thread at a time, like the SQLite connection).
    Postgres(RefCell<::postgres::Client>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dialect().name())
    }
}

impl Db {
    /// Which SQL dialect this connection speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement and returns the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        let sql = self.dialect().sql(sql);
        match self {
            Db::Sqlite(conn) => sqlite::execute(conn, &sql, params),
            Db::Postgres(client) => postgres::execute(&mut client.borrow_mut(), &sql, params),
        }
    }

    /// Runs a query and returns all its rows.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<DbRow>, DbError> {
        let sql = self.dialect().sql(sql);
        match self {
            Db::Sqlite(conn) => sqlite::query(conn, &sql, params),
            Db::Postgres(client) => postgres::query(&mut client.borrow_mut(), &sql, params),
        }
    }

    /// Runs several statements without parameters (DDL, transaction
    /// control). `sql` is used exactly as given: no substitution.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch(sql).map_err(DbError::Sqlite),
            Db::Postgres(client) => client
                .borrow_mut()
                .batch_execute(sql)
                .map_err(DbError::Postgres),
        }
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite (takes the
    /// write lock at once, so two writers never deadlock), `BEGIN` on
    /// PostgreSQL (row locks and constraints keep concurrent writers apart).
    pub fn begin(&self) -> Result<(), DbError> {
        self.execute_batch(match self {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        })
    }

    /// Commits the open transaction.
    pub fn commit(&self) -> Result<(), DbError> {
        self.execute_batch("COMMIT")
    }

    /// Rolls the open transaction back; a failure here is logged, the
    /// original error is what the caller reports.
    pub fn rollback(&self) {
        if let Err(e) = self.execute_batch("ROLLBACK") {
            log::warn!("rollback failed: {e}");
        }
    }
}

/// Replaces every `?N` placeholder outside string literals with `$N`.
fn numbered_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if c == '?' && !quoted { '$' } else { c });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_literals_only() {
        assert_eq!(
            numbered_placeholders("SELECT ?1, '?' || ?2 WHERE a = ?10"),
            "SELECT $1, '?' || $2 WHERE a = $10"
        );
        assert!(matches!(
            numbered_placeholders("SELECT 1"),
            Cow::Borrowed(_)
        ));
    }
}
