//! Tensor operations that pick candle's fused kernels for inference and
//! differentiable formulations when a backprop graph is being recorded
//! (candle's fused RMSNorm, RoPE and softmax have no backward pass).

use candle_core::{Tensor, D};

/// RMSNorm over the last dimension: `x / sqrt(mean(x^2) + eps) * weight`.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    if x.track_op() || weight.track_op() {
        candle_nn::ops::rms_norm_slow(x, weight, eps as f32)
    } else {
        candle_nn::ops::rms_norm(&x.contiguous()?, weight, eps as f32)
    }
}

/// Rotary embedding with the half-split (GPT-NeoX / Hugging Face) convention.
/// `x`: (batch, heads, seq, head_dim); `cos`, `sin`: (seq, head_dim / 2).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
    if x.track_op() {
        candle_nn::rotary_emb::rope_slow(x, cos, sin)
    } else {
        candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)
    }
}

/// Softmax over the last dimension.
pub fn softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    if x.track_op() {
        candle_nn::ops::softmax(x, D::Minus1)
    } else {
        candle_nn::ops::softmax_last_dim(x)
    }
}

/// Log-softmax over the last dimension (always differentiable).
pub fn log_softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    candle_nn::ops::log_softmax(x, D::Minus1)
}
