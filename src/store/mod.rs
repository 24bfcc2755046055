//! The store (SQLite or PostgreSQL) and the content-addressed image files.
//!
//! [`Store`] owns one connection, to the SQLite file `adstudio.sqlite3`
//! (the default) or to a PostgreSQL database (`--store postgres://...`),
//! through the small backend layer in `backend`, and offers
//! typed inserts and queries for products, renders, scores, preference
//! labels, training runs, adapters, click-log imports, creatives and the
//! suggestions of catalog batches. JSON columns are plain
//! [`serde_json::Value`]s: the store does not know the product, render or
//! training types, the caller serialises them. [`ImageStore`] keeps image
//! files on disk under their SHA-256.

mod adapters;
pub(crate) mod backend;
mod batch;
mod catalog;
mod clicklog;
mod connection;
mod creatives;
mod error;
mod ids;
mod images;
mod model_picks;
mod pref_import;
mod preferences;
mod products;
mod renders;
mod schema;
mod scores;
mod sql_types;
mod training_runs;

#[cfg(test)]
mod tests;

pub use adapters::{AdapterRow, NewAdapter};
pub use backend::{redact_password, ConvertError, DbError, DbErrorKind, StoreLocation, STORE_ENV};
pub use batch::{BatchSuggestionRow, NewBatchSuggestions};
pub use catalog::ProductSummary;
pub use clicklog::{
    resolve_image_path, ClickLogKind, ImportProblem, ImportRejection, ImportSummary,
    NewClickImport, NewCreative,
};
pub use connection::Store;
pub use creatives::{ClickImportRow, CreativeRow};
pub use error::StoreError;
pub use ids::{
    AdapterId, ClickImportId, CreativeRowId, PreferenceId, ProductId, RenderId, ScoreId,
    TrainingRunId,
};
pub use images::{ImageStore, StoredImage};
pub use pref_import::{ImportedIds, ImportedPreference, ImportedRender};
pub use preferences::{
    unordered, NewPreference, Outcome, PairItem, PreferenceCounts, PreferenceRow, PreferenceSource,
};
pub use products::{NewProduct, ProductRow, ProductSettings};
pub use renders::{NewRender, RenderRow};
pub use schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
pub use scores::{NewScore, ScoreRow};
pub use sql_types::UnknownVariant;
pub use training_runs::{FinishTrainingRun, NewTrainingRun, RunStatus, TrainingRunRow};
