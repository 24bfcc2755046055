//! Compact reward model: loss formula, position debiasing, the im2col
//! convolution, checkpoints, resume and cancellation.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use adstudio::ml::reward::checkpoint::{load_compact, read_checkpoint};
use adstudio::ml::reward::compact::{conv3x3, CompactConfig};
use adstudio::ml::reward::loss::reward_loss;
use adstudio::ml::reward::pairs::{make_pairs, PairingConfig};
use adstudio::ml::reward::synthetic::{SyntheticWorld, WorldConfig};
use adstudio::ml::reward::train::{PairDataset, TrainConfig, Trainer};
use adstudio::ml::reward::{RewardError, RewardModel};
use candle_core::{Device, Module, Tensor};
use image::RgbImage;

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f32>().unwrap() as f64
}

/// loss = mean CE + w * mean squared error, against values computed by
/// hand: CE(z, y) = log(1 + exp(z_other - z_y)).
#[test]
fn loss_matches_hand_computed_values() {
    let dev = Device::Cpu;
    let logits = Tensor::new(&[[2.0f32, 0.0], [0.5, 1.5]], &dev).unwrap();
    let labels = Tensor::new(&[0u32, 1], &dev).unwrap();
    let pred = Tensor::new(&[[0.3f32, 0.1], [0.2, 0.5]], &dev).unwrap();
    let target = Tensor::new(&[[0.5f32, 0.1], [0.2, 0.2]], &dev).unwrap();
    // Row 1: label 0, margin 2 -> log(1 + e^-2); row 2: label 1, margin 1.
    let ce = ((1.0 + (-2.0f64).exp()).ln() + (1.0 + (-1.0f64).exp()).ln()) / 2.0;
    // Squared errors 0.04, 0, 0, 0.09 over 4 values.
    let mse = (0.04 + 0.09) / 4.0;
    for w in [0.5, 2.0, 0.0] {
        let parts = reward_loss(&logits, &labels, &pred, &target, w).unwrap();
        assert!(
            (scalar(&parts.ce) - ce).abs() < 1e-6,
            "ce {}",
            scalar(&parts.ce)
        );
        assert!((scalar(&parts.mse) - mse).abs() < 1e-6);
        assert!((scalar(&parts.total) - (ce + w * mse)).abs() < 1e-6);
    }
    assert!((ce + 0.5 * mse - 0.236345).abs() < 1e-6);
    // Shape errors are reported, not panics.
    let bad = Tensor::zeros((2, 3), candle_core::DType::F32, &dev).unwrap();
    assert!(matches!(
        reward_loss(&bad, &labels, &pred, &target, 0.5),
        Err(RewardError::Input(_))
    ));
}

/// The im2col 3x3 convolution equals candle's conv2d (padding 1) within
/// max|a-b| <= 1e-4 * max(1, max|b|).
#[test]
fn im2col_conv_matches_candle_conv2d() {
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (3, 5, 9, 7), &dev).unwrap();
    let w = Tensor::randn(0f32, 0.3, (6, 5, 3, 3), &dev).unwrap();
    let b = Tensor::randn(0f32, 0.3, 6, &dev).unwrap();
    let cfg = candle_nn::Conv2dConfig {
        padding: 1,
        ..Default::default()
    };
    let conv = candle_nn::Conv2d::new(w, Some(b), cfg);
    let want = conv.forward(&x).unwrap();
    let got = conv3x3(&x, &conv).unwrap();
    assert_eq!(got.dims(), want.dims());
    let diff = scalar(&(&got - &want).unwrap().abs().unwrap().max_all().unwrap());
    let scale = scalar(&want.abs().unwrap().max_all().unwrap()).max(1.0);
    assert!(diff <= 1e-4 * scale, "diff {diff}");
}

fn tiny_world() -> SyntheticWorld {
    SyntheticWorld::generate(&WorldConfig {
        seed: 3,
        products: 6,
        creatives_per_product: 4,
        image_size: 16,
        impressions: (2000, 20_000),
    })
    .unwrap()
}

fn tiny_model() -> CompactConfig {
    CompactConfig {
        image_size: 16,
        channels: vec![4, 8],
        hidden: 8,
        ctr_scale: 10.0,
    }
}

fn tiny_dataset(world: &SyntheticWorld) -> PairDataset {
    let rows = world.click_rows();
    let images: Vec<&RgbImage> = world.creatives.iter().map(|c| &c.image).collect();
    let pairs = make_pairs(&rows, &PairingConfig::default()).unwrap();
    PairDataset::new(&rows, &images, &pairs.pairs, 16, &Device::Cpu).unwrap()
}

fn train_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        products_per_batch: 2,
        seed: 9,
        ..TrainConfig::default()
    }
}

/// Swapping the two inputs gives complementary probabilities and swapped
/// CTRs, while the raw (single-order) head is not symmetric by itself.
#[test]
fn debiased_scores_are_complementary_under_swap() {
    let world = tiny_world();
    let trainer = Trainer::new(&tiny_model(), train_config(1), &Device::Cpu).unwrap();
    let model = trainer.model();
    let (a, b) = (&world.creatives[0].image, &world.creatives[1].image);
    let ab = model.prefer(a, b).unwrap();
    let ba = model.prefer(b, a).unwrap();
    assert!((ab.p_left + ba.p_left - 1.0).abs() < 1e-6, "{ab:?} {ba:?}");
    assert!((ab.ctr_left - ba.ctr_right).abs() < 1e-7);
    assert!((ab.ctr_right - ba.ctr_left).abs() < 1e-7);
    let aa = model.prefer(a, a).unwrap();
    assert!((aa.p_left - 0.5).abs() < 1e-6);

    let f = model.features_of(&[a, b], 2).unwrap();
    let fa = f.narrow(0, 0, 1).unwrap();
    let fb = f.narrow(0, 1, 1).unwrap();
    let raw = |l: &Tensor, r: &Tensor| {
        let out = model.pair_forward(l, r).unwrap();
        let p = candle_nn::ops::softmax(&out.logits, 1).unwrap();
        p.to_vec2::<f32>().unwrap()[0][0]
    };
    let asym = raw(&fa, &fb) + raw(&fb, &fa) - 1.0;
    assert!(
        asym.abs() > 1e-4,
        "raw head happens to be symmetric: {asym}"
    );
    let many = model.prefer_many(&[(a, b), (b, a)]).unwrap();
    assert_eq!(many, vec![ab, ba]);
}

/// A checkpoint written after an epoch reloads to the same scores; resume
/// continues the epoch count; a callback error and the cancel flag stop.
#[test]
fn checkpoint_resume_and_cancel() {
    let world = tiny_world();
    let data = tiny_dataset(&world);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rm.safetensors");
    let dev = Device::Cpu;

    let mut cfg = train_config(1);
    cfg.checkpoint = Some(path.clone());
    let mut trainer = Trainer::new(&tiny_model(), cfg.clone(), &dev).unwrap();
    let reports = trainer.fit(&data, Some(&data), |_| Ok(())).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].loss.is_finite() && reports[0].val_accuracy.is_some());

    let (loaded, meta) = load_compact(&path, &dev).unwrap();
    assert_eq!(meta.epoch, 1);
    assert_eq!(&meta.config, trainer.model().config());
    let (a, b) = (&world.creatives[2].image, &world.creatives[3].image);
    let want = trainer.model().prefer(a, b).unwrap();
    let got = loaded.prefer(a, b).unwrap();
    assert!((want.p_left - got.p_left).abs() < 1e-6);
    assert!((want.ctr_left - got.ctr_left).abs() < 1e-6);

    // Resume up to 3 epochs: exactly epochs 2 and 3 run.
    let mut resumed = Trainer::resume(&path, train_config(3), &dev).unwrap();
    assert_eq!(resumed.epoch(), 1);
    let same = resumed.model().prefer(a, b).unwrap();
    assert!((same.p_left - want.p_left).abs() < 1e-6);
    let reports = resumed.fit(&data, None, |_| Ok(())).unwrap();
    let epochs: Vec<usize> = reports.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, [2, 3]);
    assert_eq!(resumed.epoch(), 3);

    // The callback stops training by returning an error.
    let mut t = Trainer::new(&tiny_model(), train_config(5), &dev).unwrap();
    let err = t
        .fit(&data, None, |r| {
            if r.epoch == 2 {
                Err(RewardError::Cancelled { epoch: r.epoch })
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(matches!(err, RewardError::Cancelled { epoch: 2 }));
    assert_eq!(t.epoch(), 2);

    // The cancel flag stops before the next batch.
    let mut t = Trainer::new(&tiny_model(), train_config(5), &dev).unwrap();
    t.set_cancel_flag(Arc::new(AtomicBool::new(true)));
    assert!(matches!(
        t.fit(&data, None, |_| Ok(())),
        Err(RewardError::Cancelled { epoch: 0 })
    ));

    // Not a checkpoint: a clear error naming the file.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a safetensors file").unwrap();
    let err = read_checkpoint(&junk).unwrap_err();
    assert!(err.to_string().contains("junk.safetensors"), "{err}");
}

/// Training reduces the loss on a tiny world (a smoke test of the
/// optimiser wiring; the real accuracy test is reward_synthetic).
#[test]
fn training_reduces_loss() {
    let world = tiny_world();
    let data = tiny_dataset(&world);
    let mut cfg = train_config(6);
    cfg.learning_rate = 5e-3;
    let mut t = Trainer::new(&tiny_model(), cfg, &Device::Cpu).unwrap();
    let reports = t.fit(&data, None, |_| Ok(())).unwrap();
    let first = reports[0].loss;
    let last = reports[reports.len() - 1].loss;
    assert!(last < first, "loss did not fall: {first} -> {last}");
}

/// The batched all-pairs matrix equals pairwise `prefer` calls, is
/// complementary, and its Bradley-Terry ranking orders by win probability.
#[test]
fn score_all_matches_pairwise_prefer() {
    use adstudio::ml::reward::ranking::{bradley_terry, ranking};
    let world = tiny_world();
    let mut cfg = train_config(2);
    cfg.learning_rate = 5e-3;
    let data = tiny_dataset(&world);
    let mut t = Trainer::new(&tiny_model(), cfg, &Device::Cpu).unwrap();
    t.fit(&data, None, |_| Ok(())).unwrap();
    let model = t.model();
    let images: Vec<&RgbImage> = world.creatives[..4].iter().map(|c| &c.image).collect();
    let m = model.score_all(&images).unwrap();
    assert_eq!(m.len(), 4);
    for i in 0..4 {
        assert_eq!(m.p[i][i], 0.5);
        for j in 0..4 {
            assert!((m.p[i][j] + m.p[j][i] - 1.0).abs() < 1e-6);
            if i < j {
                let s = model.prefer(images[i], images[j]).unwrap();
                assert!((s.p_left - m.p[i][j]).abs() < 1e-5);
            }
        }
        assert!(m.ctr[i].is_finite());
    }
    let order = ranking(&bradley_terry(&m.p));
    let wins = |i: usize| m.p[i].iter().sum::<f32>();
    assert!(wins(order[0]) >= wins(order[3]));
}
