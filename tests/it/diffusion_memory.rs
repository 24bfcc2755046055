//! Random-weight model folders written by `adstudio bench diffusion
//! --write-models` load in `adstudio render`, with f16 weights on disk.

use crate::common::product_images::{cutout, disc};

use std::path::Path;
use std::process::Command;

use candle_core::DType;

/// The dtype of every tensor in a safetensors file.
fn dtypes(path: &Path) -> Vec<DType> {
    candle_core::safetensors::load(path, &candle_core::Device::Cpu)
        .expect("safetensors")
        .values()
        .map(|t| t.dtype())
        .collect()
}

#[test]
fn written_tiny_folders_are_f16_and_render() {
    let tmp = tempfile::tempdir().expect("tmp");
    let models = tmp.path().join("models");
    let write = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env("CANDLE_NUM_THREADS", "1")
        .args(["bench", "diffusion", "--arch", "tiny", "--write-models"])
        .arg(&models)
        .output()
        .expect("run adstudio");
    let stdout = String::from_utf8_lossy(&write.stdout);
    assert!(
        write.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&write.stderr)
    );
    assert!(stdout.contains("ControlNet:"), "{stdout}");
    let unet = models.join("sd/unet/diffusion_pytorch_model.safetensors");
    let unet_dtypes = dtypes(&unet);
    assert!(unet_dtypes.len() > 50, "{} tensors", unet_dtypes.len());
    assert!(unet_dtypes.iter().all(|d| *d == DType::F16));
    assert!(models.join("sd/tokenizer/vocab.json").is_file());

    let product = tmp.path().join("mug.png");
    cutout(&disc(80, 80, 40.0, 40.0, 25.0), [200, 30, 30], [0, 255, 0])
        .save(&product)
        .expect("product");
    let out = tmp.path().join("out");
    let render = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env("CANDLE_NUM_THREADS", "1")
        .env("ADSTUDIO_DATA_DIR", tmp.path().join("data"))
        .args(["render", "--product"])
        .arg(&product)
        .args([
            "--prompt",
            "a mug",
            "--n",
            "1",
            "--steps",
            "1",
            "--short-side",
            "64",
        ])
        .arg("--models")
        .arg(models.join("sd"))
        .arg("--controlnet")
        .arg(models.join("controlnet"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run adstudio");
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(&out).expect("out").collect();
    assert_eq!(written.len(), 1);
}

/// `bench diffusion --weights/--kernels/--bf16` reach the table's header
/// and footer, and each row prints its peak memory.
#[test]
fn bench_flags_for_weights_kernels_and_bf16() {
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_adstudio"))
            .env("CANDLE_NUM_THREADS", "1")
            .args(["bench", "diffusion", "--size", "8", "--only", "vae decode"])
            .args(["--runs", "1", "--warmup", "0"])
            .args(extra)
            .output()
            .expect("run adstudio");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out = run(&["--weights", "f32", "--kernels", "generic", "--bf16", "on"]);
    assert!(out.contains("weights at rest in F32"), "{out}");
    assert!(out.contains("kernels: Generic"), "{out}");
    // The generic kernels never run the native bf16 kernel.
    assert!(
        out.contains("bf16 on:") && out.contains("emulated"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("| VAE decode |"))
        .expect("row");
    let peak: f64 = row
        .trim_end_matches(['|', ' '])
        .rsplit('|')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .expect("a peak MiB column");
    assert!(peak > 1.0, "{row}");
    let out = run(&[]);
    assert!(out.contains("weights at rest in F16"), "{out}");
    assert!(out.contains("kernels: Fast"), "{out}");
    assert!(
        out.contains("bf16 auto:") && out.contains("f32 path is used"),
        "{out}"
    );
}
