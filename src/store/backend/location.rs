//! Where the store lives: an SQLite file (the default, in the data
//! directory) or a PostgreSQL server named by a `postgres://` URL.

use std::fmt;
use std::path::PathBuf;

/// Environment variable naming the store (same syntax as `--store`).
pub const STORE_ENV: &str = "ADSTUDIO_STORE";

/// The store to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a `postgres://` or `postgresql://` URL
    /// (user, password, host, port, database and libpq-style parameters).
    Postgres(String),
}

impl StoreLocation {
    /// Reads a `--store` value: a `postgres://` or `postgresql://` URL
    /// selects PostgreSQL; `sqlite://PATH` or a plain path an SQLite file.
    pub fn parse(text: &str) -> StoreLocation {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_string())
        } else if let Some(path) = text.strip_prefix("sqlite://") {
            StoreLocation::Sqlite(PathBuf::from(path))
        } else {
            StoreLocation::Sqlite(PathBuf::from(text))
        }
    }

    /// The backend's name: "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        match self {
            StoreLocation::Sqlite(_) => "SQLite",
            StoreLocation::Postgres(_) => "PostgreSQL",
        }
    }

    /// The location for messages and the status bar: the file path, or the
    /// URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => redact_password(url),
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.backend(), self.describe())
    }
}

/// `postgres://user:secret@host/db?password=x` →
/// `postgres://user@host/db?password=***`.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let (head, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}{host}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| {
                    if kv.to_ascii_lowercase().starts_with("password=") {
                        "password=***".to_string()
                    } else {
                        kv.to_string()
                    }
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{head}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_postgres_and_lose_their_password_in_messages() {
        let pg = StoreLocation::parse("postgres://ann:s3cret@db.lan:5433/ads?sslmode=disable");
        assert_eq!(pg.backend(), "PostgreSQL");
        assert_eq!(
            pg.describe(),
            "postgres://ann@db.lan:5433/ads?sslmode=disable"
        );
        assert_eq!(
            redact_password("postgresql://h/db?user=a&password=x"),
            "postgresql://h/db?user=a&password=***"
        );
        assert_eq!(
            StoreLocation::parse("sqlite:///tmp/a.db"),
            StoreLocation::Sqlite(PathBuf::from("/tmp/a.db"))
        );
        assert_eq!(
            StoreLocation::parse("data/a.sqlite3").to_string(),
            "SQLite data/a.sqlite3"
        );
    }
}
