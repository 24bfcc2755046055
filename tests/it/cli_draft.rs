//! `adstudio render --draft` (with `--lcm-lora` and `--taesd`) on the tiny
//! SD fixture, a tiny LoRA the test writes and the tiny TAESD fixture: one
//! 4-step LCM variant recorded as a draft, the same pixels as the library
//! with the LoRA merged and TAESD decoding; a draft without an LCM-LoRA is
//! refused naming the role.

use crate::common::draft::{copy_tiny_taesd, write_tiny_lora};
use crate::common::fixtures;
use crate::common::product_images::{cutout, disc};

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use adstudio::ml::diffusion::lora::LoraWeights;
use adstudio::ml::diffusion::{ControlNet, SchedulerKind, StableDiffusion, Taesd};
use adstudio::product::{build_mask, load_product_file, prepare_canvas, MaskEdits, MaskSettings};
use adstudio::render::{read_png_params, render_variant, PngParams, RenderModels};
use candle_core::{DType, Device};

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    sd: PathBuf,
    cn: PathBuf,
    lora: PathBuf,
    taesd: PathBuf,
    product: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    let sd = fixtures::tiny_sd_folder(&root.join("sd-tiny"));
    let cn = root.join("cn-tiny");
    fixtures::copy_dir(&fixtures::fixture_dir("sd_tiny").join("controlnet"), &cn);
    let lora = root.join("lcm-lora.safetensors");
    let n = write_tiny_lora(&sd.join("unet/diffusion_pytorch_model.safetensors"), &lora);
    assert!(n >= 8, "the tiny LoRA adapts {n} modules");
    let taesd = copy_tiny_taesd(&root.join("taesd-tiny"));
    let product = root.join("mug.png");
    cutout(&disc(80, 80, 40.0, 40.0, 25.0), [200, 30, 30], [0, 255, 0])
        .save(&product)
        .expect("product");
    Setup {
        _tmp: tmp,
        root,
        sd,
        cn,
        lora,
        taesd,
        product,
    }
}

/// `render --draft` with f32 products (`ADSTUDIO_BF16=off`).
fn run(s: &Setup, extra: &[&std::ffi::OsStr], out: &Path) -> Output {
    run_bf16(s, extra, out, Some("off"))
}

/// `render --draft` with `ADSTUDIO_BF16` set to `bf16` (unset: `None`).
fn run_bf16(s: &Setup, extra: &[&std::ffi::OsStr], out: &Path, bf16: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    match bf16 {
        Some(mode) => cmd.env("ADSTUDIO_BF16", mode),
        None => cmd.env_remove("ADSTUDIO_BF16"),
    };
    cmd.args(["render", "--draft", "--product"])
        .arg(&s.product)
        .args(["--prompt", "a red mug on oak", "--seed", "5"])
        .args(["--steps", "30", "--n", "3", "--short-side", "64"])
        .arg("--models")
        .arg(&s.sd)
        .arg("--controlnet")
        .arg(&s.cn)
        .args(extra)
        .arg("--out")
        .arg(out)
        .env("ADSTUDIO_DATA_DIR", s.root.join("data"))
        .env_remove("ADSTUDIO_LCM_LORA")
        .env_remove("ADSTUDIO_TAESD")
        .output()
        .expect("run adstudio")
}

/// The library's draft of `params` with the LoRA merged and `taesd`
/// (f32 products).
fn library_draft(s: &Setup, params: &PngParams, lora: bool, taesd: bool) -> image::RgbImage {
    library_draft_bf16(s, params, (lora, taesd), false)
}

/// [`library_draft`] with bf16 matrix products when `bf16`.
fn library_draft_bf16(
    s: &Setup,
    params: &PngParams,
    (lora, taesd): (bool, bool),
    bf16: bool,
) -> image::RgbImage {
    let dev = Device::Cpu;
    let loras = if lora {
        vec![(Arc::new(LoraWeights::load(&s.lora).expect("lora")), 1.0)]
    } else {
        Vec::new()
    };
    let mut sd = StableDiffusion::load_diffusers_with_loras(&s.sd, DType::F32, &dev, &loras)
        .expect("load sd");
    let mut cn = ControlNet::load(&s.cn, DType::F32, &dev).expect("cn");
    sd.set_bf16_operands(bf16);
    cn.set_bf16_operands(bf16);
    let mut tiny = Taesd::load(&s.taesd, DType::F32, &dev).expect("taesd");
    tiny.set_bf16_operands(bf16);
    let img = load_product_file(&s.product).expect("product");
    let mask = build_mask(&img, &MaskSettings::default(), &MaskEdits::default()).expect("mask");
    let canvas = prepare_canvas(&img.rgba, &mask.mask, &params.request.canvas).expect("canvas");
    let models = RenderModels {
        models: sd.inpaint_models(Some(&cn)),
        scheduler_config: &sd.scheduler_config,
        taesd: taesd.then_some(&tiny),
    };
    render_variant(&models, &canvas, &params.request, 0, &mut |_| {
        ControlFlow::Continue(())
    })
    .expect("render")
    .image
}

#[test]
fn draft_renders_four_lcm_steps_with_the_lora_and_taesd() {
    let s = setup();
    let out = s.root.join("out");
    let extra = [
        "--lcm-lora".as_ref(),
        s.lora.as_os_str(),
        "--taesd".as_ref(),
        s.taesd.as_os_str(),
    ];
    let run = run(&s, &extra, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("variant 1/1 [####################] step 4/4"),
        "{stderr}"
    );
    assert!(!stderr.contains("step 5/"), "{stderr}");
    assert!(!stderr.contains("no TAESD"), "{stderr}");

    let file = out.join("variant_0_seed_5.png");
    let bytes = std::fs::read(&file).expect("the one draft");
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 1);
    let params = read_png_params(&bytes).expect("params");
    let p = &params.request.params;
    assert!(p.draft);
    assert_eq!((p.steps, p.n_variants, p.seed), (4, 1, 5));
    assert_eq!(p.scheduler, SchedulerKind::Lcm);
    assert_eq!(p.guidance_scale, 1.0);
    assert_eq!(p.prompt, "a red mug on oak");

    let written = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    assert_eq!(written, library_draft(&s, &params, true, true));
    // The LoRA and TAESD both shape the pixels.
    assert_ne!(
        written,
        library_draft(&s, &params, false, true),
        "LoRA unused"
    );
    assert_ne!(
        written,
        library_draft(&s, &params, true, false),
        "TAESD unused"
    );
}

/// Drafts take bf16 products with `ADSTUDIO_BF16=on`, and by default on
/// a CPU with AVX512-BF16 (native kernel; emulated elsewhere): the pixels
/// are the library's with bf16 products, and differ from the f32 draft.
#[test]
fn drafts_take_bf16_products_when_asked_and_by_default_where_native() {
    let s = setup();
    let extra = [
        "--lcm-lora".as_ref(),
        s.lora.as_os_str(),
        "--taesd".as_ref(),
        s.taesd.as_os_str(),
    ];
    let draft = |bf16: Option<&str>, name: &str| {
        let out = s.root.join(name);
        let run = run_bf16(&s, &extra, &out, bf16);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "stderr: {stderr}");
        let bytes = std::fs::read(out.join("variant_0_seed_5.png")).expect("draft");
        let params = read_png_params(&bytes).expect("params");
        let image = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        (image, params)
    };
    let (on, params) = draft(Some("on"), "on");
    let bf16 = library_draft_bf16(&s, &params, (true, true), true);
    let f32 = library_draft(&s, &params, true, true);
    assert_eq!(on, bf16, "ADSTUDIO_BF16=on: bf16 products");
    assert_ne!(on, f32, "bf16 products change the draft's pixels");
    let (default, _) = draft(None, "default");
    let native = adstudio::ml::diffusion::blocks::bf16::cpu_has_avx512_bf16();
    assert_eq!(default, if native { bf16 } else { f32 }, "auto");
}

#[test]
fn draft_without_lcm_lora_is_refused_and_missing_taesd_is_noted() {
    let s = setup();
    let run1 = run(&s, &[], &s.root.join("out1"));
    let stderr = String::from_utf8_lossy(&run1.stderr);
    assert!(!run1.status.success());
    assert!(
        stderr.contains("LCM-LoRA") && stderr.contains("lcm-lora"),
        "{stderr}"
    );

    let out = s.root.join("out2");
    let run2 = run(&s, &["--lcm-lora".as_ref(), s.lora.as_os_str()], &out);
    let stderr = String::from_utf8_lossy(&run2.stderr);
    assert!(run2.status.success(), "{stderr}");
    assert!(stderr.contains("no TAESD model"), "{stderr}");
    assert!(stderr.contains("decoded with the VAE"), "{stderr}");
    let bytes = std::fs::read(out.join("variant_0_seed_5.png")).expect("draft");
    let params = read_png_params(&bytes).expect("params");
    let written = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    assert_eq!(written, library_draft(&s, &params, true, false));
}

#[test]
fn an_lcm_lora_for_another_base_model_is_refused_naming_both() {
    let s = setup();
    // An SDXL-like LoRA: its cross-attention key projection takes
    // 2048-wide text embeddings.
    let module = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k";
    let dev = candle_core::Device::Cpu;
    let mut t = std::collections::HashMap::new();
    t.insert(
        format!("{module}.lora_A.weight"),
        candle_core::Tensor::zeros((4, 2048), DType::F32, &dev).expect("down"),
    );
    t.insert(
        format!("{module}.lora_B.weight"),
        candle_core::Tensor::zeros((32, 4), DType::F32, &dev).expect("up"),
    );
    let xl = s.root.join("lcm-lora-sdxl.safetensors");
    candle_core::safetensors::save(&t, &xl).expect("save");
    let run = run(
        &s,
        &["--lcm-lora".as_ref(), xl.as_os_str()],
        &s.root.join("out"),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("lcm-lora-sdxl.safetensors"), "{stderr}");
    assert!(stderr.contains("SDXL"), "{stderr}");
    assert!(stderr.contains("sd-tiny"), "{stderr}");
}

/// `bench draft` checks its size before building the full-size models
/// (and takes `--bf16`, `--weights` and `--profile`).
#[test]
fn bench_draft_refuses_a_size_that_is_not_a_multiple_of_8() {
    let run = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .args([
            "bench",
            "draft",
            "--size",
            "100",
            "--runs",
            "1",
            "--bf16",
            "off",
            "--weights",
            "f32",
            "--profile",
        ])
        .output()
        .expect("run adstudio");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("--size must be a multiple of 8"),
        "{stderr}"
    );
    assert!(stderr.contains("100"), "{stderr}");
}
