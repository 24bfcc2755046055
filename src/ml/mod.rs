//! ml module.
