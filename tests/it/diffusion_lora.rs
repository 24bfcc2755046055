//! LoRA merging: kohya files with diffusers and with LDM module names, and
//! PEFT files, must give the same model as merging the deltas by hand.

use crate::common::fixtures;
use crate::common::sd_tiny;
use crate::common::tensors;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use adstudio::ml::diffusion::ldm::UNetLayout;
use adstudio::ml::diffusion::lora::{with_loras, LoraTarget, LoraWeights};
use adstudio::ml::diffusion::noise::NoiseRng;
use adstudio::ml::diffusion::{ClipTextConfig, ClipTextModel, UNet, UNetConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tensors::max_abs_diff;

/// Random factors for a module whose weight has `shape`; returns (down, up,
/// delta = alpha/rank * up @ down reshaped).
fn factors(
    rng: &mut NoiseRng,
    shape: &[usize],
    rank: usize,
    alpha: f64,
) -> (Tensor, Tensor, Tensor) {
    let out = shape[0];
    let mut down_shape = vec![rank];
    down_shape.extend_from_slice(&shape[1..]);
    let mut up_shape = vec![out, rank];
    up_shape.extend(std::iter::repeat_n(1, shape.len() - 2));
    let down = rng.tensor(down_shape, &Device::Cpu).expect("down");
    let up = rng.tensor(up_shape, &Device::Cpu).expect("up");
    let delta = (up
        .reshape((out, rank))
        .expect("r")
        .matmul(&down.flatten_from(1).expect("f"))
        .expect("mm")
        * (alpha / rank as f64))
        .expect("scale")
        .reshape(shape)
        .expect("reshape");
    (down, up, delta)
}

#[test]
fn kohya_loras_with_diffusers_and_ldm_names_merge_like_by_hand() {
    let cfg = UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("config");
    let base = candle_core::safetensors::load(
        sd_tiny::dir().join("unet/diffusion_pytorch_model.safetensors"),
        &Device::Cpu,
    )
    .expect("weights");
    let mut rng = NoiseRng::new(4);
    let mut lora = HashMap::new();
    let mut merged = base.clone();
    let multiplier = 0.7;
    // (diffusers module, name in the LoRA file)
    let targets = [
        (
            "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
        ),
        (
            "down_blocks.0.resnets.0.conv1",
            "lora_unet_down_blocks_0_resnets_0_conv1",
        ),
        // Original LDM naming: input_blocks.1.1 is down_blocks.0.attentions.0.
        (
            "down_blocks.0.attentions.0.proj_in",
            "lora_unet_input_blocks_1_1_proj_in",
        ),
    ];
    for (module, file_name) in targets {
        let w = &base[&format!("{module}.weight")];
        let (down, up, delta) = factors(&mut rng, w.dims(), 2, 1.0);
        lora.insert(format!("{file_name}.lora_down.weight"), down);
        lora.insert(format!("{file_name}.lora_up.weight"), up);
        lora.insert(
            format!("{file_name}.alpha"),
            Tensor::new(1f32, &Device::Cpu).expect("alpha"),
        );
        let m = (w + (delta * multiplier).expect("m")).expect("add");
        merged.insert(format!("{module}.weight"), m);
    }
    let lora = Arc::new(LoraWeights::from_tensors(lora).expect("lora"));
    assert_eq!(lora.len(), 3);

    let layout = UNetLayout::new(cfg.layers_per_block, &cfg.levels().expect("levels"));
    let base_vb = VarBuilder::from_tensors(base, DType::F32, &Device::Cpu);
    let plain = UNet::new(&cfg, base_vb.clone()).expect("plain");
    let (vb, matched) = with_loras(base_vb, &[(lora, multiplier)], LoraTarget::Unet(layout));
    let with_lora = UNet::new(&cfg, vb).expect("lora unet");
    assert_eq!(
        *matched.lock().expect("lock"),
        3,
        "every module must be matched"
    );
    let by_hand = UNet::new(
        &cfg,
        VarBuilder::from_tensors(merged, DType::F32, &Device::Cpu),
    )
    .expect("by hand");

    let io = sd_tiny::io();
    let run = |u: &UNet| {
        u.forward(&io["unet.sample"], 501.0, &io["cn.ehs"], None)
            .expect("forward")
    };
    let (a, b, c) = (run(&with_lora), run(&by_hand), run(&plain));
    assert!(
        max_abs_diff(&a, &b) < 1e-4,
        "merged vs by hand: {}",
        max_abs_diff(&a, &b)
    );
    assert!(
        max_abs_diff(&a, &c) > 1e-3,
        "the LoRA must change the output"
    );
}

#[test]
fn peft_text_encoder_lora_merges_like_by_hand() {
    let cfg = ClipTextConfig::from_file(&sd_tiny::dir().join("text_encoder/config.json"))
        .expect("config");
    let base = candle_core::safetensors::load(
        sd_tiny::dir().join("text_encoder/model.safetensors"),
        &Device::Cpu,
    )
    .expect("weights");
    let mut rng = NoiseRng::new(8);
    let module = "encoder.layers.1.mlp.fc1";
    let w = &base[&format!("{module}.weight")];
    let (down, up, delta) = factors(&mut rng, w.dims(), 4, 4.0);
    let mut lora = HashMap::new();
    lora.insert(
        format!("text_encoder.text_model.{module}.lora_A.weight"),
        down,
    );
    lora.insert(
        format!("text_encoder.text_model.{module}.lora_B.weight"),
        up,
    );
    let lora = Arc::new(LoraWeights::from_tensors(lora).expect("lora"));
    let mut merged = base.clone();
    merged.insert(format!("{module}.weight"), (w + delta).expect("add"));

    let (vb, matched) = with_loras(
        VarBuilder::from_tensors(base, DType::F32, &Device::Cpu),
        &[(lora, 1.0)],
        LoraTarget::TextEncoder,
    );
    let with_lora = ClipTextModel::new(&cfg, vb).expect("model");
    assert_eq!(*matched.lock().expect("lock"), 1);
    let by_hand = ClipTextModel::new(
        &cfg,
        VarBuilder::from_tensors(merged, DType::F32, &Device::Cpu),
    )
    .expect("m");
    let io = sd_tiny::io();
    let a = with_lora.forward(&io["text.input_ids"]).expect("a");
    let b = by_hand.forward(&io["text.input_ids"]).expect("b");
    assert!(max_abs_diff(&a, &b) < 1e-5, "{}", max_abs_diff(&a, &b));
    assert!(max_abs_diff(&a, &io["text.last_hidden_state"]) > 1e-3);
}

#[test]
fn lora_module_without_its_up_factor_is_an_error_naming_it() {
    let mut t = HashMap::new();
    t.insert(
        "lora_unet_mid_block_attentions_0_proj_in.lora_down.weight".to_string(),
        Tensor::zeros((2, 64, 1, 1), DType::F32, &Device::Cpu).expect("t"),
    );
    let err = LoraWeights::from_tensors(t).expect_err("incomplete");
    assert!(
        err.to_string()
            .contains("lora_unet_mid_block_attentions_0_proj_in"),
        "{err}"
    );
}

/// The sd_tiny components with the real CLIP tokenizer (`tokenizer.json`).
fn tiny_folder(tmp: &std::path::Path) -> PathBuf {
    let dst = tmp.join("sd");
    for c in ["unet", "vae", "text_encoder", "scheduler"] {
        fixtures::copy_dir(&sd_tiny::dir().join(c), &dst.join(c));
    }
    std::fs::create_dir_all(dst.join("tokenizer")).expect("mkdir");
    std::fs::copy(
        fixtures::fixture_dir("clip_tokenizer").join("tokenizer.json"),
        dst.join("tokenizer/tokenizer.json"),
    )
    .expect("tokenizer");
    dst
}

#[test]
fn diffusers_folder_loads_with_a_lora_file_and_rejects_a_foreign_one() {
    use adstudio::ml::diffusion::StableDiffusion;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tiny_folder(tmp.path());
    let base = candle_core::safetensors::load(
        sd_tiny::dir().join("unet/diffusion_pytorch_model.safetensors"),
        &Device::Cpu,
    )
    .expect("weights");
    let module = "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v";
    let w = &base[&format!("{module}.weight")];
    let mut rng = NoiseRng::new(12);
    let (down, up, delta) = factors(&mut rng, w.dims(), 2, 2.0);
    let mut t = HashMap::new();
    t.insert(format!("unet.{module}.lora_A.weight"), down);
    t.insert(format!("unet.{module}.lora_B.weight"), up);
    let file = tmp.path().join("lora.safetensors");
    candle_core::safetensors::save(&t, &file).expect("save");
    let lora = Arc::new(LoraWeights::load(&file).expect("load lora"));

    let model =
        StableDiffusion::load_diffusers_with_loras(&dir, DType::F32, &Device::Cpu, &[(lora, 0.5)])
            .expect("load with lora");
    let mut merged = base.clone();
    merged.insert(
        format!("{module}.weight"),
        (w + (delta * 0.5).expect("m")).expect("add"),
    );
    let cfg = UNetConfig::from_file(&sd_tiny::dir().join("unet/config.json")).expect("config");
    let by_hand = UNet::new(
        &cfg,
        VarBuilder::from_tensors(merged, DType::F32, &Device::Cpu),
    )
    .expect("by hand");
    let io = sd_tiny::io();
    let a = model
        .unet
        .forward(&io["unet.sample"], 501.0, &io["cn.ehs"], None)
        .expect("a");
    let b = by_hand
        .forward(&io["unet.sample"], 501.0, &io["cn.ehs"], None)
        .expect("b");
    assert!(max_abs_diff(&a, &b) < 1e-4);

    let mut foreign = HashMap::new();
    foreign.insert(
        "lora_unet_not_a_module.lora_down.weight".to_string(),
        Tensor::zeros((2, 4), DType::F32, &Device::Cpu).expect("t"),
    );
    foreign.insert(
        "lora_unet_not_a_module.lora_up.weight".to_string(),
        Tensor::zeros((4, 2), DType::F32, &Device::Cpu).expect("t"),
    );
    let foreign = Arc::new(LoraWeights::from_tensors(foreign).expect("lora"));
    let err = StableDiffusion::load_diffusers_with_loras(
        &dir,
        DType::F32,
        &Device::Cpu,
        &[(foreign, 1.0)],
    )
    .expect_err("no match");
    assert!(err.to_string().contains("LoRA"), "{err}");
}
