//! Weight loading for the diffusion engine, through the crate's single
//! memory-mapping site ([`crate::ml::weights::WeightFiles`]), whose errors
//! name the file and the tensor.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

use super::error::{DiffusionError, Result};
use crate::ml::weights::{WeightFiles, WeightsError};

/// Opens safetensors files as a memory-mapped [`VarBuilder`] (through
/// [`crate::ml::weights::WeightFiles`]) after checking that `dtype` runs on
/// `device`. The builder's dtype is the dtype weights are kept in at rest
/// ([`at_rest_dtype`]); on the CPU the layers compute in f32 whatever it
/// is ([`super::blocks::at_rest`]).
///
/// Errors name the files when one is missing or unreadable, and a missing
/// or mis-shaped tensor names its file and tensor when the model asks.
pub fn mmap_var_builder(
    files: &[PathBuf],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>> {
    check_dtype(dtype, device)?;
    let opened = WeightFiles::open(files).map_err(|e| match e {
        WeightsError::Missing { path } => DiffusionError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "weight file not found"),
        },
        other => DiffusionError::Weights {
            path: describe_files(files),
            source: candle_core::Error::msg(other.to_string()),
        },
    })?;
    let rest = at_rest_dtype(dtype, opened.stored_dtype(), device);
    Ok(opened.var_builder(rest, device))
}

/// The dtype weights are kept in at rest for a requested model `dtype` and
/// the files' `stored` dtype: on the CPU, an f32 request keeps f16 or bf16
/// files as they are (half the memory; widening to f32 at use is exact),
/// and f32 files stay f32; any other request, or another device, gets
/// what it asks for.
pub fn at_rest_dtype(requested: DType, stored: Option<DType>, device: &Device) -> DType {
    match (requested, stored) {
        (DType::F32, Some(s @ (DType::F16 | DType::BF16))) if device.is_cpu() => s,
        _ => requested,
    }
}

/// A printable list of weight files for error messages.
pub(crate) fn describe_files(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds the weight file of a diffusers component folder: the first of
/// `names` that exists in `dir`.
pub fn find_weights(dir: &Path, names: &[&str]) -> Result<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| DiffusionError::Io {
            path: dir.join(names.first().copied().unwrap_or("model.safetensors")),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "no weight file in {} (looked for {})",
                    dir.display(),
                    names.join(", ")
                ),
            ),
        })
}

/// Errors when `dtype` cannot hold model weights on `device`: f32, f16
/// and bf16 can (on the CPU, f16 and bf16 are kept at rest and the layers
/// compute in f32).
pub fn check_dtype(dtype: DType, device: &Device) -> Result<()> {
    match dtype {
        DType::F32 | DType::F16 | DType::BF16 => Ok(()),
        other => Err(DiffusionError::Unsupported {
            what: "model dtype".into(),
            reason: format!("{other:?} on {device:?} (use f32, f16 or bf16)"),
        }),
    }
}

/// The dtype models run in by default on `device`: f16 on GPUs, f32 on the CPU.
pub fn default_dtype(device: &Device) -> DType {
    if device.is_cpu() {
        DType::F32
    } else {
        DType::F16
    }
}

/// Weight file names of a diffusers component folder, in order of preference.
const COMPONENT_WEIGHTS: [&str; 2] = [
    "diffusion_pytorch_model.safetensors",
    "diffusion_pytorch_model.fp16.safetensors",
];

/// Loads a diffusers component folder (`config.json` + weights): reads the
/// config with `read_config`, memory-maps the weights and builds the model
/// with `build`; a tensor error while building names the weight file.
pub fn load_component<C, M>(
    dir: &Path,
    dtype: DType,
    device: &Device,
    read_config: impl FnOnce(&Path) -> Result<C>,
    build: impl FnOnce(&C, VarBuilder<'static>) -> Result<M>,
) -> Result<M> {
    let cfg = read_config(&dir.join("config.json"))?;
    let file = find_weights(dir, &COMPONENT_WEIGHTS)?;
    let vb = mmap_var_builder(std::slice::from_ref(&file), dtype, device)?;
    build(&cfg, vb).map_err(|e| match e {
        DiffusionError::Candle(source) => DiffusionError::Weights {
            path: file.display().to_string(),
            source,
        },
        other => other,
    })
}
