//! store module.
