//! ml module.
pub mod saliency;
