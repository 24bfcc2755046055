//! cli module.
