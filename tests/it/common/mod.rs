//! Helpers shared by the test modules.

pub mod child;
pub mod draft;
pub mod export_store;
pub mod fixtures;
pub mod hub_server;
pub mod label_store;
pub mod models;
pub mod moto;
pub mod product_images;
pub mod sd_tiny;
pub mod studio;
pub mod tensors;
pub mod tiny_data;
pub mod words;
