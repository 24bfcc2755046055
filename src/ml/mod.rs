//! ml module.

pub mod prompt_model;
