//! product module.
