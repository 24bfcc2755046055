//! Helpers shared by the kernel unit tests.

use candle_core::Tensor;

/// Largest absolute elementwise difference of two same-shaped f32 tensors.
pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .expect("sub")
        .abs()
        .expect("abs")
        .flatten_all()
        .expect("flatten")
        .max(0)
        .expect("max")
        .to_scalar::<f32>()
        .expect("scalar")
}
