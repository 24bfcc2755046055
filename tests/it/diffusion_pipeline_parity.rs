//! Parity of the whole ControlNet inpainting pipeline with diffusers'
//! `StableDiffusionControlNetInpaintPipeline` on `sd_tiny` (9-channel UNet,
//! 4 DDIM steps, CFG 7.5, given prompt embeddings and initial latents, VAE
//! encodings from the distribution mean, output in [0, 1]).
//!
//! Fixture root: env `ADSTUDIO_FIXTURES`, default `tests/fixtures`.
//! Tolerance: max abs difference on the output image <= 1/255.

use crate::common::sd_tiny;
use crate::common::tensors;

use std::collections::HashMap;
use std::ops::ControlFlow;

use adstudio::ml::diffusion::inpaint::{inpaint, InpaintModels, InpaintParams, PromptInput};
use adstudio::ml::diffusion::prompt::PromptEmbeddings;
use adstudio::ml::diffusion::{
    ControlNet, DiffusionError, SchedulerConfig, SchedulerKind, UNet, Vae,
};
use candle_core::{Device, Tensor};
use tensors::max_abs_diff;

struct Models {
    unet: UNet,
    vae: Vae,
    controlnet: ControlNet,
}

fn models() -> Models {
    Models {
        unet: sd_tiny::unet(),
        vae: sd_tiny::vae(),
        controlnet: sd_tiny::controlnet(),
    }
}

fn get(io: &HashMap<String, Tensor>, key: &str) -> Tensor {
    io.get(key).unwrap_or_else(|| panic!("no {key}")).clone()
}

fn params(io: &HashMap<String, Tensor>) -> InpaintParams {
    let steps = get(io, "pipe.num_inference_steps")
        .to_vec1::<i64>()
        .expect("steps")[0] as usize;
    let guidance = get(io, "pipe.guidance_scale")
        .to_vec1::<f32>()
        .expect("cfg")[0] as f64;
    assert_eq!(
        get(io, "pipe.vae_encode_mode")
            .to_vec1::<i64>()
            .expect("mode")[0],
        1
    );
    InpaintParams {
        prompts: PromptInput::Embeddings(PromptEmbeddings {
            positive: get(io, "pipe.prompt_embeds"),
            negative: get(io, "pipe.negative_prompt_embeds"),
        }),
        init_image: get(io, "pipe.init_image"),
        mask: get(io, "pipe.mask"),
        control_image: Some(get(io, "pipe.control_image")),
        conditioning_scale: 1.0,
        control_window: adstudio::ml::diffusion::ControlWindow::FULL,
        steps,
        guidance_scale: guidance,
        scheduler: SchedulerKind::Ddim,
        scheduler_config: SchedulerConfig::from_file(
            &sd_tiny::dir().join("scheduler/scheduler_config.json"),
        )
        .expect("scheduler config"),
        seed: 0,
        initial_latents: Some(get(io, "pipe.latents")),
    }
}

#[test]
fn controlnet_inpaint_pipeline_matches_diffusers_within_one_level() {
    let io = sd_tiny::io();
    let m = models();
    let models = InpaintModels {
        unet: &m.unet,
        vae: &m.vae,
        controlnet: Some(&m.controlnet),
        text: None,
    };
    let p = params(&io);
    let mut seen = Vec::new();
    let out = inpaint(&models, &p, &mut |s| {
        seen.push((s.step, s.total, s.latents.dims().to_vec()));
        ControlFlow::Continue(())
    })
    .expect("pipeline");
    let expected = get(&io, "pipe.output");
    assert_eq!(out.image.dims(), expected.dims());
    let diff = max_abs_diff(&out.image, &expected);
    eprintln!("pipe.output max abs diff: {diff}");
    assert!(
        diff <= 1.0 / 255.0,
        "pipe.output: max abs diff {diff} > 1/255"
    );
    assert_eq!(
        seen,
        (1..=4)
            .map(|s| (s, 4, vec![1, 4, 8, 8]))
            .collect::<Vec<_>>()
    );
}

#[test]
fn cancel_stops_after_the_requested_step() {
    let io = sd_tiny::io();
    let m = models();
    let models = InpaintModels {
        unet: &m.unet,
        vae: &m.vae,
        controlnet: Some(&m.controlnet),
        text: None,
    };
    let p = params(&io);
    let mut calls = 0;
    let err = inpaint(&models, &p, &mut |s| {
        calls += 1;
        if s.step == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .expect_err("cancelled");
    assert!(
        matches!(err, DiffusionError::Cancelled { step: 2, total: 4 }),
        "{err}"
    );
    assert_eq!(calls, 2);
}

#[test]
fn nan_latents_stop_with_a_clear_error() {
    let io = sd_tiny::io();
    let m = models();
    let models = InpaintModels {
        unet: &m.unet,
        vae: &m.vae,
        controlnet: Some(&m.controlnet),
        text: None,
    };
    let mut p = params(&io);
    let nan = Tensor::full(f32::NAN, (1, 4, 8, 8), &Device::Cpu).expect("nan");
    p.initial_latents = Some(nan);
    let err = inpaint(&models, &p, &mut |_| ControlFlow::Continue(())).expect_err("nan");
    assert!(
        matches!(err, DiffusionError::NonFiniteLatents { step: 1, total: 4 }),
        "{err}"
    );
    assert!(err.to_string().contains("NaN"));
}
