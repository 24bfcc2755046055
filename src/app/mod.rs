//! app module.
