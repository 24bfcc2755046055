//! The store tests' two backends: each test body runs on a fresh SQLite
//! file and on a fresh PostgreSQL database (created on the server named by
//! `ADSTUDIO_TEST_POSTGRES`, dropped at the end, so tests run in parallel).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use adstudio::store::{Store, StoreLocation};

/// The variable naming the test server, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres` (`.ci/postgres.sh start`).
pub const POSTGRES_ENV: &str = "ADSTUDIO_TEST_POSTGRES";

/// Runs a test body (`fn name(db) { ... }`, `db: &TestStore`) once per
/// backend: `name::sqlite` always, `name::postgres` as an ignored test
/// that needs `ADSTUDIO_TEST_POSTGRES` and fails without it.
macro_rules! on_both_backends {
    ($(#[doc = $doc:literal])* fn $name:ident($db:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: &$crate::common::backends::TestStore) $body

            #[test]
            fn sqlite() {
                body(&$crate::common::backends::TestStore::sqlite());
            }

            #[test]
            #[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
            fn postgres() {
                body(&$crate::common::backends::TestStore::postgres());
            }
        }
    };
}
pub(crate) use on_both_backends;

/// A fresh, empty store location of one backend, removed when dropped.
pub struct TestStore {
    location: StoreLocation,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// The server URL and the database to drop.
    postgres: Option<(String, String)>,
}

impl TestStore {
    /// A new SQLite file in a temporary directory (not created yet).
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("tempdir");
        TestStore {
            location: StoreLocation::Sqlite(dir.path().join("adstudio.sqlite3")),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty database on the test server.
    pub fn postgres() -> TestStore {
        let server = postgres_url();
        let name = unique_name();
        admin(&server)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name} on {server}: {e}"));
        TestStore {
            location: StoreLocation::Postgres(url_with_database(&server, &name)),
            _dir: None,
            postgres: Some((server, name)),
        }
    }

    /// The value for `--store` / `ADSTUDIO_STORE`.
    pub fn store_arg(&self) -> String {
        match &self.location {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => url.clone(),
        }
    }

    /// Whether this is the PostgreSQL run.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Opens (or reopens) the store, migrating it.
    pub fn open(&self) -> Store {
        Store::open_location(&self.location)
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.location))
    }

    /// Opens the store, returning the error.
    pub fn try_open(&self) -> Result<Store, adstudio::store::StoreError> {
        Store::open_location(&self.location)
    }

    /// Runs raw SQL on the database behind the store's back (a second
    /// connection), e.g. to write rows the API would refuse.
    pub fn raw_execute(&self, sql: &str) -> Result<(), String> {
        match &self.location {
            StoreLocation::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                conn.pragma_update(None, "foreign_keys", true)
                    .map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
            StoreLocation::Postgres(url) => {
                admin(url).batch_execute(sql).map_err(|e| e.to_string())
            }
        }
    }

    /// A single integer from raw SQL.
    pub fn raw_i64(&self, sql: &str) -> i64 {
        match &self.location {
            StoreLocation::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            StoreLocation::Postgres(url) => admin(url)
                .query_one(sql, &[])
                .and_then(|row| row.try_get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Writes the recorded schema version directly.
    pub fn set_recorded_version(&self, version: i64) {
        let sql = match self.location {
            StoreLocation::Sqlite(_) => format!("PRAGMA user_version = {version}"),
            StoreLocation::Postgres(_) => format!("UPDATE adstudio_schema SET version = {version}"),
        };
        self.raw_execute(&sql).expect("set version");
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres {
            let dropped = postgres::Client::connect(server, postgres::NoTls).and_then(|mut c| {
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            });
            if let Err(e) = dropped {
                eprintln!("could not drop test database {name}: {e}");
            }
        }
    }
}

/// The test server's URL; a test that needs it fails without it.
pub fn postgres_url() -> String {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "needs PostgreSQL: set {POSTGRES_ENV} to a server URL \
             (`eval \"$(.ci/postgres.sh start)\"` starts a throwaway one)"
        ),
    }
}

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "adstudio_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `postgres://u@h:p/old?x=y` with the database replaced by `name`.
pub fn url_with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{head}{authority}/{name}{query}")
}
