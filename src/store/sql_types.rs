//! Conversions between Rust values and columns shared by the table
//! modules: JSON text columns, text enums and 64-bit seeds.

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
/// `Display`, serde (as the same text) and the backend value conversions.
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

        impl $crate::store::backend::ToValue for $name {
            fn to_value(&self) -> $crate::store::backend::Value {
                $crate::store::backend::Value::Text(self.as_str().to_string())
            }
        }

        impl $crate::store::backend::FromValue for $name {
            fn from_value(value: &$crate::store::backend::Value) -> Result<Self, String> {
                let text = <String as $crate::store::backend::FromValue>::from_value(value)?;
                $name::parse(&text).map_err(|e| e.to_string())
            }
        }
    };
}
pub(crate) use text_enum;

/// Serialises a JSON value for a TEXT column.
pub(super) fn json_text(value: &Value) -> String {
    value.to_string()
}

/// A `u64` seed keeps its 64 bits in SQLite's signed INTEGER column.
pub(super) fn seed_to_sql(seed: u64) -> i64 {
    seed.cast_signed()
}

/// Inverse of [`seed_to_sql`].
pub(super) fn seed_from_sql(stored: i64) -> u64 {
    stored.cast_unsigned()
}
