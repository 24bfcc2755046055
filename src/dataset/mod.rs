//! Training data for use elsewhere: the preference pairs and the click
//! data of the store as tables, written as Parquet (snappy-compressed) or
//! JSON Lines with the same column names.
//!
//! - [`pair_rows`] / [`PairRow`]: one row per decisive label on two
//!   renders, with TRL's DPO columns (`prompt`, `chosen`, `rejected`).
//! - [`click_rows`] / [`ClickRow`]: one row per imported creative
//!   (impressions, clicks, CTR).
//! - [`export_table`]: reads a table from the store and writes the file
//!   atomically (temporary file, then rename); an empty table gives a
//!   valid file (Parquet: the schema and no row group; JSONL: empty).
//!
//! Headless: no UI, no models; reads the store only.

mod atomic;
mod click_rows;
mod columns;
mod error;
mod export;
mod jsonl_file;
mod parquet_file;
mod pref_rows;

pub use atomic::{temp_path, write_atomically};
pub use click_rows::{click_columns, click_rows, ClickRow};
pub use columns::{parquet_schema, Column, Values};
pub use error::DatasetError;
pub use export::{export_table, Table, TableFormat, TableReport};
pub use jsonl_file::write_jsonl;
pub use parquet_file::{write_parquet, ROWS_PER_GROUP};
pub use pref_rows::{pair_columns, pair_rows, PairRow, PairRows};
