//! Errors of either backend, and their classification into the cases the
//! store reports differently.

use super::value::ConvertError;

/// An error raised by one of the backends, naming it in its message.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// From SQLite.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// From PostgreSQL (or the connection to it).
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// A column did not convert to the Rust type expected.
    #[error("{0}")]
    Convert(#[from] ConvertError),
    /// The server accepted the connection but sent nothing back in time.
    #[error("PostgreSQL: the server accepted the connection but did not answer within {0} s")]
    NoAnswer(u64),
}

/// What kind of failure a [`DbError`] is, as far as the store cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbErrorKind {
    /// The disk or quota is full.
    DiskFull,
    /// The file is not an SQLite database.
    NotADatabase,
    /// A constraint was violated; the backend's message.
    Constraint(String),
    /// Anything else.
    Other,
}

impl DbError {
    /// Classifies the error.
    pub fn kind(&self) -> DbErrorKind {
        match self {
            DbError::Sqlite(e) => sqlite_kind(e),
            DbError::Postgres(e) => postgres_kind(e),
            DbError::Convert(_) | DbError::NoAnswer(_) => DbErrorKind::Other,
        }
    }
}

fn sqlite_kind(e: &rusqlite::Error) -> DbErrorKind {
    use rusqlite::ffi::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => DbErrorKind::DiskFull,
        Some(ErrorCode::NotADatabase) => DbErrorKind::NotADatabase,
        Some(ErrorCode::ConstraintViolation) => DbErrorKind::Constraint(match e {
            rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
            other => other.to_string(),
        }),
        _ => DbErrorKind::Other,
    }
}

fn postgres_kind(e: &postgres::Error) -> DbErrorKind {
    let Some(db) = e.as_db_error() else {
        return DbErrorKind::Other;
    };
    let code = db.code().code();
    if code.starts_with("23") {
        let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        DbErrorKind::Constraint(format!("{}{detail}", db.message()))
    } else if code == "53100" {
        DbErrorKind::DiskFull
    } else {
        DbErrorKind::Other
    }
}
