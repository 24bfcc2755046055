//! Parity of TAESD (diffusers `AutoencoderTiny`) on the tiny random model
//! in `taesd_tiny/` (made by `tests/fixtures/taesd_tiny/make_fixture.py`):
//! encoder, decoder (with the tanh clamp past +-3), the [0, 1] latent
//! scaling and its inverse. Fixture root: env `ADSTUDIO_FIXTURES`, default
//! `tests/fixtures`. Tolerance `max|a - b| <= 1e-4 * max(1, max|b|)` (f32).

use crate::common::fixtures;
use crate::common::tensors::{assert_close, max_rel_err};

use std::collections::HashMap;

use adstudio::ml::diffusion::{Taesd, TaesdConfig};
use candle_core::{DType, Device, Tensor};

fn io() -> HashMap<String, Tensor> {
    let path = fixtures::fixture_dir("taesd_tiny").join("io.safetensors");
    candle_core::safetensors::load(&path, &Device::Cpu).expect("io.safetensors")
}

fn get<'a>(io: &'a HashMap<String, Tensor>, key: &str) -> &'a Tensor {
    io.get(key)
        .unwrap_or_else(|| panic!("io.safetensors has no {key}"))
}

fn model() -> Taesd {
    Taesd::load(
        &fixtures::fixture_dir("taesd_tiny"),
        DType::F32,
        &Device::Cpu,
    )
    .expect("load taesd_tiny")
}

#[test]
fn encoder_and_decoder_match_diffusers() {
    let (io, taesd) = (io(), model());
    assert_eq!(taesd.config().num_encoder_blocks, [1, 2, 1, 2]);
    let latents = taesd.encode(get(&io, "image")).expect("encode");
    assert_close("latents", &latents, get(&io, "latents"));
    let decoded = taesd.decode(get(&io, "decoder_input")).expect("decode");
    assert_close("decoded", &decoded, get(&io, "decoded"));
    let roundtrip = taesd.decode(&latents).expect("decode latents");
    assert_close("roundtrip", &roundtrip, get(&io, "roundtrip"));
    println!(
        "TAESD parity max relative error: latents {:e}, decoded {:e}, roundtrip {:e}",
        max_rel_err(&latents, get(&io, "latents")),
        max_rel_err(&decoded, get(&io, "decoded")),
        max_rel_err(&roundtrip, get(&io, "roundtrip"))
    );
}

#[test]
fn latent_scaling_matches_diffusers_and_images_round_through_unit_range() {
    let (io, taesd) = (io(), model());
    let latents = get(&io, "latents");
    let scaled = taesd.scale_latents(latents).expect("scale");
    assert_close("scaled_latents", &scaled, get(&io, "scaled_latents"));
    let unscaled = taesd.unscale_latents(&scaled).expect("unscale");
    assert_close("unscaled_latents", &unscaled, get(&io, "unscaled_latents"));

    // encode_to_latents / decode_to_image: [0, 1] images, scaling 1.0.
    let image01 = ((get(&io, "image") + 1.0).expect("add") / 2.0).expect("div");
    let z = taesd.encode_to_latents(&image01).expect("to latents");
    assert_close("encode_to_latents", &z, latents);
    let img = taesd.decode_to_image(&z).expect("to image");
    let expected = ((get(&io, "roundtrip") / 2.0).expect("div") + 0.5)
        .expect("add")
        .clamp(0f32, 1f32)
        .expect("clamp");
    assert_close("decode_to_image", &img, &expected);
}

#[test]
fn wrong_shapes_and_configs_are_refused() {
    let taesd = model();
    let odd = Tensor::zeros((1, 3, 30, 48), DType::F32, &Device::Cpu).expect("t");
    let err = taesd.encode(&odd).expect_err("30 is not a multiple of 8");
    assert!(err.to_string().contains("multiples of 8"), "{err}");
    let five = Tensor::zeros((1, 5, 4, 6), DType::F32, &Device::Cpu).expect("t");
    assert!(taesd.decode(&five).is_err());
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("config.json"), r#"{"act_fn": "mish"}"#).expect("cfg");
    let err = TaesdConfig::from_file(&dir.path().join("config.json")).expect_err("mish");
    assert!(err.to_string().contains("mish"), "{err}");
}

/// Half-precision weights are widened as they load on the CPU (the CPU
/// kernels compute in f32; f16 compute there was several times slower):
/// the model computes in f32 and stays within f16 weight rounding of the
/// reference (1e-2 relative).
#[test]
fn half_precision_weights_compute_in_f32_on_the_cpu() {
    let io = io();
    let taesd = Taesd::load(
        &fixtures::fixture_dir("taesd_tiny"),
        DType::F16,
        &Device::Cpu,
    )
    .expect("load taesd_tiny in f16");
    assert_eq!(taesd.dtype(), DType::F32);
    let latents = taesd.encode(get(&io, "image")).expect("encode");
    let err = max_rel_err(&latents, get(&io, "latents"));
    assert!(err < 1e-2, "latents from f16 weights: {err:e}");
    let decoded = taesd.decode(get(&io, "decoder_input")).expect("decode");
    let err = max_rel_err(&decoded, get(&io, "decoded"));
    assert!(err < 1e-2, "decoded from f16 weights: {err:e}");
}
