//! The error type of rendering.

use crate::ml::diffusion::DiffusionError;
use crate::product::ProductError;

/// Everything that can go wrong while rendering and saving ads.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The request has an out-of-range value.
    #[error("invalid render request: {0}")]
    InvalidRequest(String),
    /// The caller's progress callback asked to stop.
    #[error("render cancelled in variant {variant} after step {step} of {total}")]
    Cancelled {
        /// 0-based variant index.
        variant: usize,
        /// 1-based step after which the loop stopped.
        step: usize,
        /// Total steps.
        total: usize,
    },
    /// The latents became NaN or infinite.
    #[error(
        "variant {variant} (seed {seed}) produced NaN or infinite latents after step {step} \
         of {total}; try another seed, a lower CFG scale or an f32 model"
    )]
    NonFinite {
        /// 0-based variant index.
        variant: usize,
        /// The variant's seed.
        seed: u64,
        /// 1-based step.
        step: usize,
        /// Total steps.
        total: usize,
    },
    /// The diffusion engine failed.
    #[error("diffusion: {0}")]
    Diffusion(#[from] DiffusionError),
    /// Compositing the product failed.
    #[error("compositing: {0}")]
    Product(#[from] ProductError),
    /// Encoding or decoding a PNG failed.
    #[error("PNG {context}: {message}")]
    Png {
        /// What was being done.
        context: String,
        /// The png crate's message.
        message: String,
    },
    /// The PNG has no adstudio parameters, or they are not valid.
    #[error("PNG metadata: {0}")]
    Metadata(String),
}
