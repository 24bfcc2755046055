//! `adstudio render` on a tiny diffusers folder (the `sd_tiny` fixture
//! components plus a character-level tokenizer): PNGs with parameters,
//! progress lines, and the same pixels as the library.

use crate::common::fixtures;
use crate::common::product_images;

use std::ops::ControlFlow;
use std::process::Command;

use adstudio::ml::diffusion::{ControlNet, StableDiffusion};
use adstudio::product::{build_mask, load_product_file, prepare_canvas, MaskEdits, MaskSettings};
use adstudio::render::{read_png_params, render_variant, RenderModels};
use candle_core::{DType, Device};
use product_images::{cutout, disc};

#[test]
fn render_command_writes_pngs_that_match_the_library() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sd_dir = fixtures::tiny_sd_folder(&tmp.path().join("sd-tiny"));
    let fixture = fixtures::fixture_dir("sd_tiny");
    let cn_dir = tmp.path().join("cn-tiny");
    fixtures::copy_dir(&fixture.join("controlnet"), &cn_dir);
    let product = tmp.path().join("mug.png");
    cutout(&disc(80, 80, 40.0, 40.0, 25.0), [200, 30, 30], [0, 255, 0])
        .save(&product)
        .expect("product");
    let out = tmp.path().join("out");

    let run = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .args(["render", "--product"])
        .arg(&product)
        .args(["--prompt", "a red mug on oak", "--negative", "blurry"])
        .args(["--n", "2", "--seed", "3", "--steps", "2", "--cfg", "5"])
        .args([
            "--scheduler",
            "ddim",
            "--aspect",
            "1:1",
            "--short-side",
            "64",
        ])
        .arg("--models")
        .arg(&sd_dir)
        .arg("--controlnet")
        .arg(&cn_dir)
        .arg("--out")
        .arg(&out)
        .env("ADSTUDIO_DATA_DIR", tmp.path().join("data"))
        .output()
        .expect("run adstudio");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("variant 2/2 [####################] step 2/2"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("step 1/2").count(), 2, "{stderr}");

    let files = [
        out.join("variant_0_seed_3.png"),
        out.join("variant_1_seed_4.png"),
    ];
    let bytes = std::fs::read(&files[1]).expect("variant 1");
    let params = read_png_params(&bytes).expect("params");
    assert_eq!(params.request.params.seed, 4);
    assert_eq!(params.request.models.checkpoint, "sd-tiny");
    assert_eq!(params.request.models.controlnet.as_deref(), Some("cn-tiny"));
    assert!(files[0].is_file());

    // The library, given the recovered parameters, paints the same pixels.
    let dev = Device::Cpu;
    let sd = StableDiffusion::load_diffusers(&sd_dir, DType::F32, &dev).expect("load");
    let cn = ControlNet::load(&cn_dir, DType::F32, &dev).expect("cn");
    let img = load_product_file(&product).expect("product");
    let mask = build_mask(&img, &MaskSettings::default(), &MaskEdits::default()).expect("mask");
    let canvas = prepare_canvas(&img.rgba, &mask.mask, &params.request.canvas).expect("canvas");
    let models = RenderModels {
        models: sd.inpaint_models(Some(&cn)),
        scheduler_config: &sd.scheduler_config,
        taesd: None,
    };
    let again = render_variant(&models, &canvas, &params.request, 0, &mut |_| {
        ControlFlow::Continue(())
    })
    .expect("render");
    let written = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    assert_eq!(written, again.image);
}

#[test]
fn render_command_names_a_missing_model_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let product = tmp.path().join("mug.png");
    cutout(&disc(40, 40, 20.0, 20.0, 12.0), [200, 30, 30], [0, 255, 0])
        .save(&product)
        .expect("product");
    let run = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .args(["render", "--product"])
        .arg(&product)
        .args(["--prompt", "x", "--models"])
        .arg(tmp.path().join("nowhere"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .env("ADSTUDIO_DATA_DIR", tmp.path().join("data"))
        .output()
        .expect("run adstudio");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("nowhere"), "{stderr}");
}
