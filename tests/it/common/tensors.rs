//! Tensor comparisons for the parity tests.
#![allow(dead_code)]

use candle_core::{DType, Tensor};

/// The parity tolerance: `max|a - b| <= REL_TOL * max(1, max|b|)`.
pub const REL_TOL: f32 = 1e-4;

/// `max |t|` over all elements, in f32.
pub fn max_abs(t: &Tensor) -> f32 {
    t.to_dtype(DType::F32)
        .and_then(|t| t.abs())
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.max(0))
        .and_then(|t| t.to_scalar::<f32>())
        .expect("max abs")
}

/// `max |a - b|` over all elements (same shape), in f32.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    let a = a.to_dtype(DType::F32).expect("f32");
    let b = b.to_dtype(DType::F32).expect("f32");
    max_abs(&(a - b).expect("sub"))
}

/// `max|a - b| / max(1, max|b|)`: the error relative to the reference `b`.
pub fn max_rel_err(a: &Tensor, b: &Tensor) -> f32 {
    max_abs_diff(a, b) / max_abs(b).max(1.0)
}

/// Asserts that `actual` has the shape of `expected` and
/// `max|actual - expected| <= REL_TOL * max(1, max|expected|)`; prints the
/// figures.
pub fn assert_close(name: &str, actual: &Tensor, expected: &Tensor) {
    assert_eq!(actual.dims(), expected.dims(), "{name}: shape");
    let diff = max_abs_diff(actual, expected);
    let tol = REL_TOL * max_abs(expected).max(1.0);
    println!("{name}: max abs diff {diff:e} (tolerance {tol:e})");
    assert!(diff <= tol, "{name}: max abs diff {diff} > {tol}");
}
