//! adstudio: a native desktop studio for CTR-driven advertising images.
//!
//! The crate is split by responsibility:
//! - [`product`]: product intake, masking, ad canvas placement, ControlNet
//!   image and compositing (pure image code, no I/O besides decoding);
//! - [`store`]: the SQLite store and the content-addressed image files;
//! - [`jobs`]: the background worker that runs every long task;
//! - [`ml`]: machine-learning code (devices, weight loading, models);
//! - [`app`] and [`ui`]: the eframe application and its panels;
//! - [`render`]: rendering ads on a prepared canvas (PNG metadata, saving);
//! - [`cli`]: the command-line interface;
//! - [`paths`]: where adstudio keeps its data;
//! - [`prefs`]: preference statistics, TRL/CAIG export and import;
//! - [`queue`]: the PostgreSQL job queue that headless workers consume;
//! - [`dataset`]: preferences and click data as Parquet / JSONL tables.

pub mod app;
pub mod cli;
pub mod dataset;
pub mod jobs;
pub mod ml;
pub mod paths;
pub mod prefs;
pub mod product;
pub mod queue;
pub mod render;
pub mod store;
pub mod studio;
pub mod ui;
