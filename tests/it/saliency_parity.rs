//! Parity of the candle U²-Net-p port with onnxruntime on the same ONNX file.
//!
//! Fixture `tests/fixtures/u2netp/` (see its README): a synthetic photo, the
//! 320x320 input PIL produced from it, onnxruntime's fused output `d0`
//! (after the sigmoid) and rembg's final mask.
//!
//! Tolerance on `d0` (sigmoid output, values in [0, 1]):
//! max |candle - onnxruntime| <= 1e-4 * max(1, max |onnxruntime|), i.e.
//! 1e-4 absolute here; stricter than the 1e-3 the issue asks for.
//! The weights are read from the file named by `ADSTUDIO_U2NETP_ONNX`
//! (`.ci/fetch-u2netp.sh` prints it): the tests are ignored unless asked
//! for, and fail when asked for without it.

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::models;

use std::path::PathBuf;

use adstudio::ml::saliency::preprocess::{normalize, resize_input};
use adstudio::ml::saliency::SaliencyModel;
use candle_core::Device;

const REL_TOL: f32 = 1e-4;

fn fixture_dir() -> PathBuf {
    fixtures::fixture_dir("u2netp")
}

/// The real model (`ADSTUDIO_U2NETP_ONNX`).
fn model() -> SaliencyModel {
    SaliencyModel::load(&models::u2netp_onnx(), &Device::Cpu).expect("load u2netp.onnx")
}

fn load_rgb(name: &str) -> image::RgbImage {
    image::open(fixture_dir().join(name))
        .unwrap_or_else(|e| panic!("open fixture {name}: {e}"))
        .to_rgb8()
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
#[ignore = "needs U2-Net-p: set ADSTUDIO_U2NETP_ONNX"]
fn fused_output_matches_onnxruntime() {
    let model = model();
    let expected =
        candle_core::safetensors::load(fixture_dir().join("expected.safetensors"), &Device::Cpu)
            .expect("expected.safetensors");
    let d0_ref = expected["d0"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    // The exact 320x320 image PIL fed to onnxruntime, normalised by our code.
    let x = normalize(&load_rgb("resized.png"), &Device::Cpu).unwrap();
    let d0 = model.forward(&x).unwrap();
    assert_eq!(d0.dims(), &[1, 1, 320, 320]);
    let d0 = d0.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let err = max_abs(&d0, &d0_ref);
    let scale = d0_ref.iter().fold(1f32, |m, v| m.max(v.abs()));
    println!("d0 max abs diff vs onnxruntime: {err:.3e}");
    assert!(
        err <= REL_TOL * scale,
        "d0 max abs diff {err} > {}",
        REL_TOL * scale
    );
}

#[test]
#[ignore = "needs U2-Net-p: set ADSTUDIO_U2NETP_ONNX"]
fn full_pipeline_matches_rembg() {
    let model = model();
    let img = load_rgb("input.png");
    // Our Lanczos resize vs PIL's: rounding differences of a level or two.
    let ours = resize_input(&img, 320);
    let pil = load_rgb("resized.png");
    let resize_diff: Vec<i32> = ours
        .as_raw()
        .iter()
        .zip(pil.as_raw())
        .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
        .collect();
    let resize_max = resize_diff.iter().copied().max().unwrap_or(0);
    let resize_mean = resize_diff.iter().sum::<i32>() as f64 / resize_diff.len() as f64;
    println!("resize vs PIL: max {resize_max}, mean {resize_mean:.4} levels");
    assert!(resize_max <= 3 && resize_mean <= 0.5);

    let mask = model.mask(&img).unwrap();
    let reference = image::open(fixture_dir().join("mask.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(mask.dimensions(), reference.dimensions());
    let diff: Vec<i32> = mask
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
        .collect();
    let max = diff.iter().copied().max().unwrap_or(0);
    let mean = diff.iter().sum::<i32>() as f64 / diff.len() as f64;
    let over_8 = diff.iter().filter(|&&d| d > 8).count();
    println!("mask vs rembg: max {max}, mean {mean:.4} levels, {over_8} pixels off by > 8");
    assert!(mean <= 0.5, "mean mask difference {mean} levels");
    assert!(
        over_8 * 1000 <= diff.len(),
        "{over_8} pixels differ by more than 8 levels"
    );
}
