//! Typed row ids, so a render id can never be passed where a product id is
//! expected.

use super::backend::{FromValue, ToValue, Value};
use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToValue for $name {
            fn to_value(&self) -> Value {
                Value::Int(self.0)
            }
        }

        impl FromValue for $name {
            fn from_value(value: &Value) -> Result<Self, String> {
                i64::from_value(value).map($name)
            }
        }
    };
}

row_id!(
    /// Id of a row in `products`.
    ProductId
);
row_id!(
    /// Id of a row in `renders`.
    RenderId
);
row_id!(
    /// Id of a row in `scores`.
    ScoreId
);
row_id!(
    /// Id of a row in `preferences`.
    PreferenceId
);
row_id!(
    /// Id of a row in `training_runs`.
    TrainingRunId
);
row_id!(
    /// Id of a row in `adapters`.
    AdapterId
);
row_id!(
    /// Id of a row in `click_imports`.
    ClickImportId
);
row_id!(
    /// Id of a row in `creatives` (not the creative id of the click log).
    CreativeRowId
);
