//! Building blocks in the diffusers layout, shared by the UNet, the
//! ControlNet and the VAE: resnets, spatial transformers, down/up sampling,
//! timestep embeddings, the UNet down/mid/up blocks and the VAE blocks.
//!
//! Written here rather than taken from candle-transformers because the
//! latter hard-codes 32 GroupNorm groups in some blocks and uses the tanh
//! GELU approximation where diffusers uses the exact one; owning them also
//! lets the hot spots use faster formulations (chunked attention, NCHW
//! im2col 3x3 convolutions).

pub mod at_rest;
pub mod attention;
pub mod bf16;
#[cfg(target_arch = "x86_64")]
pub mod bf16_attention;
#[cfg(target_arch = "x86_64")]
pub mod bf16_gemm;
pub mod conv;
mod cpu_input;
pub mod embeddings;
pub mod fast_exp;
pub mod fused_attention;
pub mod geglu;
pub mod kernels;
pub mod norm;
pub mod profile;
pub mod resnet;
pub mod sampling;
pub mod softmax;
pub mod strided_conv;
#[cfg(test)]
mod test_support;
pub mod unet_blocks;
pub mod vae_blocks;
pub mod winograd;
