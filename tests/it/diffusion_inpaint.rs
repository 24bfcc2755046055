//! Behaviour of the inpainting pipeline beyond the diffusers fixture:
//! latent blending with a 4-channel UNet (made from the tiny fixture UNet by
//! keeping the first 4 input channels of `conv_in`), seed reproducibility,
//! schedulers that draw noise, and bad inputs.

use crate::common::sd_tiny;
use crate::common::tensors;

use std::collections::HashMap;
use std::ops::ControlFlow;

use adstudio::ml::diffusion::inpaint::{inpaint, InpaintModels, InpaintParams, PromptInput};
use adstudio::ml::diffusion::prompt::PromptEmbeddings;
use adstudio::ml::diffusion::scheduler::Scheduler;
use adstudio::ml::diffusion::{DiffusionError, SchedulerConfig, SchedulerKind, UNet, UNetConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tensors::max_abs;

fn unet4() -> UNet {
    let mut cfg = UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("config");
    cfg.in_channels = 4;
    let mut ts = sd_tiny::weights("unet");
    let w = ts["conv_in.weight"].narrow(1, 0, 4).expect("narrow");
    ts.insert("conv_in.weight".into(), w);
    UNet::new(&cfg, VarBuilder::from_tensors(ts, DType::F32, &Device::Cpu)).expect("unet")
}

/// Left half repaint (1), right half keep (0).
fn half_mask() -> Tensor {
    let v: Vec<f32> = (0..64 * 64)
        .map(|i| if i % 64 < 32 { 1.0 } else { 0.0 })
        .collect();
    Tensor::from_vec(v, (1, 1, 64, 64), &Device::Cpu).expect("mask")
}

fn params(io: &HashMap<String, Tensor>, kind: SchedulerKind, seed: u64) -> InpaintParams {
    let cfg_file = match kind {
        SchedulerKind::EulerAncestral => "scheduler_euler_a",
        SchedulerKind::Ddim => "scheduler",
        SchedulerKind::Lcm => "scheduler_lcm",
    };
    InpaintParams {
        prompts: PromptInput::Embeddings(PromptEmbeddings {
            positive: io["pipe.prompt_embeds"].clone(),
            negative: io["pipe.negative_prompt_embeds"].clone(),
        }),
        init_image: io["pipe.init_image"].clone(),
        mask: half_mask(),
        control_image: Some(io["pipe.control_image"].clone()),
        conditioning_scale: 1.0,
        control_window: adstudio::ml::diffusion::ControlWindow::FULL,
        steps: 4,
        guidance_scale: 7.5,
        scheduler: kind,
        scheduler_config: SchedulerConfig::from_file(
            &sd_tiny::dir().join(cfg_file).join("scheduler_config.json"),
        )
        .expect("scheduler config"),
        seed,
        initial_latents: None,
    }
}

#[test]
fn latent_blending_keeps_the_known_region_on_the_noised_original() {
    let io = sd_tiny::io();
    let (unet, vae, cn) = (unet4(), sd_tiny::vae(), sd_tiny::controlnet());
    let models = InpaintModels {
        unet: &unet,
        vae: &vae,
        controlnet: Some(&cn),
        text: None,
    };
    let mut p = params(&io, SchedulerKind::Ddim, 7);
    let noise = io["pipe.latents"].clone();
    p.initial_latents = Some(noise.clone());
    let original = vae.encode_to_latents(&p.init_image).expect("encode");
    let sched = Scheduler::new(SchedulerKind::Ddim, &p.scheduler_config, 4).expect("scheduler");
    // Latent columns 4.. are kept (mask 0), columns ..4 repainted.
    let keep = |t: &Tensor| t.narrow(3, 4, 4).expect("keep");
    let repaint = |t: &Tensor| t.narrow(3, 0, 4).expect("repaint");
    let mut checked = 0;
    let out = inpaint(&models, &p, &mut |s| {
        let expected = if s.step < s.total {
            sched.add_noise(&original, &noise, s.step).expect("noise")
        } else {
            original.clone()
        };
        let d = max_abs(&(keep(s.latents) - keep(&expected)).expect("sub"));
        assert!(d <= 1e-5, "step {}: kept latents differ by {d}", s.step);
        let moved = max_abs(&(repaint(s.latents) - repaint(&expected)).expect("sub"));
        assert!(
            moved > 1e-3,
            "step {}: repainted latents did not change",
            s.step
        );
        checked += 1;
        ControlFlow::Continue(())
    })
    .expect("pipeline");
    assert_eq!(checked, 4);
    assert_eq!(out.image.dims(), &[1, 3, 64, 64]);
    let (lo, hi) = (
        out.image
            .flatten_all()
            .expect("f")
            .min(0)
            .expect("min")
            .to_scalar::<f32>()
            .expect("s"),
        out.image
            .flatten_all()
            .expect("f")
            .max(0)
            .expect("max")
            .to_scalar::<f32>()
            .expect("s"),
    );
    assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
}

#[test]
fn same_seed_reproduces_bit_exactly_and_other_seeds_differ() {
    let io = sd_tiny::io();
    let (unet, vae, cn) = (unet4(), sd_tiny::vae(), sd_tiny::controlnet());
    let models = InpaintModels {
        unet: &unet,
        vae: &vae,
        controlnet: Some(&cn),
        text: None,
    };
    let run = |kind, seed| {
        inpaint(&models, &params(&io, kind, seed), &mut |_| {
            ControlFlow::Continue(())
        })
        .expect("pipeline")
        .image
        .flatten_all()
        .expect("flat")
        .to_vec1::<f32>()
        .expect("vec")
    };
    for kind in [
        SchedulerKind::EulerAncestral,
        SchedulerKind::Lcm,
        SchedulerKind::Ddim,
    ] {
        let a = run(kind, 11);
        let b = run(kind, 11);
        assert_eq!(a, b, "{kind:?}: same seed must reproduce");
        let c = run(kind, 12);
        assert_ne!(a, c, "{kind:?}: another seed must differ");
    }
}

#[test]
fn bad_inputs_give_clear_errors() {
    let io = sd_tiny::io();
    let (unet, vae, cn) = (unet4(), sd_tiny::vae(), sd_tiny::controlnet());
    let models = InpaintModels {
        unet: &unet,
        vae: &vae,
        controlnet: Some(&cn),
        text: None,
    };
    let go = |p: &InpaintParams| inpaint(&models, p, &mut |_| ControlFlow::Continue(()));

    let mut p = params(&io, SchedulerKind::Ddim, 1);
    p.init_image = Tensor::zeros((1, 3, 60, 64), DType::F32, &Device::Cpu).expect("img");
    let e = go(&p).expect_err("size");
    assert!(
        matches!(e, DiffusionError::InvalidInput(_)) && e.to_string().contains("multiples of 8"),
        "{e}"
    );

    let mut p = params(&io, SchedulerKind::Ddim, 1);
    p.control_image = None;
    let e = go(&p).expect_err("control");
    assert!(e.to_string().contains("control image"), "{e}");

    let mut p = params(&io, SchedulerKind::Ddim, 1);
    p.prompts = PromptInput::Text {
        prompt: "a cat".into(),
        negative: String::new(),
    };
    let e = go(&p).expect_err("no text encoder");
    assert!(e.to_string().contains("text encoder"), "{e}");

    let mut p = params(&io, SchedulerKind::Ddim, 1);
    p.steps = 0;
    assert!(go(&p).is_err());
}

#[test]
fn unet_rejects_a_sample_with_the_wrong_channel_count() {
    let unet = unet4();
    let x = Tensor::zeros((1, 9, 8, 8), DType::F32, &Device::Cpu).expect("x");
    let ehs = Tensor::zeros((1, 77, 32), DType::F32, &Device::Cpu).expect("ehs");
    let e = unet.forward(&x, 10.0, &ehs, None).expect_err("channels");
    assert!(e.to_string().contains("4 input channels"), "{e}");
}

/// An LCM-distilled UNet (guidance embedding through `time_embedding.cond_proj`)
/// made from the tiny UNet with an added random projection.
fn unet4_lcm(cond_dim: usize) -> UNet {
    let mut cfg = UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("config");
    cfg.in_channels = 4;
    cfg.time_cond_proj_dim = Some(cond_dim);
    let mut ts = sd_tiny::weights("unet");
    let w = ts["conv_in.weight"].narrow(1, 0, 4).expect("narrow");
    ts.insert("conv_in.weight".into(), w);
    let mut rng = adstudio::ml::diffusion::noise::NoiseRng::new(5);
    let proj = (rng.tensor((32, cond_dim), &Device::Cpu).expect("proj") * 0.5).expect("scale");
    ts.insert("time_embedding.cond_proj.weight".into(), proj);
    UNet::new(&cfg, VarBuilder::from_tensors(ts, DType::F32, &Device::Cpu)).expect("unet")
}

#[test]
fn lcm_distilled_unet_uses_the_guidance_embedding_without_a_negative_pass() {
    let io = sd_tiny::io();
    let (unet, vae) = (unet4_lcm(16), sd_tiny::vae());
    let models = InpaintModels {
        unet: &unet,
        vae: &vae,
        controlnet: None,
        text: None,
    };
    let render = |scale: f64, negative: Option<Tensor>| {
        let mut p = params(&io, SchedulerKind::Lcm, 9);
        p.control_image = None;
        p.guidance_scale = scale;
        if let Some(n) = negative {
            p.prompts = PromptInput::Embeddings(PromptEmbeddings {
                positive: io["pipe.prompt_embeds"].clone(),
                negative: n,
            });
        }
        inpaint(&models, &p, &mut |_| ControlFlow::Continue(()))
            .expect("render")
            .image
            .flatten_all()
            .expect("f")
            .to_vec1::<f32>()
            .expect("v")
    };
    let base = render(8.0, None);
    // The guidance scale reaches the model through the embedding...
    assert_ne!(base, render(2.0, None));
    // ...and the negative prompt is not used (no unconditional pass).
    let other_negative = (io["pipe.negative_prompt_embeds"].clone() * 3.0).expect("scale");
    assert_eq!(base, render(8.0, Some(other_negative)));
}
