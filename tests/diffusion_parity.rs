//! Parity of the diffusion engine with diffusers/transformers on the tiny
//! random models in `sd_tiny/` and the real CLIP tokenizer in
//! `clip_tokenizer/`.
//!
//! Fixture root: env `ADSTUDIO_FIXTURES`, default `tests/fixtures` under the
//! crate. Tolerance for tensors: `max|a - b| <= 1e-4 * max(1, max|b|)` with
//! `b` the reference (f32 on CPU). Token ids must match exactly.

use std::collections::HashMap;
use std::path::PathBuf;

use adstudio::ml::diffusion::scheduler::{Ddim, EulerAncestral, Lcm};
use adstudio::ml::diffusion::{
    ClipTextConfig, ClipTextModel, ClipTokenizer, ControlNet, ControlNetConfig,
    ControlNetResiduals, SchedulerConfig, UNet, UNetConfig, Vae, VaeConfig,
};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

const REL_TOL: f32 = 1e-4;

fn root() -> PathBuf {
    match std::env::var_os("ADSTUDIO_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

fn sd() -> PathBuf {
    root().join("sd_tiny")
}

fn io() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(sd().join("io.safetensors"), &Device::Cpu)
        .expect("io.safetensors")
}

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

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .expect("abs")
        .flatten_all()
        .expect("flat")
        .max(0)
        .expect("max")
        .to_scalar::<f32>()
        .expect("scalar")
}

/// Asserts `max|a - b| <= 1e-4 * max(1, max|b|)`.
fn assert_close(name: &str, actual: &Tensor, expected: &Tensor) {
    assert_eq!(actual.dims(), expected.dims(), "{name}: shape");
    let actual = actual.to_dtype(DType::F32).expect("f32");
    let expected = expected.to_dtype(DType::F32).expect("f32");
    let diff = max_abs(&(&actual - &expected).expect("sub"));
    let bound = REL_TOL * max_abs(&expected).max(1.0);
    assert!(diff <= bound, "{name}: max abs diff {diff} > {bound}");
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

fn unet() -> UNet {
    let dir = sd().join("unet");
    let cfg = UNetConfig::from_file(&dir.join("config.json")).expect("unet config");
    UNet::new(&cfg, vb(dir.join("diffusion_pytorch_model.safetensors"))).expect("unet")
}

fn controlnet() -> ControlNet {
    let dir = sd().join("controlnet");
    let cfg = ControlNetConfig::from_file(&dir.join("config.json")).expect("cn config");
    ControlNet::new(&cfg, vb(dir.join("diffusion_pytorch_model.safetensors"))).expect("controlnet")
}

fn vae() -> Vae {
    let dir = sd().join("vae");
    let cfg = VaeConfig::from_file(&dir.join("config.json")).expect("vae config");
    Vae::new(&cfg, vb(dir.join("diffusion_pytorch_model.safetensors"))).expect("vae")
}

fn sched_cfg(dir: &str) -> SchedulerConfig {
    SchedulerConfig::from_file(&sd().join(dir).join("scheduler_config.json"))
        .expect("scheduler config")
}

#[test]
fn text_encoder_matches_transformers() {
    let io = io();
    let dir = sd().join("text_encoder");
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
    let io = io();
    let cn = controlnet();
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
    let io = io();
    let unet = unet();
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
    let io = io();
    let vae = vae();
    let dist = vae.encode(get(&io, "vae.image")).expect("encode");
    assert_close("vae.latent_mean", &dist.mean, get(&io, "vae.latent_mean"));
    assert_close("vae.latent_std", &dist.std, get(&io, "vae.latent_std"));
    let decoded = vae.decode(get(&io, "vae.latent")).expect("decode");
    assert_close("vae.decoded", &decoded, get(&io, "vae.decoded"));
}

#[test]
fn ddim_timesteps_and_step_match_diffusers() {
    let io = io();
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
    let io = io();
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
    let io = io();
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
    let dir = root().join("clip_tokenizer");
    let tok = ClipTokenizer::from_file(&dir.join("tokenizer.json")).expect("tokenizer");
    let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases");
    let cases: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = cases["cases"].as_array().expect("cases array");
    assert!(!cases.is_empty());
    for case in cases {
        let prompt = case["prompt"].as_str().expect("prompt");
        let expected: Vec<u32> = case["input_ids_77"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_u64().expect("id") as u32)
            .collect();
        let untruncated = case["untruncated_len"].as_u64().expect("len") as usize;
        let got = tok.encode(prompt).expect("encode");
        assert_eq!(got.ids, expected, "ids of {prompt:?}");
        assert_eq!(got.untruncated_len, untruncated, "length of {prompt:?}");
        assert_eq!(
            got.was_truncated(),
            untruncated > 77,
            "truncation of {prompt:?}"
        );
        assert_eq!(got.truncated_tokens, untruncated.saturating_sub(77));
    }
}
