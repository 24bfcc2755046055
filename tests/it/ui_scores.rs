//! The Scores section, driven headless with egui_kittest: three stored
//! variants of a product, a tiny random compact reward model written by the
//! test (not trained: its numbers mean nothing, but they are the model's),
//! Score variants -> a 3x3 win-probability matrix, a ranking and CTRs,
//! saved in the store and read back after a restart; gallery sort by score;
//! P(A beats B) in the compare view.

use crate::common::studio;

use std::path::Path;

use adstudio::app::{Command, StudioApp};
use adstudio::ml::reward::compact::CompactConfig;
use adstudio::ml::reward::train::{TrainConfig, Trainer};
use adstudio::paths::DataDir;
use adstudio::render::{RenderParams, RenderRequest, RenderedVariant};
use adstudio::store::{ImageStore, Store};
use adstudio::studio::render::save_variant;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use studio::step_until;

/// The studio on `data_dir` in this file's window size.
fn open_studio(data_dir: &Path) -> Harness<'static, StudioApp> {
    studio::studio(data_dir, egui::vec2(1400.0, 1000.0))
}

/// A 100x100 blue square on transparency.
fn draw_product(path: &Path) {
    let img = RgbaImage::from_fn(100, 100, |x, y| {
        if (25..75).contains(&x) && (25..75).contains(&y) {
            Rgba([40, 60, 200, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    img.save(path).expect("save product");
}

/// Stores three 64x64 variants (different backgrounds) of `product`.
fn store_variants(data: &Path, product: adstudio::store::ProductId) {
    let dirs = DataDir::at(data).expect("data dir");
    let store = Store::open(&dirs.database_path()).expect("store");
    let images = ImageStore::new(dirs.images_dir());
    let request = RenderRequest {
        params: RenderParams {
            prompt: "studio backdrop".into(),
            n_variants: 3,
            ..RenderParams::default()
        },
        ..RenderRequest::default()
    };
    let backgrounds = [[240, 230, 200], [30, 30, 40], [90, 200, 120]];
    for (index, bg) in backgrounds.into_iter().enumerate() {
        let image = RgbImage::from_fn(64, 64, |x, y| {
            if (20..44).contains(&x) && (20..44).contains(&y) {
                Rgb([40, 60, 200])
            } else {
                Rgb(bg)
            }
        });
        let variant = RenderedVariant {
            index,
            seed: request.variant_seed(index),
            generated: image.clone(),
            image,
            prompt_truncated_tokens: 0,
            negative_truncated_tokens: 0,
        };
        save_variant(&store, &images, product, &request, &variant).expect("save variant");
    }
}

/// A studio on `data` with the product at `product_path` opened and three
/// stored variants of it shown in the gallery.
fn studio_with_three_variants(
    data: &Path,
    product_path: std::path::PathBuf,
) -> (Harness<'static, StudioApp>, adstudio::store::ProductId) {
    let mut harness = open_studio(data);
    harness
        .state_mut()
        .handle_command(Command::OpenPath(product_path));
    step_until(&mut harness, "product opened", |app| {
        app.session().is_some()
    });
    let product = harness.state().session().expect("session").product.id;
    store_variants(data, product);
    harness
        .state_mut()
        .handle_command(Command::OpenStored(product.0));
    step_until(&mut harness, "gallery loaded", |app| {
        app.gallery()
            .tiles
            .iter()
            .filter(|t| t.done().is_some())
            .count()
            == 3
    });
    (harness, product)
}

/// Writes a tiny compact reward model with seeded random weights.
fn write_reward_model(models_dir: &Path) {
    let dir = models_dir.join("reward-model");
    std::fs::create_dir_all(&dir).expect("model dir");
    let config = CompactConfig {
        image_size: 16,
        channels: vec![4, 8],
        hidden: 8,
        ctr_scale: 10.0,
    };
    let trainer = Trainer::new(
        &config,
        TrainConfig {
            seed: 3,
            ..TrainConfig::default()
        },
        &candle_core::Device::Cpu,
    )
    .expect("trainer");
    trainer
        .save_checkpoint(&dir.join("compact-rm.safetensors"))
        .expect("save checkpoint");
}

fn score_message(app: &StudioApp) -> String {
    app.scores()
        .message
        .clone()
        .map(|(m, _)| m)
        .unwrap_or_default()
}

/// Missing checkpoint: the message names `<data>/models/reward-model`.
/// With the checkpoint: Score variants gives a 3x3 matrix with 0.5 on the
/// diagonal and p_ab + p_ba = 1 (within 1e-6) for every pair, all values in
/// [0, 1]; a ranking that is a permutation of the three variants ordered by
/// Bradley-Terry strength; finite CTRs in [0, 1]; the cells show in the
/// panel; one `scores` row per render is stored and, after a restart, the
/// same matrix is read back from the store. The sort toggle sets the
/// preference, and the compare view shows P(A beats B) for the picked pair
/// as the matrix gives it.
#[test]
fn score_variants_matrix_ranking_store_sort_and_compare() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product_path = dir.path().join("blue_box.png");
    draw_product(&product_path);
    let data = dir.path().join("data");
    let models_dir = DataDir::at(&data).expect("data dir").models_dir();
    let (mut harness, product) = studio_with_three_variants(&data, product_path);

    harness.get_by_label("Score variants").click();
    step_until(&mut harness, "missing-model message", |app| {
        app.scores().message.is_some()
    });
    let missing = score_message(harness.state());
    assert!(
        missing.contains(&models_dir.join("reward-model").display().to_string()),
        "{missing}"
    );

    write_reward_model(&models_dir);
    harness.get_by_label("Score variants").click();
    step_until(&mut harness, "variants scored", |app| {
        app.scores().for_product(product).is_some()
    });
    let scores = harness
        .state()
        .scores()
        .for_product(product)
        .expect("scores")
        .clone();
    let p = &scores.matrix.p;
    assert_eq!(scores.renders.len(), 3);
    assert_eq!(p.len(), 3);
    for i in 0..3 {
        assert_eq!(p[i].len(), 3);
        assert!((p[i][i] - 0.5).abs() < 1e-6, "diagonal {}", p[i][i]);
        for j in 0..3 {
            assert!((0.0..=1.0).contains(&p[i][j]), "{p:?}");
            assert!((p[i][j] + p[j][i] - 1.0).abs() <= 1e-6, "{p:?}");
        }
    }
    let mut order = scores.order.clone();
    order.sort_unstable();
    assert_eq!(order, vec![0, 1, 2], "ranking is a permutation");
    for pair in scores.order.windows(2) {
        assert!(scores.strengths[pair[0]] >= scores.strengths[pair[1]]);
    }
    assert!(scores
        .matrix
        .ctr
        .iter()
        .all(|c| c.is_finite() && (0.0..=1.0).contains(c)));
    harness.get_by_label("Ranking (Bradley-Terry)");
    let cell = format!("{:.2}", p[0][1]);
    assert!(
        harness.query_all_by_label(&cell).next().is_some(),
        "matrix cell {cell} shown"
    );

    // Stored: one row per render.
    {
        let dirs = DataDir::at(&data).expect("data dir");
        let store = Store::open(&dirs.database_path()).expect("store");
        for render in &scores.renders {
            let rows = store.scores_for_render(*render).expect("scores");
            assert_eq!(rows.len(), 1, "render {}", render.0);
        }
    }

    // Sort toggle.
    assert!(!harness.state().prefs().sort_by_score);
    harness.get_by_label("Sort gallery by score").click();
    harness.step();
    assert!(harness.state().prefs().sort_by_score);

    // Compare the first two tiles shown (picked with their Compare buttons).
    harness
        .get_all_by_label("Compare")
        .next()
        .expect("compare button")
        .click();
    // One frame handles the click, the next shows the tile as picked.
    harness.step();
    harness.step();
    harness
        .get_all_by_label("Compare")
        .next()
        .expect("second compare button")
        .click();
    harness.step();
    harness.step();
    let selected = harness.state().gallery().selected.clone();
    assert_eq!(selected.len(), 2);
    let render_of = |key| {
        harness
            .state()
            .gallery()
            .tile(key)
            .and_then(|t| t.done())
            .and_then(|d| d.render_id)
            .expect("stored tile")
    };
    let p_ab = scores
        .p_beats(render_of(selected[0]), render_of(selected[1]))
        .expect("scored pair");
    let label = format!("Reward model: P(A beats B) = {p_ab:.2}");
    assert!(
        harness.query_by_label_contains(&label).is_some(),
        "compare view shows {label}"
    );

    // After a restart the stored scores come back with the gallery.
    drop(harness);
    let mut harness = open_studio(&data);
    harness
        .state_mut()
        .handle_command(Command::OpenStored(product.0));
    step_until(&mut harness, "stored scores read", |app| {
        app.scores().for_product(product).is_some()
    });
    let reread = harness
        .state()
        .scores()
        .for_product(product)
        .expect("scores")
        .clone();
    let index = |r| reread.renders.iter().position(|x| *x == r).expect("render");
    for (i, a) in scores.renders.iter().enumerate() {
        for (j, b) in scores.renders.iter().enumerate() {
            let q = reread.matrix.p[index(*a)][index(*b)];
            assert!((q - p[i][j]).abs() <= 1e-6, "{q} vs {}", p[i][j]);
        }
    }
}

/// The Training window (opened from the Scores section): a small synthetic
/// run (24 products x 4 creatives, 2 epochs) reports both epochs with a
/// finite loss and a validation accuracy in [0, 1], shows the last epoch's
/// line, and writes `<data>/models/reward-model/compact-rm.safetensors`,
/// which Score variants then uses (its id names that file at epoch 2). A
/// run cancelled right after it was requested writes nothing new and says
/// the previous model is unchanged.
#[test]
fn train_the_reward_model_then_score_with_it_and_cancel_a_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product_path = dir.path().join("blue_box.png");
    draw_product(&product_path);
    let data = dir.path().join("data");
    let checkpoint = DataDir::at(&data)
        .expect("data dir")
        .models_dir()
        .join("reward-model/compact-rm.safetensors");
    let (mut harness, product) = studio_with_three_variants(&data, product_path);

    harness.get_by_label("Training…").click();
    // A new window takes a sizing frame before its contents are shown.
    harness.run_steps(3);
    assert!(harness.state().training().open);
    {
        let settings = &mut harness.state_mut().prefs_mut().training;
        settings.products = 24;
        settings.creatives_per_product = 4;
        settings.epochs = 2;
    }
    harness.get_by_label("Train").click();
    step_until(&mut harness, "training finished", |app| {
        !app.training().is_running() && app.training().message.is_some()
    });
    let training = harness.state().training();
    assert_eq!(
        training.message.as_ref().map(|m| m.1),
        Some(false),
        "{:?}",
        training.message
    );
    assert_eq!(training.history.len(), 2);
    for (i, report) in training.history.iter().enumerate() {
        assert_eq!(report.epoch, i + 1);
        assert!(report.loss.is_finite());
        let accuracy = report.val_accuracy.expect("validation accuracy");
        assert!((0.0..=1.0).contains(&accuracy));
    }
    assert!(harness.query_by_label_contains("Epoch 2/2").is_some());
    assert!(checkpoint.is_file());

    harness.get_by_label("Score variants").click();
    step_until(&mut harness, "variants scored", |app| {
        app.scores().for_product(product).is_some()
    });
    let model_id = harness
        .state()
        .scores()
        .for_product(product)
        .expect("scores")
        .model_id
        .clone();
    assert_eq!(model_id, "compact-rm:compact-rm.safetensors@epoch2");

    let before = std::fs::read(&checkpoint).expect("checkpoint");
    harness.state_mut().handle_command(Command::StartTraining);
    harness.state_mut().handle_command(Command::CancelTraining);
    step_until(&mut harness, "training cancelled", |app| {
        !app.training().is_running()
    });
    let message = harness.state().training().message.clone().expect("message");
    assert!(message.0.contains("cancelled"), "{message:?}");
    assert_eq!(std::fs::read(&checkpoint).expect("checkpoint"), before);
}
