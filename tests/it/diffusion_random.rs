//! Tiny random models built in code: deterministic, plain tensors, and a
//! full text-to-inpainting render in both UNet variants.

use std::ops::ControlFlow;

use adstudio::ml::diffusion::inpaint::{inpaint, InpaintParams, PromptInput};
use adstudio::ml::diffusion::random::{random_var_builder, tiny_controlnet_config};
use adstudio::ml::diffusion::{ControlNet, ControlWindow, SchedulerKind, StableDiffusion};
use candle_core::{DType, Device, Tensor};

fn render(in_channels: usize, seed: u64) -> Vec<f32> {
    render_with(in_channels, seed, ControlWindow::FULL, 3).0
}

/// A render with the ControlNet on `window` of `steps` steps: the image
/// and the 0-based steps on which the ControlNet forward ran (counted on
/// the model).
fn render_with(
    in_channels: usize,
    seed: u64,
    window: ControlWindow,
    steps: usize,
) -> (Vec<f32>, Vec<usize>) {
    let dev = Device::Cpu;
    let sd = StableDiffusion::random_tiny(in_channels, 1, &dev).expect("tiny model");
    let cn = ControlNet::random(
        &tiny_controlnet_config().expect("config"),
        2,
        DType::F32,
        &dev,
    )
    .expect("cn");
    let ramp: Vec<f32> = (0..3 * 64 * 64).map(|i| (i % 64) as f32 / 63.0).collect();
    let image = Tensor::from_vec(ramp, (1, 3, 64, 64), &dev).expect("image");
    let mask: Vec<f32> = (0..64 * 64)
        .map(|i| if (i / 64) < 32 { 1.0 } else { 0.0 })
        .collect();
    let p = InpaintParams {
        prompts: PromptInput::Text {
            prompt: "a marble table".into(),
            negative: String::new(),
        },
        init_image: image.clone(),
        mask: Tensor::from_vec(mask, (1, 1, 64, 64), &dev).expect("mask"),
        control_image: Some(image),
        conditioning_scale: 1.0,
        control_window: window,
        steps,
        guidance_scale: 7.5,
        scheduler: SchedulerKind::EulerAncestral,
        scheduler_config: sd.scheduler_config.clone(),
        seed,
        initial_latents: None,
    };
    let mut ran = Vec::new();
    let mut seen = cn.forward_count();
    let out = inpaint(&sd.inpaint_models(Some(&cn)), &p, &mut |progress| {
        let now = cn.forward_count();
        if now > seen {
            ran.push(progress.step - 1);
        }
        assert!(now - seen <= 1, "one ControlNet forward per step at most");
        seen = now;
        ControlFlow::Continue(())
    })
    .expect("render");
    assert_eq!(out.image.dims(), &[1, 3, 64, 64]);
    let image = out
        .image
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    (image, ran)
}

/// diffusers' `control_guidance_start` / `control_guidance_end`: the
/// ControlNet forward runs on the kept steps only (counted on the model),
/// and the full, half and empty windows give three different images.
/// Random weights: this checks the mechanics, not image quality.
#[test]
fn the_control_window_runs_the_controlnet_on_the_kept_steps_only() {
    let window = |s, e| ControlWindow::new(s, e).expect("window");
    for (start, end, kept) in [
        (0.0, 1.0, vec![0, 1, 2, 3]),
        (0.0, 0.5, vec![0, 1]),
        (0.25, 0.75, vec![1, 2]),
        (0.5, 1.0, vec![2, 3]),
        (0.0, 0.2, vec![]),
    ] {
        let (_, ran) = render_with(4, 5, window(start, end), 4);
        assert_eq!(ran, kept, "window {start}..{end}");
    }
    let (full, _) = render_with(4, 5, window(0.0, 1.0), 4);
    let (half, _) = render_with(4, 5, window(0.0, 0.5), 4);
    let (none, _) = render_with(4, 5, window(0.0, 0.2), 4);
    assert_ne!(half, full);
    assert_ne!(half, none);
    assert_ne!(full, none);
}

#[test]
fn tiny_random_models_render_deterministically_in_both_unet_variants() {
    for channels in [4, 9] {
        let a = render(channels, 5);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(
            a,
            render(channels, 5),
            "{channels}-channel render must be reproducible"
        );
        assert_ne!(
            a,
            render(channels, 6),
            "{channels}-channel: the seed must matter"
        );
    }
}

#[test]
fn random_weights_are_plain_tensors_with_sane_scale() {
    let vb = random_var_builder(3, DType::F32, &Device::Cpu);
    let w = vb.get((64, 32, 3, 3), "conv.weight").expect("weight");
    assert!(!w.is_variable());
    let std = w
        .sqr()
        .expect("sq")
        .mean_all()
        .expect("m")
        .to_scalar::<f32>()
        .expect("s")
        .sqrt();
    let expected = 1.0 / (32.0f32 * 9.0).sqrt();
    assert!(
        (std / expected - 1.0).abs() < 0.1,
        "std {std} vs {expected}"
    );
    assert_eq!(
        vb.get(64, "conv.bias")
            .expect("b")
            .sum_all()
            .expect("s")
            .to_scalar::<f32>()
            .expect("s"),
        0.0
    );
    let again = random_var_builder(3, DType::F32, &Device::Cpu)
        .get((64, 32, 3, 3), "conv.weight")
        .expect("w");
    assert_eq!(
        w.flatten_all().expect("f").to_vec1::<f32>().expect("v"),
        again.flatten_all().expect("f").to_vec1::<f32>().expect("v")
    );
}
