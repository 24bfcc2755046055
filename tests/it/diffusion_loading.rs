//! Loading: diffusers folders (with a missing component or tensor), the
//! tokenizer from `vocab.json` + `merges.txt`, and text prompts end to end.

use crate::common::fixtures;
use crate::common::sd_tiny;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use adstudio::ml::diffusion::inpaint::{inpaint, InpaintParams, PromptInput};
use adstudio::ml::diffusion::{
    ClipTokenizer, ControlNet, DiffusionError, SchedulerKind, StableDiffusion,
};
use candle_core::{DType, Device, Tensor};

/// A diffusers folder made of the sd_tiny components.
fn tiny_folder(tmp: &Path) -> PathBuf {
    fixtures::tiny_sd_folder(&tmp.join("sd"))
}

#[test]
fn tokenizer_from_vocab_and_merges_matches_tokenizer_json() {
    let dir = fixtures::fixture_dir("clip_tokenizer");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer.json")).expect("read"))
            .expect("json");
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("vocab.json"),
        json["model"]["vocab"].to_string(),
    )
    .expect("vocab");
    let mut merges = String::from("#version: 0.2\n");
    for m in json["model"]["merges"].as_array().expect("merges") {
        match m {
            serde_json::Value::Array(pair) => merges.push_str(&format!(
                "{} {}\n",
                pair[0].as_str().expect("a"),
                pair[1].as_str().expect("b")
            )),
            other => merges.push_str(&format!("{}\n", other.as_str().expect("merge"))),
        }
    }
    std::fs::write(tmp.path().join("merges.txt"), merges).expect("merges");
    let tok = ClipTokenizer::from_dir(tmp.path()).expect("tokenizer");
    for case in fixtures::clip_token_cases() {
        let prompt = &case.prompt;
        assert_eq!(
            tok.encode(prompt).expect("encode").ids,
            case.ids_77,
            "{prompt:?}"
        );
    }
}

#[test]
fn diffusers_folder_renders_from_text_prompts_like_from_embeddings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tiny_folder(tmp.path());
    let sd = StableDiffusion::load_diffusers(&dir, DType::F32, &Device::Cpu).expect("load");
    let cn = ControlNet::load(&sd_tiny::dir().join("controlnet"), DType::F32, &Device::Cpu)
        .expect("controlnet");
    let models = sd.inpaint_models(Some(&cn));
    let io = sd_tiny::io();
    let long = "a very long prompt ".repeat(10);
    let mut p = InpaintParams {
        prompts: PromptInput::Text {
            prompt: long.clone(),
            negative: "blurry".into(),
        },
        init_image: io["pipe.init_image"].clone(),
        mask: io["pipe.mask"].clone(),
        control_image: Some(io["pipe.control_image"].clone()),
        conditioning_scale: 1.0,
        control_window: adstudio::ml::diffusion::ControlWindow::FULL,
        steps: 3,
        guidance_scale: 5.0,
        scheduler: SchedulerKind::EulerAncestral,
        scheduler_config: sd.scheduler_config.clone(),
        seed: 3,
        initial_latents: None,
    };
    let from_text = inpaint(&models, &p, &mut |_| ControlFlow::Continue(())).expect("text render");
    // One token per character: the long prompt is truncated and says so.
    let chars = long.chars().filter(|c| !c.is_whitespace()).count();
    assert_eq!(from_text.prompt_truncated_tokens, chars - 75);
    assert_eq!(from_text.negative_truncated_tokens, 0);

    let enc = sd
        .text()
        .encode_pair(&long, "blurry", &Device::Cpu)
        .expect("encode");
    p.prompts = PromptInput::Embeddings(enc.embeddings);
    let from_embeds =
        inpaint(&models, &p, &mut |_| ControlFlow::Continue(())).expect("embedding render");
    let a = from_text
        .image
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    let b = from_embeds
        .image
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    assert_eq!(a, b);
}

#[test]
fn missing_component_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tiny_folder(tmp.path());
    std::fs::remove_dir_all(dir.join("unet")).expect("rm");
    let err =
        StableDiffusion::load_diffusers(&dir, DType::F32, &Device::Cpu).expect_err("missing unet");
    assert!(
        matches!(err, DiffusionError::MissingComponent { ref component, .. } if component == "unet"),
        "{err}"
    );
    assert!(err.to_string().contains("unet"), "{err}");
}

#[test]
fn missing_tensor_names_file_and_tensor() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tiny_folder(tmp.path());
    let file = dir.join("unet/diffusion_pytorch_model.safetensors");
    let mut ts: HashMap<String, Tensor> =
        candle_core::safetensors::load(&file, &Device::Cpu).expect("load");
    ts.remove("mid_block.attentions.0.proj_in.weight");
    candle_core::safetensors::save(&ts, &file).expect("save");
    let err = StableDiffusion::load_diffusers(&dir, DType::F32, &Device::Cpu)
        .expect_err("missing tensor");
    let msg = err.to_string();
    assert!(
        msg.contains("mid_block.attentions.0.proj_in.weight"),
        "{msg}"
    );
    assert!(msg.contains("diffusion_pytorch_model.safetensors"), "{msg}");
}

#[test]
fn half_precision_weights_at_rest_render_close_and_other_dtypes_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tiny_folder(tmp.path());
    let err = StableDiffusion::load_diffusers(&dir, DType::U8, &Device::Cpu).expect_err("u8");
    assert!(err.to_string().contains("U8"), "{err}");
    // f16 and bf16 weights are kept at rest and computed in f32 on the CPU.
    for (dtype, bound) in [(DType::F16, 8.0 / 255.0), (DType::BF16, 32.0 / 255.0)] {
        let diff = render_diff(&dir, dtype);
        eprintln!("{dtype:?} weights at rest: max |diff| to diffusers' f32 output {diff}");
        assert!(diff <= bound, "{dtype:?} render differs by {diff}");
    }
}

/// Max |diff| of the tiny pipeline with weights loaded as `dtype` from
/// diffusers' f32 output.
fn render_diff(dir: &Path, dtype: DType) -> f32 {
    let sd = StableDiffusion::load_diffusers(dir, dtype, &Device::Cpu).expect("load");
    assert_eq!(sd.vae.dtype(), DType::F32, "the VAE computes in f32");
    assert_eq!(sd.unet.dtype(), DType::F32, "the UNet computes in f32");
    let cn = ControlNet::load(&sd_tiny::dir().join("controlnet"), dtype, &Device::Cpu)
        .expect("controlnet");
    let io = sd_tiny::io();
    let p = InpaintParams {
        prompts: PromptInput::Embeddings(adstudio::ml::diffusion::prompt::PromptEmbeddings {
            positive: io["pipe.prompt_embeds"].clone(),
            negative: io["pipe.negative_prompt_embeds"].clone(),
        }),
        init_image: io["pipe.init_image"].clone(),
        mask: io["pipe.mask"].clone(),
        control_image: Some(io["pipe.control_image"].clone()),
        conditioning_scale: 1.0,
        control_window: adstudio::ml::diffusion::ControlWindow::FULL,
        steps: 4,
        guidance_scale: 7.5,
        scheduler: SchedulerKind::Ddim,
        scheduler_config: sd.scheduler_config.clone(),
        seed: 0,
        initial_latents: Some(io["pipe.latents"].clone()),
    };
    let out = inpaint(&sd.inpaint_models(Some(&cn)), &p, &mut |_| {
        ControlFlow::Continue(())
    })
    .expect("render");
    (&out.image - &io["pipe.output"])
        .expect("sub")
        .abs()
        .expect("abs")
        .flatten_all()
        .expect("f")
        .max(0)
        .expect("max")
        .to_scalar::<f32>()
        .expect("s")
}
