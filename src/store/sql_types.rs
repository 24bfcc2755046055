//! Conversions between Rust values and SQLite columns shared by the table
//! modules: JSON text columns, text enums and 64-bit seeds.

use rusqlite::types::Type;
use rusqlite::Row;
use serde_json::Value;

/// A text did not name any variant of a store enum (see `Outcome::parse`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} (expected one of: {expected})")]
pub struct UnknownVariant {
    /// Which enum was parsed, e.g. "outcome".
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// The accepted texts, comma separated.
    pub expected: &'static str,
}

/// Defines a fieldless enum stored as TEXT, with `as_str`, `parse`, `ALL`,
/// `Display`, serde (as the same text) and rusqlite conversions.
macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vdoc:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$vdoc])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the text stored in the database.
            pub fn parse(
                text: &str,
            ) -> Result<$name, $crate::store::sql_types::UnknownVariant> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::store::sql_types::UnknownVariant {
                        kind: $kind,
                        value: other.to_string(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::store::sql_types::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $name::parse(text).map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
    };
}
pub(crate) use text_enum;

/// Serialises a JSON value for a TEXT column.
pub(super) fn json_text(value: &Value) -> String {
    value.to_string()
}

/// Reads a JSON TEXT column.
pub(super) fn json_column(row: &Row<'_>, idx: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// A `u64` seed keeps its 64 bits in SQLite's signed INTEGER column.
pub(super) fn seed_to_sql(seed: u64) -> i64 {
    seed.cast_signed()
}

/// Inverse of [`seed_to_sql`].
pub(super) fn seed_from_sql(stored: i64) -> u64 {
    stored.cast_unsigned()
}
