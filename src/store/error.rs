//! The store's error type.

use std::path::PathBuf;

use super::backend::{DbError, DbErrorKind};

/// Everything that can go wrong in the store. Messages name the database
/// (the SQLite file, or the PostgreSQL URL without its password), the
/// backend and, for SQL errors, the table involved. `path` fields hold that
/// location.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database file or URL.
        path: PathBuf,
        /// The underlying backend error.
        source: DbError,
    },
    /// The database file exists but could not be read.
    #[error("cannot read database file {path}: {source}")]
    ReadFile {
        /// The database file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file exists but is not an SQLite database. It was not modified.
    #[error(
        "{path} is not an SQLite database; adstudio left it untouched \
         (choose another --data-dir or move the file away)"
    )]
    NotADatabase {
        /// The offending file.
        path: PathBuf,
    },
    /// The database (an SQLite file, or a PostgreSQL schema that already
    /// has tables) belongs to another application. It was not modified.
    #[error("{path} is a database but not an adstudio database ({reason}); left untouched")]
    NotAdstudioDatabase {
        /// The offending file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The database was written by a newer adstudio with a schema this
    /// build does not know.
    #[error(
        "database {path} has schema version {found}, newer than this build supports \
         ({supported}); upgrade adstudio to open it"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// Applying a schema migration failed; the database keeps its previous
    /// version.
    #[error("migrating database {path} to schema version {version} failed: {source}")]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The version that could not be reached.
        version: i64,
        /// The underlying backend error.
        source: DbError,
    },
    /// The disk (or file system quota) is full. The failed change was rolled
    /// back; committed rows are intact.
    #[error("disk full while writing table {table} of database {path}; free some space and retry")]
    DiskFull {
        /// The database file.
        path: PathBuf,
        /// The table being written.
        table: &'static str,
    },
    /// A row broke a constraint (missing referenced row, value outside the
    /// allowed set, ...).
    #[error("constraint violated in table {table} of database {path}: {message}")]
    Constraint {
        /// The database file.
        path: PathBuf,
        /// The table being written.
        table: &'static str,
        /// The backend's description of the violated constraint.
        message: String,
    },
    /// Any other database error (the message names the backend).
    #[error("database error on table {table} of {path}: {source}")]
    Database {
        /// The database file or URL.
        path: PathBuf,
        /// The table being accessed.
        table: &'static str,
        /// The underlying backend error.
        source: DbError,
    },
    /// An update or finish referred to a row that does not exist.
    #[error("no row with id {id} in table {table} of database {path}")]
    NotFound {
        /// The database file.
        path: PathBuf,
        /// The table searched.
        table: &'static str,
        /// The missing id.
        id: i64,
    },
    /// A long write (a click-log import) was cancelled by its caller; the
    /// transaction was rolled back and nothing of it was stored.
    #[error(
        "cancelled while writing table {table} after {done} of {total} rows; nothing was stored"
    )]
    Cancelled {
        /// The table being written.
        table: &'static str,
        /// Rows processed before the cancel.
        done: usize,
        /// Rows in the whole write.
        total: usize,
    },
    /// A caller-supplied argument was rejected before touching the database.
    #[error("invalid argument for table {table}: {message}")]
    InvalidArgument {
        /// The table that would have been written.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An image file could not be written, read or synced. A failed write
    /// leaves no partial file behind.
    #[error("image file {path}: {source}")]
    ImageIo {
        /// The image file (or its directory).
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The disk is full while writing an image file; nothing was left behind.
    #[error("disk full while writing image file {path}; free some space and retry")]
    ImageDiskFull {
        /// The image file that could not be written.
        path: PathBuf,
    },
    /// An image could not be encoded as PNG.
    #[error("cannot encode image as PNG for {dir}: {source}")]
    ImageEncode {
        /// The image store directory.
        dir: PathBuf,
        /// The underlying encoder error.
        source: image::ImageError,
    },
    /// A hash or extension passed to the image store is malformed.
    #[error("invalid image key: {message}")]
    InvalidImageKey {
        /// What is wrong with the key.
        message: String,
    },
}

impl StoreError {
    /// Classifies a backend error raised while accessing `table` of `path`.
    pub(crate) fn from_db(path: &std::path::Path, table: &'static str, e: DbError) -> Self {
        let path = path.to_path_buf();
        match e.kind() {
            DbErrorKind::DiskFull => StoreError::DiskFull { path, table },
            DbErrorKind::NotADatabase => StoreError::NotADatabase { path },
            DbErrorKind::Constraint(message) => StoreError::Constraint {
                path,
                table,
                message,
            },
            DbErrorKind::Other => StoreError::Database {
                path,
                table,
                source: e,
            },
        }
    }

    /// True for [`StoreError::DiskFull`] and [`StoreError::ImageDiskFull`].
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            StoreError::DiskFull { .. } | StoreError::ImageDiskFull { .. }
        )
    }
}
