//! The LLaVA-style reward model on `llava_tiny` (tiny random LLaVA: CLIP
//! vision 32x32 + Qwen2 decoder, hidden 64; no tokenizer ships with it, so a
//! 512-word synthetic vocabulary with `<image>` = 511 stands in). Fixture
//! root: `ADSTUDIO_FIXTURES` (default `tests/fixtures`).

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::tensors;
use crate::common::words;

use std::path::PathBuf;

use adstudio::ml::prompt_model::{
    ChatTemplate, Llava, LlavaConfig, LoraTarget, MultimodalPromptModel, TextTokenizer,
};
use adstudio::ml::reward::llava_train::pairwise_accuracy_of;
use adstudio::ml::reward::pairs::{make_pairs, PairingConfig};
use adstudio::ml::reward::synthetic::{SyntheticWorld, WorldConfig};
use adstudio::ml::reward::{
    LlavaRewardModel, LlavaRmConfig, LlavaRmTrainer, LlavaTrainConfig, RewardError, RewardModel,
    TrainingPair,
};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;
use tensors::max_abs_diff;

fn fixture_dir() -> PathBuf {
    fixtures::fixture_dir("llava_tiny")
}

/// `w0`..`w510` and `<image>` = 511.
fn tokenizer() -> TextTokenizer {
    TextTokenizer::from_tokenizer(words::tokenizer_with_image(), None, false, vec![])
}

fn prompt_model() -> MultimodalPromptModel {
    let dir = fixture_dir();
    let cfg = LlavaConfig::from_file(&dir.join("config.json")).unwrap();
    let weights =
        candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap();
    let vb = VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
    let llava = Llava::new(&cfg, vb).unwrap();
    MultimodalPromptModel::from_parts(llava, tokenizer(), ChatTemplate::ChatMl).unwrap()
}

fn reward_model(seed: u64) -> LlavaRewardModel {
    let config = LlavaRmConfig {
        lora_rank: 4,
        lora_alpha: 8.0,
        ..LlavaRmConfig::default()
    };
    LlavaRewardModel::new(prompt_model(), config, seed).unwrap()
}

/// A synthetic click world drawn at the tower's input size (32 px).
fn world() -> SyntheticWorld {
    SyntheticWorld::generate(&WorldConfig {
        seed: 11,
        products: 4,
        creatives_per_product: 3,
        image_size: 32,
        impressions: (2000, 20_000),
    })
    .unwrap()
}

/// Every base projection weight of the decoder (all layers, all targets).
fn decoder_weights(model: &LlavaRewardModel) -> Vec<Tensor> {
    let decoder = model.prompt_model().llava().decoder();
    let mut out = Vec::new();
    for layer in 0.. {
        let Some(_) = decoder.projection(layer, LoraTarget::Q) else {
            break;
        };
        for target in LoraTarget::ALL {
            let proj = decoder.projection(layer, target).unwrap();
            out.push(proj.weight().unwrap().clone());
        }
    }
    assert_eq!(out.len(), 2 * 7);
    out
}

/// Forward: one prompt with 16 image tokens; raw logits and scaled CTRs
/// [B, 2], finite; CTRs in (0, 1); probabilities in [0, 1].
#[test]
fn forward_shapes_and_finite_outputs() {
    let model = reward_model(1);
    let ids = model.prompt_ids();
    assert_eq!(ids.iter().filter(|&&i| i == 511).count(), 16);
    let w = world();
    let img = |i: usize| &w.creatives[i].image;
    let out = model
        .forward_pairs(&[(img(0), img(1)), (img(2), img(3)), (img(4), img(5))])
        .unwrap();
    assert_eq!(out.logits.dims(), &[3, 2]);
    assert_eq!(out.ctr_scaled.dims(), &[3, 2]);
    let values: Vec<f32> = [&out.logits, &out.ctr_scaled]
        .iter()
        .flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect();
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
    let s = model.prefer(img(0), img(1)).unwrap();
    assert!((0.0..=1.0).contains(&s.p_left), "{s:?}");
    assert!(s.ctr_left > 0.0 && s.ctr_left < 1.0 && s.ctr_right > 0.0 && s.ctr_right < 1.0);
    // Other image sizes are resized; an empty image is an input error.
    let big = RgbImage::from_pixel(80, 50, image::Rgb([200, 10, 10]));
    assert!(model.prefer(&big, img(1)).unwrap().p_left.is_finite());
    let empty = RgbImage::new(0, 0);
    assert!(matches!(
        model.prefer(&empty, img(1)),
        Err(RewardError::Input(_))
    ));
}

/// Debiasing is exact: `prefer(b, a).p_left == 1 - prefer(a, b).p_left`
/// bit for bit (both ways), CTRs swap exactly, identical images give 0.5,
/// while the raw single-order head is not symmetric.
#[test]
fn debiasing_is_exact() {
    let model = reward_model(2);
    let w = world();
    for (i, j) in [(0, 1), (1, 0), (2, 7), (5, 3)] {
        let (a, b) = (&w.creatives[i].image, &w.creatives[j].image);
        let ab = model.prefer(a, b).unwrap();
        let ba = model.prefer(b, a).unwrap();
        assert_eq!(ab.p_left, 1.0 - ba.p_left, "{ab:?} {ba:?}");
        assert_eq!(ba.p_left, 1.0 - ab.p_left, "{ab:?} {ba:?}");
        assert_eq!(ab.ctr_left, ba.ctr_right);
        assert_eq!(ab.ctr_right, ba.ctr_left);
    }
    let a = &w.creatives[0].image;
    let aa = model.prefer(a, a).unwrap();
    assert_eq!(aa.p_left, 0.5);
    assert_eq!(aa.ctr_left, aa.ctr_right);

    let b = &w.creatives[1].image;
    let raw = model.forward_pairs(&[(a, b), (b, a)]).unwrap();
    let p = candle_nn::ops::softmax(&raw.logits, 1)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let asym = p[0][0] + p[1][0] - 1.0;
    assert!(
        asym.abs() > 1e-5,
        "raw head happens to be symmetric: {asym}"
    );
}

/// A few AdamW steps on 8 synthetic pairs lower the training loss; only
/// LoRA factors and heads change (the base model's logits with the adapters
/// switched off match within 1e-6, every base projection weight and the
/// vision features are bit-identical before and after); the adapter file
/// round-trips to identical outputs on a fresh model.
#[test]
fn training_lowers_loss_touches_only_lora_and_heads_and_round_trips() {
    let w = world();
    let rows = w.click_rows();
    let pairs = make_pairs(&rows, &PairingConfig::default()).unwrap();
    let batch: Vec<TrainingPair<'_>> = pairs
        .pairs
        .iter()
        .take(8)
        .map(|p| TrainingPair {
            better: &w.creatives[p.better].image,
            worse: &w.creatives[p.worse].image,
            ctr_better: rows[p.better].ctr() as f32,
            ctr_worse: rows[p.worse].ctr() as f32,
        })
        .collect();
    assert_eq!(batch.len(), 8);

    let model = reward_model(3);
    let probe: Vec<(&RgbImage, &RgbImage)> = vec![(batch[0].better, batch[0].worse)];
    let pixels = model.pair_pixels(&probe).unwrap();
    let ids = Tensor::new(model.prompt_ids(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let base_logits = model.prompt_model().llava().logits(&ids, &pixels).unwrap();
    let heads_before = model.forward_pixels(&pixels).unwrap();
    let base_weights = decoder_weights(&model);
    let base_features = model
        .prompt_model()
        .llava()
        .image_features(&pixels)
        .unwrap();

    let config = LlavaTrainConfig {
        learning_rate: 5e-3,
        lora_seed: 7,
        ..LlavaTrainConfig::default()
    };
    let mut trainer = LlavaRmTrainer::new(model, config).unwrap();
    // LoRA B starts at zero: attaching adapters changes nothing (up to
    // float reassociation in the matmuls).
    let attached = trainer.model().forward_pixels(&pixels).unwrap();
    let d_attach = max_abs_diff(&attached.logits, &heads_before.logits);
    println!("attaching zero-B adapters: max logit diff {d_attach:e}");
    assert!(d_attach <= 1e-6, "{d_attach}");

    let mut losses = Vec::new();
    for _ in 0..6 {
        losses.push(trainer.train_step(&batch).unwrap().total);
    }
    let after = adstudio::ml::reward::llava_train::step_loss(&trainer.loss(&batch).unwrap())
        .unwrap()
        .total;
    println!("llava rm loss per step {losses:?} -> {after}");
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(
        after < losses[0],
        "loss did not fall: {losses:?} -> {after}"
    );

    // LoRA factors moved (B is no longer zero) and the heads changed.
    let lora = trainer
        .model()
        .prompt_model()
        .llava()
        .decoder()
        .lora_tensors();
    assert_eq!(lora.len(), 2 * 4 * 2, "{:?}", lora.keys());
    let b_norm: f32 = lora
        .iter()
        .filter(|(k, _)| k.ends_with(".B"))
        .map(|(_, t)| {
            t.abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        })
        .sum();
    assert!(b_norm > 0.0);
    let trained = trainer.model().forward_pixels(&pixels).unwrap();
    assert!(max_abs_diff(&trained.logits, &heads_before.logits) > 1e-4);

    // Base weights unchanged: adapters off -> the original logits exactly.
    let mut model = trainer.into_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llava_rm.safetensors");
    model.save_adapter(&path).unwrap();
    let decoder = model.prompt_model_mut().llava_mut().decoder_mut();
    decoder.set_lora_enabled(false);
    let base_after = model.prompt_model().llava().logits(&ids, &pixels).unwrap();
    let d_base = max_abs_diff(&base_after, &base_logits);
    println!("base logits, adapters off, after training: max diff {d_base:e}");
    assert!(d_base <= 1e-6, "{d_base}");
    let after_weights = decoder_weights(&model);
    assert_eq!(after_weights.len(), base_weights.len());
    for (a, b) in after_weights.iter().zip(&base_weights) {
        assert_eq!(max_abs_diff(a, b), 0.0, "a base projection weight changed");
    }
    let features_after = model
        .prompt_model()
        .llava()
        .image_features(&pixels)
        .unwrap();
    assert_eq!(max_abs_diff(&features_after, &base_features), 0.0);
    model
        .prompt_model_mut()
        .llava_mut()
        .decoder_mut()
        .set_lora_enabled(true);

    // Round trip: a fresh model with other head seeds loads the file.
    let mut fresh = reward_model(99);
    let before_load = fresh.forward_pixels(&pixels).unwrap();
    assert!(max_abs_diff(&before_load.logits, &trained.logits) > 1e-4);
    fresh.load_adapter(&path).unwrap();
    assert_eq!(fresh.config(), model.config());
    let loaded = fresh.forward_pixels(&pixels).unwrap();
    let d_logits = max_abs_diff(&loaded.logits, &trained.logits);
    let d_ctr = max_abs_diff(&loaded.ctr_scaled, &trained.ctr_scaled);
    println!("round trip: max diff logits {d_logits:e}, ctr {d_ctr:e}");
    assert!(d_logits <= 1e-6 && d_ctr <= 1e-6);
    let (a, b) = (batch[1].better, batch[1].worse);
    let want = model.prefer(a, b).unwrap();
    let got = fresh.prefer(a, b).unwrap();
    assert!((want.p_left - got.p_left).abs() <= 1e-6, "{want:?} {got:?}");

    // Resume: the file's factors and heads become trainable again, give
    // the same outputs, and a step moves them.
    let mut resumed = LlavaRmTrainer::resume(
        reward_model(5),
        &path,
        LlavaTrainConfig {
            learning_rate: 5e-3,
            ..LlavaTrainConfig::default()
        },
    )
    .unwrap();
    let same = resumed.model().forward_pixels(&pixels).unwrap();
    assert!(max_abs_diff(&same.logits, &trained.logits) <= 1e-6);
    assert_eq!(resumed.model().trainable_vars().len(), 2 * 4 * 2 + 4);
    assert!(resumed.train_step(&batch).unwrap().total.is_finite());
    let stepped = resumed.model().forward_pixels(&pixels).unwrap();
    assert!(max_abs_diff(&stepped.logits, &trained.logits) > 1e-6);

    // A shuffled epoch in mini-batches, progress per batch, the cancel
    // flag, and the generic pairwise accuracy.
    let mut seen = Vec::new();
    let mean = resumed
        .train_epoch(&batch, 3, 1, None, |done, total, _| {
            seen.push((done, total))
        })
        .unwrap();
    assert!(mean.total.is_finite());
    assert_eq!(seen, [(1, 3), (2, 3), (3, 3)]);
    let stop = std::sync::atomic::AtomicBool::new(true);
    assert!(matches!(
        resumed.train_epoch(&batch, 3, 1, Some(&stop), |_, _, _| {}),
        Err(RewardError::Cancelled { .. })
    ));
    let eval: Vec<(&RgbImage, &RgbImage)> = batch.iter().map(|p| (p.better, p.worse)).collect();
    let acc = pairwise_accuracy_of(resumed.model(), &eval).unwrap();
    assert_eq!(acc.total, 8);
    assert!(acc.correct <= 8);

    // Files of another format are refused with their path.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"nope").unwrap();
    let err = fresh.load_adapter(&junk).unwrap_err().to_string();
    assert!(err.contains("junk.safetensors"), "{err}");
}
