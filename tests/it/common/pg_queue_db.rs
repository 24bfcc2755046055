//! A throwaway PostgreSQL database per test, on the server named by
//! `ADSTUDIO_TEST_POSTGRES` (a `postgres://` URL whose user may create
//! databases; `.ci/run` starts one on 127.0.0.1). Dropped when the guard
//! is.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that names the test server.
pub const VAR: &str = "ADSTUDIO_TEST_POSTGRES";

/// A database made for one test.
pub struct TestDb {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

/// The server's URL; panics (failing the test) when it is not set.
pub fn server_url() -> String {
    std::env::var(VAR).unwrap_or_else(|_| {
        panic!("{VAR} is not set: it must name a PostgreSQL server (postgres://user@127.0.0.1:PORT/postgres)")
    })
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

impl TestDb {
    /// Creates a fresh, empty database named after `tag`.
    pub fn new(tag: &str) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let admin = server_url();
        let name = format!(
            "t_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {admin}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let url = with_database(&admin, &name);
        TestDb { admin, name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
fn the_database_name_is_replaced_keeping_host_and_options() {
    assert_eq!(
        with_database("postgres://u@127.0.0.1:5/postgres?sslmode=disable", "t1"),
        "postgres://u@127.0.0.1:5/t1?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u@h:5", "t1"),
        "postgres://u@h:5/t1"
    );
}
