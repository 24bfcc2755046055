//! Draft test models: a tiny LCM-LoRA written for a tiny UNet's weights and
//! the tiny TAESD fixture.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adstudio::ml::diffusion::noise::NoiseRng;
use candle_core::Device;

use super::fixtures;

/// Writes a rank-2 PEFT LoRA (`unet.<module>.lora_A/B.weight`) over every
/// attention projection of the UNet whose weights file is `unet_weights`;
/// returns how many modules it adapts.
pub fn write_tiny_lora(unet_weights: &Path, dst: &Path) -> usize {
    let base = candle_core::safetensors::load(unet_weights, &Device::Cpu).expect("unet weights");
    let mut rng = NoiseRng::new(21);
    let mut tensors = HashMap::new();
    let mut names: Vec<&String> = base.keys().collect();
    names.sort();
    for name in names {
        let Some(module) = name.strip_suffix(".weight") else {
            continue;
        };
        let is_projection = [".to_q", ".to_k", ".to_v", ".to_out.0"]
            .iter()
            .any(|p| module.ends_with(p));
        let dims = base[name].dims();
        if !is_projection || dims.len() != 2 {
            continue;
        }
        let down = rng.tensor((2, dims[1]), &Device::Cpu).expect("down");
        let up = rng.tensor((dims[0], 2), &Device::Cpu).expect("up");
        tensors.insert(format!("unet.{module}.lora_A.weight"), down);
        tensors.insert(format!("unet.{module}.lora_B.weight"), up);
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    candle_core::safetensors::save(&tensors, dst).expect("save lora");
    tensors.len() / 2
}

/// Copies the `taesd_tiny` fixture's model (config and weights) to `dst`.
pub fn copy_tiny_taesd(dst: &Path) -> PathBuf {
    let src = fixtures::fixture_dir("taesd_tiny");
    std::fs::create_dir_all(dst).expect("mkdir");
    for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
        std::fs::copy(src.join(f), dst.join(f)).expect("copy taesd");
    }
    dst.to_path_buf()
}
