//! Parity of the diffusion engine with diffusers/transformers on the tiny
//! random models in `sd_tiny/` and the real CLIP tokenizer in
//! `clip_tokenizer/`.
//!
//! Fixture root: env `ADSTUDIO_FIXTURES`, default `tests/fixtures` under the
//! crate. Tolerance for tensors: `max|a - b| <= 1e-4 * max(1, max|b|)` with
//! `b` the reference (f32 on CPU). Token ids must match exactly.

use crate::common::fixtures;
use crate::common::sd_tiny;
use crate::common::tensors;

use std::collections::HashMap;
use std::path::PathBuf;

use adstudio::ml::diffusion::scheduler::{Ddim, EulerAncestral, Lcm};
use adstudio::ml::diffusion::{
    ClipTextConfig, ClipTextModel, ClipTokenizer, ControlNetResiduals, SchedulerConfig,
};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tensors::assert_close;

fn get<'a>(io: &'a HashMap<String, Tensor>, key: &str) -> &'a Tensor {
    io.get(key)
        .unwrap_or_else(|| panic!("io.safetensors has no {key}"))
}

fn scalar_f64(io: &HashMap<String, Tensor>, key: &str) -> f64 {
    let t = get(io, key).flatten_all().expect("flatten");
    match t.dtype() {
        DType::I64 => t.to_vec1::<i64>().expect("i64")[0] as f64,
        _ => t
            .to_dtype(DType::F64)
            .expect("f64")
            .to_vec1::<f64>()
            .expect("vec")[0],
    }
}

fn vec_f64(io: &HashMap<String, Tensor>, key: &str) -> Vec<f64> {
    get(io, key)
        .to_dtype(DType::F64)
        .expect("f64")
        .to_vec1::<f64>()
        .expect("vec")
}

fn assert_close_vec(name: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{name}: length");
    let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-4 * scale, "{name}[{i}]: {a} vs {e}");
    }
}

fn vb(file: PathBuf) -> VarBuilder<'static> {
    let data = std::fs::read(&file).expect("weights");
    VarBuilder::from_buffered_safetensors(data, DType::F32, &Device::Cpu).expect("var builder")
}

fn sched_cfg(dir: &str) -> SchedulerConfig {
    SchedulerConfig::from_file(&sd_tiny::dir().join(dir).join("scheduler_config.json"))
        .expect("scheduler config")
}

#[test]
fn text_encoder_matches_transformers() {
    let io = sd_tiny::io();
    let dir = sd_tiny::dir().join("text_encoder");
    let cfg = ClipTextConfig::from_file(&dir.join("config.json")).expect("config");
    let model = ClipTextModel::new(&cfg, vb(dir.join("model.safetensors"))).expect("model");
    let out = model.forward(get(&io, "text.input_ids")).expect("forward");
    assert_close(
        "text.last_hidden_state",
        &out,
        get(&io, "text.last_hidden_state"),
    );
}

#[test]
fn controlnet_residuals_match_diffusers() {
    let io = sd_tiny::io();
    let cn = sd_tiny::controlnet();
    let res = cn
        .forward(
            get(&io, "cn.sample"),
            scalar_f64(&io, "cn.timestep"),
            get(&io, "cn.ehs"),
            get(&io, "cn.cond"),
            scalar_f64(&io, "cn.conditioning_scale"),
        )
        .expect("forward");
    assert_eq!(res.down.len(), 4);
    for (i, d) in res.down.iter().enumerate() {
        let key = format!("cn.down.{i}");
        assert_close(&key, d, get(&io, &key));
    }
    assert_close("cn.mid", &res.mid, get(&io, "cn.mid"));
}

#[test]
fn unet_matches_diffusers_with_and_without_residuals() {
    let io = sd_tiny::io();
    let unet = sd_tiny::unet();
    let t = scalar_f64(&io, "cn.timestep");
    let ehs = get(&io, "cn.ehs");
    let sample = get(&io, "unet.sample");
    let out = unet.forward(sample, t, ehs, None).expect("forward");
    assert_close("unet.out", &out, get(&io, "unet.out"));
    let residuals = ControlNetResiduals {
        down: (0..4)
            .map(|i| get(&io, &format!("cn.down.{i}")).clone())
            .collect(),
        mid: get(&io, "cn.mid").clone(),
    };
    let out = unet
        .forward(sample, t, ehs, Some(&residuals))
        .expect("forward");
    assert_close("unet.out_with_cn", &out, get(&io, "unet.out_with_cn"));
}

#[test]
fn vae_encode_and_decode_match_diffusers() {
    let io = sd_tiny::io();
    let vae = sd_tiny::vae();
    let dist = vae.encode(get(&io, "vae.image")).expect("encode");
    assert_close("vae.latent_mean", &dist.mean, get(&io, "vae.latent_mean"));
    assert_close("vae.latent_std", &dist.std, get(&io, "vae.latent_std"));
    let decoded = vae.decode(get(&io, "vae.latent")).expect("decode");
    assert_close("vae.decoded", &decoded, get(&io, "vae.decoded"));
}

#[test]
fn ddim_timesteps_and_step_match_diffusers() {
    let io = sd_tiny::io();
    let ddim = Ddim::new(&sched_cfg("scheduler"), 20).expect("ddim");
    let ts: Vec<f64> = ddim.timesteps().iter().map(|&t| t as f64).collect();
    assert_eq!(ts, vec_f64(&io, "ddim.timesteps_20"));
    let t = scalar_f64(&io, "ddim.t") as usize;
    let index = ddim
        .timesteps()
        .iter()
        .position(|&x| x == t)
        .expect("t in schedule");
    let out = ddim
        .step(get(&io, "ddim.eps"), index, get(&io, "ddim.x"), None)
        .expect("step");
    assert_close("ddim.prev", &out.prev_sample, get(&io, "ddim.prev"));
    assert_eq!(scalar_f64(&io, "ddim.init_noise_sigma"), 1.0);
}

#[test]
fn lcm_timesteps_and_last_step_match_diffusers() {
    let io = sd_tiny::io();
    let lcm = Lcm::new(&sched_cfg("scheduler_lcm"), 4).expect("lcm");
    let ts: Vec<f64> = lcm.timesteps().iter().map(|&t| t as f64).collect();
    assert_eq!(ts, vec_f64(&io, "lcm.timesteps_4"));
    let t_last = scalar_f64(&io, "lcm.t_last") as usize;
    assert_eq!(lcm.timesteps()[3], t_last);
    let out = lcm
        .step(get(&io, "ddim.eps"), 3, get(&io, "ddim.x"), None)
        .expect("step");
    assert_close(
        "lcm.denoised_last",
        &out.pred_original,
        get(&io, "lcm.denoised_last"),
    );
    assert_close(
        "lcm.prev (last step = denoised)",
        &out.prev_sample,
        get(&io, "lcm.denoised_last"),
    );
}

#[test]
fn euler_ancestral_schedule_scaling_and_step_match_diffusers() {
    let io = sd_tiny::io();
    let euler = EulerAncestral::new(&sched_cfg("scheduler_euler_a"), 30).expect("euler a");
    assert_close_vec(
        "euler_a.timesteps_30",
        euler.timesteps(),
        &vec_f64(&io, "euler_a.timesteps_30"),
    );
    assert_close_vec(
        "euler_a.sigmas_30",
        euler.sigmas(),
        &vec_f64(&io, "euler_a.sigmas_30"),
    );
    assert_close_vec(
        "euler_a.init_noise_sigma",
        &[euler.init_noise_sigma()],
        &[scalar_f64(&io, "euler_a.init_noise_sigma")],
    );
    let k = scalar_f64(&io, "euler_a.k") as usize;
    let x = get(&io, "euler_a.x");
    let scaled = euler.scale_model_input(x, k).expect("scale");
    assert_close(
        "euler_a.scaled_input",
        &scaled,
        get(&io, "euler_a.scaled_input"),
    );
    let out = euler
        .step(
            get(&io, "euler_a.eps"),
            k,
            x,
            Some(get(&io, "euler_a.noise")),
        )
        .expect("step");
    assert_close("euler_a.prev", &out.prev_sample, get(&io, "euler_a.prev"));
    // The noise matters: a step without it is refused, not silently different.
    assert!(euler.step(get(&io, "euler_a.eps"), k, x, None).is_err());
}

#[test]
fn clip_tokenizer_ids_match_hugging_face_exactly() {
    let dir = fixtures::fixture_dir("clip_tokenizer");
    let tok = ClipTokenizer::from_file(&dir.join("tokenizer.json")).expect("tokenizer");
    for case in fixtures::clip_token_cases() {
        let prompt = &case.prompt;
        let untruncated = case.untruncated_len;
        let got = tok.encode(prompt).expect("encode");
        assert_eq!(got.ids, case.ids_77, "ids of {prompt:?}");
        assert_eq!(got.untruncated_len, untruncated, "length of {prompt:?}");
        assert_eq!(
            got.was_truncated(),
            untruncated > 77,
            "truncation of {prompt:?}"
        );
        assert_eq!(got.truncated_tokens, untruncated.saturating_sub(77));
    }
}
