//! Single-file checkpoints in the original LDM key names: the tiny fixture
//! models are renamed to LDM names (attention projections of the VAE as 1x1
//! convolutions, as in real files), saved as one file, loaded through the
//! key tables, and must reproduce the diffusers references.
//! Tolerance: `max|a - b| <= 1e-4 * max(1, max|b|)`.

use crate::common::fixtures;
use crate::common::sd_tiny;
use crate::common::tensors;

use std::collections::HashMap;

use adstudio::ml::diffusion::ldm::{
    controlnet_key, unet_key, vae_key, UNetLayout, CLIP_PREFIX, UNET_PREFIX, VAE_PREFIX,
};
use adstudio::ml::diffusion::single_file::SingleFileConfigs;
use adstudio::ml::diffusion::{
    ClipTextConfig, ClipTokenizer, ControlNet, ControlNetConfig, SchedulerConfig, StableDiffusion,
    UNetConfig, VaeConfig,
};
use candle_core::{DType, Device, Tensor};
use tensors::assert_close;

fn load(rel: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(sd_tiny::dir().join(rel), &Device::Cpu).expect("weights")
}

fn configs() -> SingleFileConfigs {
    SingleFileConfigs {
        unet: UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("unet"),
        vae: VaeConfig::from_file(&sd_tiny::dir().join("vae/config.json")).expect("vae"),
        text_encoder: ClipTextConfig::from_file(&sd_tiny::dir().join("text_encoder/config.json"))
            .expect("text"),
        scheduler: SchedulerConfig::from_file(
            &sd_tiny::dir().join("scheduler/scheduler_config.json"),
        )
        .expect("sched"),
    }
}

#[test]
fn single_file_checkpoint_with_ldm_names_matches_diffusers_outputs() {
    let cfg = configs();
    let layout = UNetLayout::new(
        cfg.unet.layers_per_block,
        &cfg.unet.levels().expect("levels"),
    );
    let mut all = HashMap::new();
    for (k, v) in load("unet/diffusion_pytorch_model.safetensors") {
        all.insert(format!("{UNET_PREFIX}{}", unet_key(&k, &layout)), v);
    }
    for (k, v) in load("vae/diffusion_pytorch_model.safetensors") {
        let ldm = vae_key(&k, cfg.vae.block_out_channels.len());
        let v = if ldm.contains("mid.attn_1.") && ldm.ends_with("weight") && v.rank() == 2 {
            v.unsqueeze(2).expect("u").unsqueeze(3).expect("u")
        } else {
            v
        };
        all.insert(format!("{VAE_PREFIX}{ldm}"), v);
    }
    for (k, v) in load("text_encoder/model.safetensors") {
        all.insert(format!("{CLIP_PREFIX}text_model.{k}"), v);
    }
    // Every name must have been translated (no diffusers-only names left).
    assert!(
        all.keys()
            .all(|k| !k.contains("down_blocks") && !k.contains("resnets")),
        "untranslated keys"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("tiny-ldm.safetensors");
    candle_core::safetensors::save(&all, &file).expect("save");

    let tok =
        ClipTokenizer::from_file(&fixtures::fixture_dir("clip_tokenizer").join("tokenizer.json"))
            .expect("tokenizer");
    let model = StableDiffusion::load_single_file_with(&file, &cfg, tok, DType::F32, &Device::Cpu)
        .expect("load");
    assert_eq!(model.unet.in_channels(), 9);

    let io = sd_tiny::io();
    let out = model
        .unet
        .forward(&io["unet.sample"], 501.0, &io["cn.ehs"], None)
        .expect("unet");
    assert_close("unet.out", &out, &io["unet.out"]);
    let dist = model.vae.encode(&io["vae.image"]).expect("encode");
    assert_close("vae.latent_mean", &dist.mean, &io["vae.latent_mean"]);
    let dec = model.vae.decode(&io["vae.latent"]).expect("decode");
    assert_close("vae.decoded", &dec, &io["vae.decoded"]);
    let text = model
        .text_encoder
        .forward(&io["text.input_ids"])
        .expect("text");
    assert_close(
        "text.last_hidden_state",
        &text,
        &io["text.last_hidden_state"],
    );
}

#[test]
fn single_file_controlnet_with_ldm_names_matches_diffusers_residuals() {
    let cfg = ControlNetConfig::from_file(&sd_tiny::dir().join("controlnet/config.json"))
        .expect("config");
    let unet_cfg =
        UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("unet config");
    let layout = UNetLayout::new(cfg.layers_per_block, &unet_cfg.levels().expect("levels"));
    let hint = 2 * (cfg.conditioning_embedding_out_channels.len() - 1);
    let renamed: HashMap<String, Tensor> = load("controlnet/diffusion_pytorch_model.safetensors")
        .into_iter()
        .map(|(k, v)| {
            (
                format!("control_model.{}", controlnet_key(&k, &layout, hint)),
                v,
            )
        })
        .collect();
    assert!(renamed.contains_key("control_model.input_hint_block.14.weight"));
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("control_tiny.safetensors");
    candle_core::safetensors::save(&renamed, &file).expect("save");
    let cn = ControlNet::load_single_file(&file, &cfg, DType::F32, &Device::Cpu).expect("load");
    let io = sd_tiny::io();
    let res = cn
        .forward(&io["cn.sample"], 501.0, &io["cn.ehs"], &io["cn.cond"], 0.8)
        .expect("forward");
    for (i, d) in res.down.iter().enumerate() {
        assert_close(&format!("cn.down.{i}"), d, &io[&format!("cn.down.{i}")]);
    }
    assert_close("cn.mid", &res.mid, &io["cn.mid"]);
}

#[test]
fn built_in_sd15_configs_parse_and_describe_sd15() {
    let c = SingleFileConfigs::sd15().expect("configs");
    assert_eq!(c.unet.block_out_channels, vec![320, 640, 1280, 1280]);
    assert_eq!(c.unet.cross_attention_dim, 768);
    assert_eq!(c.text_encoder.hidden_size, 768);
    assert!((c.vae.scaling_factor - 0.18215).abs() < 1e-9);
    assert_eq!(c.unet.levels().expect("levels").len(), 4);
}
