//! ui module.
