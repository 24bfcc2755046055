//! UNet building blocks in the diffusers layout (shared by the UNet and the
//! ControlNet): resnets, spatial transformers, down/up sampling, timestep
//! embeddings and the down/mid/up blocks.
//!
//! Written here rather than taken from candle-transformers because the
//! latter hard-codes 32 GroupNorm groups in some blocks and uses the tanh
//! GELU approximation where diffusers uses the exact one.

pub mod attention;
pub mod conv;
pub mod embeddings;
pub mod resnet;
pub mod sampling;
pub mod unet_blocks;
