//! Opening the database: refusing foreign files, connection settings and
//! migrations.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ffi::ErrorCode;
use rusqlite::Connection;

use super::error::StoreError;
use super::schema;

/// How long a statement waits for another connection's lock before failing
/// with "database is busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The adstudio database: one SQLite connection plus the file it came from.
///
/// Every write is its own transaction and has been committed (and, with
/// `synchronous=FULL`, synced to the WAL file) when the method returns.
#[derive(Debug)]
pub struct Store {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`](crate::store::SCHEMA_VERSION).
    ///
    /// A file that is not an SQLite database, an SQLite database of another
    /// application, or an adstudio database from a newer build is refused
    /// with [`StoreError::NotADatabase`], [`StoreError::NotAdstudioDatabase`]
    /// or [`StoreError::SchemaTooNew`] and is left untouched.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        check_magic(path)?;
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Store::init(conn, path.to_path_buf(), true)
    }

    /// Opens a fresh, migrated in-memory database (for tests).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Store::init(conn, path, false)
    }

    fn init(conn: Connection, path: PathBuf, file_backed: bool) -> Result<Store, StoreError> {
        let open_err = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path: path.clone() },
            Some(ErrorCode::DiskFull) => StoreError::DiskFull {
                path: path.clone(),
                table: "sqlite_schema",
            },
            _ => StoreError::Open {
                path: path.clone(),
                source,
            },
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Look before writing anything: a foreign or newer file must stay
        // exactly as it is.
        let header = schema::read_header(&conn).map_err(open_err)?;
        schema::check_header(&path, &header)?;
        if file_backed {
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                .map_err(open_err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                log::warn!(
                    "database {}: WAL journal not available (journal_mode={mode})",
                    path.display()
                );
            }
        }
        // WAL + synchronous=NORMAL already survives a crash or SIGKILL of
        // this process (committed pages are in the WAL file, which the OS
        // keeps), but a power loss or kernel panic can drop the last commits.
        // Preference labels are human work that cannot be regenerated, and
        // writes are rare and small (one fsync of the WAL per commit), so we
        // pay for FULL: a committed row survives power loss too.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        schema::migrate(&conn, &path, header.user_version)?;
        Ok(Store { conn, path })
    }

    /// The database file (`:memory:` for an in-memory store).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version stored in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.sql_err("sqlite_schema", e))
    }

    /// Runs `PRAGMA integrity_check` and returns its report: exactly `"ok"`
    /// for a healthy database, otherwise one problem per line.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.sql_err("sqlite_schema", e))?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql_err("sqlite_schema", e))?;
        Ok(lines.join("\n"))
    }

    /// Classifies a SQLite error raised on `table`.
    pub(super) fn sql_err(&self, table: &'static str, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, table, e)
    }

    /// `NotFound` when an UPDATE by id changed no row.
    pub(super) fn require_changed(
        &self,
        changed: usize,
        table: &'static str,
        id: i64,
    ) -> Result<(), StoreError> {
        if changed == 0 {
            return Err(StoreError::NotFound {
                path: self.path.clone(),
                table,
                id,
            });
        }
        Ok(())
    }
}

/// Refuses an existing, non-empty file that does not start with the SQLite
/// header, before SQLite gets a chance to open (or create journals beside)
/// it. SQLite would refuse it too, but only after opening it.
fn check_magic(path: &Path) -> Result<(), StoreError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // Missing: SQLite creates it.
    };
    if !meta.is_file() || meta.len() == 0 {
        return Ok(()); // Directories fail in SQLite; empty files are new DBs.
    }
    let mut magic = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    match read {
        Ok(()) if &magic == SQLITE_MAGIC => Ok(()),
        Ok(()) => Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(StoreError::ReadFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}
