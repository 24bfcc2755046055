//! Data directory resolution.
