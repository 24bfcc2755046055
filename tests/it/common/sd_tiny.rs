//! The tiny random Stable Diffusion components of the `sd_tiny` fixture
//! (diffusers layout) and its reference tensors `io.safetensors`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use adstudio::ml::diffusion::{ControlNet, ControlNetConfig, UNet, UNetConfig, Vae, VaeConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::fixtures;

/// The weights file of the UNet, VAE and ControlNet folders.
pub const WEIGHTS: &str = "diffusion_pytorch_model.safetensors";

/// The fixture folder `sd_tiny`.
pub fn dir() -> PathBuf {
    fixtures::fixture_dir("sd_tiny")
}

/// The reference inputs and outputs (`io.safetensors`).
pub fn io() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir().join("io.safetensors"), &Device::Cpu)
        .expect("io.safetensors")
}

/// The tensors of `component`'s weights file (e.g. `unet`).
pub fn weights(component: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir().join(component).join(WEIGHTS), &Device::Cpu)
        .expect("weights")
}

/// An f32 var builder over `component`'s weights.
pub fn vb(component: &str) -> VarBuilder<'static> {
    VarBuilder::from_tensors(weights(component), DType::F32, &Device::Cpu)
}

/// The UNet (9 input channels), f32.
pub fn unet() -> UNet {
    let cfg = UNetConfig::from_file(&dir().join("unet/config.json")).expect("unet config");
    UNet::new(&cfg, vb("unet")).expect("unet")
}

/// The VAE, f32.
pub fn vae() -> Vae {
    let cfg = VaeConfig::from_file(&dir().join("vae/config.json")).expect("vae config");
    Vae::new(&cfg, vb("vae")).expect("vae")
}

/// The ControlNet, f32.
pub fn controlnet() -> ControlNet {
    let cfg =
        ControlNetConfig::from_file(&dir().join("controlnet/config.json")).expect("cn config");
    ControlNet::new(&cfg, vb("controlnet")).expect("controlnet")
}
