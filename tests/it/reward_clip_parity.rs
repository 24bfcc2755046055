//! The compact reward model's CLIP backbone: parity of the tower the RM
//! uses with the `clip_vision_tiny` reference (transformers 5.23, float32:
//! `pixel_values` (2, 3, 32, 32), `last_hidden_state` (2, 17, 32),
//! `image_embeds` (2, 16)), loading errors, and training/checkpoints with a
//! frozen CLIP tower.
//!
//! Tolerance (all parity checks): `max|a - b| <= 1e-4 * max(1, max|b|)`, `b`
//! the reference. Fixture root: `ADSTUDIO_FIXTURES` (default
//! `tests/fixtures`).

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::tensors;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adstudio::ml::reward::backbone::{BackboneConfig, VisionBackbone};
use adstudio::ml::reward::checkpoint::{load_compact, read_checkpoint};
use adstudio::ml::reward::clip_tower::{ClipBackboneConfig, ClipPooling, ClipTower};
use adstudio::ml::reward::compact::{CompactConfig, CompactRewardModel};
use adstudio::ml::reward::pairs::{make_pairs, PairingConfig};
use adstudio::ml::reward::synthetic::{SyntheticWorld, WorldConfig};
use adstudio::ml::reward::train::{PairDataset, TrainConfig, Trainer};
use adstudio::ml::reward::{RewardError, RewardModel};
use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::{VarBuilder, VarMap};
use image::RgbImage;
use tensors::assert_close;

const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

fn fixture_dir() -> PathBuf {
    fixtures::fixture_dir("clip_vision_tiny")
}

fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture_dir().join("io.safetensors"), &Device::Cpu).unwrap()
}

fn clip_config(pooling: ClipPooling, project: bool) -> ClipBackboneConfig {
    ClipBackboneConfig {
        pooling,
        project,
        ..ClipBackboneConfig::new(fixture_dir())
    }
}

fn model_config() -> CompactConfig {
    CompactConfig {
        image_size: 32,
        hidden: 16,
        ..CompactConfig::default()
    }
}

fn clip_model(pooling: ClipPooling, project: bool) -> CompactRewardModel {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let backbone = BackboneConfig::Clip(clip_config(pooling, project));
    CompactRewardModel::with_backbone(&model_config(), &backbone, vb).unwrap()
}

/// CLIP-normalised pixels back to the reward model's [-1, 1] layout.
fn unit_range(pixels: &Tensor) -> Tensor {
    let dev = pixels.device();
    let mean = Tensor::from_vec(CLIP_MEAN.to_vec(), (1, 3, 1, 1), dev).unwrap();
    let std = Tensor::from_vec(CLIP_STD.to_vec(), (1, 3, 1, 1), dev).unwrap();
    let unit = pixels
        .broadcast_mul(&std)
        .unwrap()
        .broadcast_add(&mean)
        .unwrap();
    ((unit * 2.0).unwrap() - 1.0).unwrap()
}

/// Layer norm (eps 1e-5) written out, for the reference pooled output.
fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Tensor {
    let mean = x.mean_keepdim(1).unwrap();
    let centred = x.broadcast_sub(&mean).unwrap();
    let var = centred.sqr().unwrap().mean_keepdim(1).unwrap();
    let normed = centred
        .broadcast_div(&(var + 1e-5).unwrap().sqrt().unwrap())
        .unwrap();
    normed
        .broadcast_mul(weight)
        .unwrap()
        .broadcast_add(bias)
        .unwrap()
}

/// The tower the RM loads (through `WeightFiles` from the HF folder) gives
/// the reference `last_hidden_state` and `image_embeds`; its pooled output
/// is the post-layernormed CLS token of the reference hidden states.
#[test]
fn rm_clip_tower_matches_reference() {
    let io = reference();
    let tower = ClipTower::load(&clip_config(ClipPooling::Cls, true), &Device::Cpu).unwrap();
    assert_eq!(tower.image_size(), 32);
    assert_eq!(tower.feature_dim(), 16);
    let out = tower.encode(&io["pixel_values"]).unwrap();
    assert_close(
        "last_hidden_state",
        &out.last_hidden_state,
        &io["last_hidden_state"],
    );
    assert_close(
        "image_embeds",
        out.image_embeds.as_ref().unwrap(),
        &io["image_embeds"],
    );
    let weights =
        candle_core::safetensors::load(fixture_dir().join("model.safetensors"), &Device::Cpu)
            .unwrap();
    let cls = io["last_hidden_state"].i((.., 0, ..)).unwrap();
    let want_pooled = layer_norm(
        &cls,
        &weights["vision_model.post_layernorm.weight"],
        &weights["vision_model.post_layernorm.bias"],
    );
    assert_close("pooled", &out.pooled, &want_pooled);
}

/// The reward model's own feature entry point (images in [-1, 1], CLIP
/// normalisation inside) gives the reference for every pooling choice:
/// CLS + projection = `image_embeds`; mean of patch tokens = the mean of the
/// reference `last_hidden_state[:, 1:]`.
#[test]
fn rm_features_match_reference_for_each_pooling() {
    let io = reference();
    let images = unit_range(&io["pixel_values"]);

    let projected = clip_model(ClipPooling::Cls, true);
    assert_eq!(projected.feature_dim(), 16);
    assert!(matches!(projected.backbone(), VisionBackbone::Clip(_)));
    assert!(projected.backbone().is_frozen());
    let got = projected.features(&images).unwrap();
    assert_close("rm features (cls, projected)", &got, &io["image_embeds"]);

    let mean = clip_model(ClipPooling::MeanPatches, false);
    assert_eq!(mean.feature_dim(), 32);
    let got = mean.features(&images).unwrap();
    let want = io["last_hidden_state"]
        .i((.., 1..17, ..))
        .unwrap()
        .mean(1)
        .unwrap();
    assert_close("rm features (mean of patches)", &got, &want);
}

fn copy_fixture(to: &Path, drop_tensor: Option<&str>) {
    std::fs::copy(fixture_dir().join("config.json"), to.join("config.json")).unwrap();
    let mut weights =
        candle_core::safetensors::load(fixture_dir().join("model.safetensors"), &Device::Cpu)
            .unwrap();
    if let Some(name) = drop_tensor {
        weights.remove(name);
    }
    candle_core::safetensors::save(&weights, to.join("model.safetensors")).unwrap();
}

/// Loading errors name the file and the tensor; a tower whose input size
/// differs from the RM's `image_size` is refused.
#[test]
fn clip_loading_errors_name_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let missing = "vision_model.encoder.layers.1.mlp.fc1.weight";
    copy_fixture(dir.path(), Some(missing));
    let err = ClipTower::load(&ClipBackboneConfig::new(dir.path()), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(missing) && err.contains("model.safetensors"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), Some("visual_projection.weight"));
    let mut cfg = ClipBackboneConfig::new(dir.path());
    cfg.project = true;
    let err = ClipTower::load(&cfg, &Device::Cpu).unwrap_err().to_string();
    assert!(
        err.contains("visual_projection.weight") && err.contains("model.safetensors"),
        "{err}"
    );

    let err = ClipTower::load(&ClipBackboneConfig::new("/nonexistent/clip"), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/clip/config.json"), "{err}");

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let wrong_size = CompactConfig {
        image_size: 64,
        ..model_config()
    };
    let backbone = BackboneConfig::Clip(clip_config(ClipPooling::Cls, false));
    let err = CompactRewardModel::with_backbone(&wrong_size, &backbone, vb).unwrap_err();
    assert!(matches!(err, RewardError::Config(_)), "{err}");
}

fn world() -> SyntheticWorld {
    SyntheticWorld::generate(&WorldConfig {
        seed: 5,
        products: 6,
        creatives_per_product: 4,
        image_size: 32,
        impressions: (2000, 20_000),
    })
    .unwrap()
}

/// Training with a frozen CLIP tower: the loss stays finite and falls over
/// a few epochs, the checkpoint holds only fusion and heads plus a
/// `backbone` entry naming the CLIP folder, and reloading it gives the same
/// scores.
#[test]
fn clip_backbone_trains_and_checkpoints() {
    let world = world();
    let rows = world.click_rows();
    let images: Vec<&RgbImage> = world.creatives.iter().map(|c| &c.image).collect();
    let pairs = make_pairs(&rows, &PairingConfig::default()).unwrap();
    let data = PairDataset::new(&rows, &images, &pairs.pairs, 32, &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rm.safetensors");
    let backbone = BackboneConfig::Clip(clip_config(ClipPooling::Cls, false));
    let cfg = TrainConfig {
        epochs: 6,
        products_per_batch: 3,
        learning_rate: 5e-3,
        seed: 4,
        checkpoint: Some(path.clone()),
        ..TrainConfig::default()
    };
    let mut trainer =
        Trainer::with_backbone(&model_config(), &backbone, cfg, &Device::Cpu).unwrap();
    let reports = trainer.fit(&data, Some(&data), |_| Ok(())).unwrap();
    assert_eq!(reports.len(), 6);
    assert!(reports.iter().all(|r| r.loss.is_finite()));
    let (first, last) = (reports[0].loss, reports[5].loss);
    println!("clip backbone loss {first:.4} -> {last:.4}");
    assert!(last < first, "loss did not fall: {first} -> {last}");

    let (_, meta) = read_checkpoint(&path).unwrap();
    assert_eq!(meta.backbone, backbone);
    let st = std::fs::read(&path).unwrap();
    let names: Vec<String> = safetensors::SafeTensors::deserialize(&st)
        .unwrap()
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    assert!(names.iter().all(|n| !n.starts_with("tower")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("fusion.0")));

    let (loaded, _) = load_compact(&path, &Device::Cpu).unwrap();
    let (a, b) = (&world.creatives[0].image, &world.creatives[1].image);
    let want = trainer.model().prefer(a, b).unwrap();
    let got = loaded.prefer(a, b).unwrap();
    assert!((want.p_left - got.p_left).abs() < 1e-6, "{want:?} {got:?}");
    assert!((want.ctr_left - got.ctr_left).abs() < 1e-6);
    let swapped = loaded.prefer(b, a).unwrap();
    assert!((swapped.p_left + got.p_left - 1.0).abs() < 1e-6);
}
