//! Helpers shared by the test modules.

pub mod backends;
pub mod child;
pub mod dataset_store;
pub mod draft;
pub mod export_store;
pub mod fixtures;
pub mod hub_server;
pub mod label_store;
pub mod models;
pub mod parquet_read;
pub mod pg_queue_db;
pub mod product_images;
pub mod sd_tiny;
pub mod studio;
pub mod tensors;
pub mod tiny_data;
pub mod words;
