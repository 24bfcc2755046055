//! Stable Diffusion 1.x engine: CLIP text encoder and tokenizer, UNet (4- and
//! 9-channel), ControlNet, VAE, schedulers (Euler ancestral, DDIM, LCM),
//! classifier-free guidance, LoRA merging and the inpainting pipeline.
//!
//! Models follow the diffusers folder layout (`unet/`, `vae/`,
//! `text_encoder/`, `tokenizer/`, `scheduler/`, a ControlNet folder) or come
//! from single-file SD 1.5 checkpoints with the original LDM key names
//! ([`single_file`], [`ldm`]); they are built candle-style: a `Config` read
//! from `config.json`, `new(cfg, vb)`, `forward`. Parity with diffusers is
//! tested on the `sd_tiny` fixtures (`tests/diffusion_*_parity.rs`).
//!
//! Entry points: [`StableDiffusion`] (load a model), [`inpaint::inpaint`]
//! (render one image; pure function of [`inpaint::InpaintParams`]),
//! [`preview::latents_to_rgb`] (live previews), [`convert`] (images <->
//! tensors), [`random`] (random-weight models for tests and benchmarks).

pub mod blocks;
pub mod clip_text;
pub mod cond_embedding;
pub mod config;
pub mod control_window;
pub mod controlnet;
pub mod convert;
pub mod error;
pub mod guidance;
pub mod inpaint;
pub mod ldm;
pub mod load;
pub mod lora;
pub mod models;
pub mod noise;
pub mod preview;
pub mod prompt;
pub mod random;
pub mod random_files;
pub mod scheduler;
pub mod single_file;
pub mod taesd;
pub mod tokenizer;
pub mod unet;
pub mod vae;

pub use clip_text::{ClipTextConfig, ClipTextModel};
pub use control_window::ControlWindow;
pub use controlnet::{ControlNet, ControlNetConfig, ControlNetResiduals};
pub use error::{DiffusionError, Result};
pub use models::StableDiffusion;
pub use scheduler::{Scheduler, SchedulerConfig, SchedulerKind};
pub use taesd::{Taesd, TaesdConfig};
pub use tokenizer::{ClipTokenizer, TokenizedPrompt};
pub use unet::{UNet, UNetConfig};
pub use vae::{LatentDistribution, Vae, VaeConfig};
