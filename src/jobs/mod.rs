//! jobs module.
