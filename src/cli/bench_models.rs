//! The `bench diffusion` options about models rather than timing: writing
//! random-weight model folders for `adstudio render` (`--write-models`),
//! and the dtype the bench's weights are kept in at rest (`--weights`).

use std::path::PathBuf;

use anyhow::Context as _;
use candle_core::DType;
use clap::{Args, ValueEnum};

use crate::ml::diffusion::blocks::bf16::Bf16Mode;
use crate::ml::diffusion::blocks::kernels::Kernels;
use crate::ml::diffusion::random_files::{write_random_models, RandomArch};

/// A dtype weights are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// Half precision (as real SD 1.5 checkpoints ship).
    F16,
    /// Single precision.
    F32,
}

impl From<WeightsArg> for DType {
    fn from(w: WeightsArg) -> DType {
        match w {
            WeightsArg::F16 => DType::F16,
            WeightsArg::F32 => DType::F32,
        }
    }
}

/// The architectures `--write-models` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// Stable Diffusion 1.5 + canny ControlNet (about 2.9 GB in f16).
    Sd15,
    /// The tiny test architectures.
    Tiny,
}

/// `bench diffusion` options about the models.
#[derive(Debug, Clone, Args)]
pub struct DiffusionArgs {
    /// `diffusion` only: instead of timing, write random-weight model
    /// folders (DIR/sd for `render --models`, DIR/controlnet for
    /// `--controlnet`) in the layout `adstudio render` loads.
    #[arg(long, value_name = "DIR")]
    pub write_models: Option<PathBuf>,
    /// `diffusion --write-models` only: which architectures.
    #[arg(long, value_enum, default_value_t = ArchArg::Sd15)]
    pub arch: ArchArg,
    /// `diffusion` and `draft`: the dtype weights are kept in at rest
    /// (written, with `--write-models`; for the timed rows, computed in f32
    /// or bf16 either way).
    #[arg(long, value_enum, default_value_t = WeightsArg::F16)]
    pub weights: WeightsArg,
    /// `diffusion` only: `fast` (this crate's CPU kernels) or `generic`
    /// (the device-generic candle operations a GPU runs).
    #[arg(long, value_enum, default_value_t = KernelsArg::Fast)]
    pub kernels: KernelsArg,
    /// `diffusion` and `draft`: bf16 matrix products: `auto` (drafts: on
    /// where the CPU has AVX512-BF16; full renders: off), `on` (native on
    /// AVX512-BF16, else emulated: operands rounded to bf16, f32
    /// accumulation; `diffusion` also prints the UNet's relative error
    /// against f32), `off`.
    #[arg(long, value_enum, default_value_t = Bf16Arg::Auto)]
    pub bf16: Bf16Arg,
}

/// The `--kernels` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KernelsArg {
    /// This crate's CPU kernels.
    Fast,
    /// Device-generic candle operations.
    Generic,
}

impl From<KernelsArg> for Kernels {
    fn from(k: KernelsArg) -> Kernels {
        match k {
            KernelsArg::Fast => Kernels::Fast,
            KernelsArg::Generic => Kernels::Generic,
        }
    }
}

/// The `--bf16` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bf16Arg {
    /// bf16 products (native on AVX512-BF16, else emulated).
    On,
    /// f32 products.
    Off,
    /// bf16 for drafts where natively supported; f32 otherwise.
    Auto,
}

impl From<Bf16Arg> for Bf16Mode {
    fn from(b: Bf16Arg) -> Bf16Mode {
        match b {
            Bf16Arg::On => Bf16Mode::On,
            Bf16Arg::Off => Bf16Mode::Off,
            Bf16Arg::Auto => Bf16Mode::Auto,
        }
    }
}

/// Writes the model folders of `--write-models` and prints where they are.
pub fn write_models(args: &DiffusionArgs) -> anyhow::Result<()> {
    let root = args
        .write_models
        .as_deref()
        .context("--write-models needs a folder")?;
    let arch = match args.arch {
        ArchArg::Sd15 => RandomArch::Sd15,
        ArchArg::Tiny => RandomArch::Tiny,
    };
    let folders = write_random_models(root, arch, args.weights.into(), 1)
        .with_context(|| format!("writing random-weight models into {}", root.display()))?;
    println!("Stable Diffusion: {}", folders.sd.display());
    println!("ControlNet: {}", folders.controlnet.display());
    Ok(())
}
