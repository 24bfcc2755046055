//! Opening the database: refusing foreign files, connection settings and
//! migrations, on either backend.

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use super::backend::{
    connect_postgres, ConvertError, Db, DbError, DbErrorKind, DbRow, Dialect, StoreLocation, Value,
};
use super::error::StoreError;
use super::schema;

/// How long a statement waits for another connection's lock before failing
/// with "database is busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The adstudio database: one connection to SQLite (the embedded default)
/// or PostgreSQL (a shared server), plus where it came from.
///
/// Every write is its own transaction and has been committed (and, on
/// SQLite with `synchronous=FULL`, synced to the WAL file; on PostgreSQL,
/// acknowledged by the server) when the method returns.
#[derive(Debug)]
pub struct Store {
    pub(super) db: Db,
    pub(super) path: PathBuf,
    location: StoreLocation,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and
    /// migrates it to [`SCHEMA_VERSION`](crate::store::SCHEMA_VERSION).
    ///
    /// A file that is not an SQLite database, an SQLite database of another
    /// application, or an adstudio database from a newer build is refused
    /// with [`StoreError::NotADatabase`], [`StoreError::NotAdstudioDatabase`]
    /// or [`StoreError::SchemaTooNew`] and is left untouched.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        check_magic(path)?;
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source: source.into(),
        })?;
        Store::init_sqlite(conn, path.to_path_buf(), true)
    }

    /// Opens the store at `location`: an SQLite file ([`Store::open`]) or a
    /// PostgreSQL database ([`Store::open_postgres`]).
    pub fn open_location(location: &StoreLocation) -> Result<Store, StoreError> {
        match location {
            StoreLocation::Sqlite(path) => Store::open(path),
            StoreLocation::Postgres(url) => Store::open_postgres(url),
        }
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user:pw@
    /// host:port/db`) and migrates it, with the same checks as
    /// [`Store::open`]: a schema holding other tables but no adstudio
    /// version record, or a newer schema, is refused untouched. An
    /// unreachable server fails within the connect timeout (5 s) with
    /// [`StoreError::Open`] naming the URL without its password.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let location = StoreLocation::Postgres(url.to_string());
        let path = PathBuf::from(location.describe());
        let client = connect_postgres(url, None).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let db = Db::Postgres(RefCell::new(client));
        Store::init(db, path, location)
    }

    /// Opens a fresh, migrated in-memory SQLite database (for tests).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source: source.into(),
        })?;
        Store::init_sqlite(conn, path, false)
    }

    fn init_sqlite(
        conn: Connection,
        path: PathBuf,
        file_backed: bool,
    ) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_error(&path, e.into()))?;
        let db = Db::Sqlite(conn);
        // Look before writing anything: a foreign or newer file must stay
        // exactly as it is (journal_mode=WAL writes the header).
        let header = schema::read_header(&db).map_err(|e| open_error(&path, e))?;
        schema::check_header(&path, &header)?;
        if let Db::Sqlite(conn) = &db {
            sqlite_settings(conn, &path, file_backed).map_err(|e| open_error(&path, e.into()))?;
        }
        let location = StoreLocation::Sqlite(path.clone());
        Store::init(db, path, location)
    }

    /// Checks the header and migrates (both backends).
    fn init(db: Db, path: PathBuf, location: StoreLocation) -> Result<Store, StoreError> {
        let header = schema::read_header(&db).map_err(|e| open_error(&path, e))?;
        schema::check_header(&path, &header)?;
        schema::migrate(&db, &path, header.user_version)?;
        Ok(Store { db, path, location })
    }

    /// The database file (`:memory:` for an in-memory store), or the
    /// PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this store lives (backend and file or URL).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        self.db.dialect().name()
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::read_header(&self.db)
            .map(|h| h.user_version)
            .map_err(|e| self.sql_err("sqlite_schema", e))
    }

    /// SQLite: runs `PRAGMA integrity_check` and returns its report, exactly
    /// `"ok"` for a healthy database, otherwise one problem per line.
    /// PostgreSQL checks its own pages; there the report is `"ok"` when the
    /// server answers and the schema version is readable.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        if self.db.dialect() == Dialect::Postgres {
            self.schema_version()?;
            return Ok("ok".to_string());
        }
        let lines = self.query_rows("sqlite_schema", "PRAGMA integrity_check", &[], |r| {
            r.get::<String>(0)
        })?;
        Ok(lines.join("\n"))
    }

    /// The SQLite connection (tests that poke at pragmas); `None` on
    /// PostgreSQL.
    #[cfg(test)]
    pub(super) fn sqlite_conn(&self) -> Option<&Connection> {
        match &self.db {
            Db::Sqlite(conn) => Some(conn),
            Db::Postgres(_) => None,
        }
    }

    /// Classifies a backend error raised on `table`.
    pub(super) fn sql_err(&self, table: &'static str, e: DbError) -> StoreError {
        StoreError::from_db(&self.path, table, e)
    }

    /// Runs one statement on `table` and returns the rows it changed.
    pub(super) fn exec(
        &self,
        table: &'static str,
        sql: &str,
        params: &[Value],
    ) -> Result<usize, StoreError> {
        self.db
            .execute(sql, params)
            .map_err(|e| self.sql_err(table, e))
    }

    /// Runs an `INSERT` (without `RETURNING`) and returns the new row's id.
    pub(super) fn insert_returning_id(
        &self,
        table: &'static str,
        sql: &str,
        params: &[Value],
    ) -> Result<i64, StoreError> {
        let rows = self.query_rows(table, &format!("{sql} RETURNING id"), params, |r| {
            r.get::<i64>(0)
        })?;
        rows.first().copied().ok_or_else(|| {
            self.sql_err(
                table,
                DbError::Convert(ConvertError {
                    column: 0,
                    message: "INSERT ... RETURNING id returned no row".to_string(),
                }),
            )
        })
    }

    /// Runs a query on `table` and converts every row with `convert`.
    pub(super) fn query_rows<T>(
        &self,
        table: &'static str,
        sql: &str,
        params: &[Value],
        convert: impl Fn(&DbRow) -> Result<T, ConvertError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = self
            .db
            .query(sql, params)
            .map_err(|e| self.sql_err(table, e))?;
        rows.iter()
            .map(|row| convert(row).map_err(|e| self.sql_err(table, e.into())))
            .collect()
    }

    /// The first row of a query, if any.
    pub(super) fn query_opt<T>(
        &self,
        table: &'static str,
        sql: &str,
        params: &[Value],
        convert: impl Fn(&DbRow) -> Result<T, ConvertError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self
            .query_rows(table, sql, params, convert)?
            .into_iter()
            .next())
    }

    /// Runs `work` in one write transaction: committed when it returns
    /// `Ok`, rolled back (nothing of it stored) when it returns `Err`.
    pub(super) fn transaction<T>(
        &self,
        table: &'static str,
        work: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.begin().map_err(|e| self.sql_err(table, e))?;
        match work() {
            Ok(value) => match self.db.commit() {
                Ok(()) => Ok(value),
                Err(e) => {
                    self.db.rollback();
                    Err(self.sql_err(table, e))
                }
            },
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
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

/// WAL for files, `synchronous=FULL` and foreign keys.
fn sqlite_settings(conn: &Connection, path: &Path, file_backed: bool) -> rusqlite::Result<()> {
    if file_backed {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            log::warn!(
                "database {}: WAL journal not available (journal_mode={mode})",
                path.display()
            );
        }
    }
    // WAL + synchronous=NORMAL already survives a crash or SIGKILL of this
    // process (committed pages are in the WAL file, which the OS keeps),
    // but a power loss or kernel panic can drop the last commits.
    // Preference labels are human work that cannot be regenerated, and
    // writes are rare and small (one fsync of the WAL per commit), so we
    // pay for FULL: a committed row survives power loss too.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)
}

/// An error while opening: not-a-database and disk-full keep their own
/// variants, everything else is [`StoreError::Open`].
fn open_error(path: &Path, source: DbError) -> StoreError {
    match source.kind() {
        DbErrorKind::NotADatabase => StoreError::NotADatabase {
            path: path.to_path_buf(),
        },
        DbErrorKind::DiskFull => StoreError::DiskFull {
            path: path.to_path_buf(),
            table: "sqlite_schema",
        },
        _ => StoreError::Open {
            path: path.to_path_buf(),
            source,
        },
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
