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

/// Attention test shapes `(heads, queries, keys, width)`: SD 1.5's head
/// widths (40, 80, 160), SD 2's 64 and odd ones; key counts that fill
/// whole tiles and ones (77: text) that do not; query counts that leave
/// partial tiles and blocks.
pub(crate) const ATTENTION_SHAPES: [(usize, usize, usize, usize); 6] = [
    (2, 100, 77, 40),
    (3, 49, 64, 80),
    (1, 7, 33, 160),
    (2, 53, 130, 64),
    (1, 1, 1, 1),
    (2, 5, 3, 17),
];
