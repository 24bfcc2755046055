//! The scratch inputs of `bench ui`: tiny random Stable Diffusion and
//! ControlNet folders in the diffusers layout (the `sd_tiny` architectures,
//! written by [`write_random_models`]) and a drawn product photo.

use std::path::Path;

use anyhow::Context as _;
use candle_core::DType;
use image::{Rgba, RgbaImage};

use crate::ml::diffusion::random_files::{write_random_models, RandomArch, RandomModelFolders};

/// Writes the tiny random Stable Diffusion and ControlNet folders (f32)
/// under `models`.
pub fn write_tiny_models(models: &Path) -> anyhow::Result<RandomModelFolders> {
    Ok(write_random_models(
        models,
        RandomArch::Tiny,
        DType::F32,
        11,
    )?)
}

/// Draws a 240x200 product photo (a shaded disc on transparency, so the
/// studio masks it from its alpha) into `path`.
pub fn write_product(path: &Path) -> anyhow::Result<()> {
    let (w, h) = (240u32, 200u32);
    let (cx, cy, r) = (120.0f32, 100.0f32, 70.0f32);
    let img = RgbaImage::from_fn(w, h, |x, y| {
        let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
        let alpha = (r + 0.5 - d).clamp(0.0, 1.0);
        let shade = (255.0 * (1.0 - d / (2.0 * r))).clamp(0.0, 255.0) as u8;
        Rgba([
            shade,
            (x % 256) as u8,
            (y % 256) as u8,
            (alpha * 255.0) as u8,
        ])
    });
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}
