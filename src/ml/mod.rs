//! ml module.
pub mod reward;
