//! The input check every CPU kernel of this module starts with.

use candle_core::{CpuStorage, Layout};

/// The f32 values of a contiguous CPU tensor, or an error naming `what`
/// (e.g. "geglu: input") when the tensor is another dtype or is strided.
pub(crate) fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!(
            "{what} must be f32, got {:?}",
            candle_core::backend::BackendStorage::dtype(storage)
        )
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{what} must be contiguous"),
    }
}
