//! Classifier-free guidance.

use candle_core::Tensor;

use super::error::{DiffusionError, Result};

/// Stacks the unconditional (negative prompt) and conditional embeddings
/// into one batch of 2, the order the guidance functions expect.
pub fn cfg_embeddings(negative: &Tensor, positive: &Tensor) -> Result<Tensor> {
    if negative.dims() != positive.dims() {
        return Err(DiffusionError::InvalidInput(format!(
            "negative prompt embeddings {:?} and prompt embeddings {:?} differ in shape",
            negative.dims(),
            positive.dims()
        )));
    }
    Ok(Tensor::cat(&[negative, positive], 0)?)
}

/// `uncond + scale * (cond - uncond)` for a model output whose batch is the
/// unconditional half followed by the conditional half.
pub fn apply_guidance(output: &Tensor, scale: f64) -> Result<Tensor> {
    let b = output.dim(0)?;
    if b % 2 != 0 {
        return Err(DiffusionError::InvalidInput(format!(
            "guidance needs an even batch, got {:?}",
            output.dims()
        )));
    }
    let uncond = output.narrow(0, 0, b / 2)?;
    let cond = output.narrow(0, b / 2, b / 2)?;
    Ok((&uncond + ((cond - &uncond)? * scale)?)?)
}
