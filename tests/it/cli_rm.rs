//! `adstudio rm`: synth -> import -> train -> eval -> score end to end on a
//! tiny synthetic world (through the library entry points the CLI uses, and
//! once through the binary), and imports of click logs with bad rows.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use adstudio::cli::rm::{
    evaluate_reward_model, import_click_file, score_images, train_reward_model,
    write_synthetic_world, PairingOptions, RmTrainOptions, SynthOptions, REWARD_RUN_KIND,
};
use adstudio::ml::reward::compact::CompactConfig;
use adstudio::store::{ImageStore, RunStatus, Store};
use image::{Rgb, RgbImage};

fn synth(out: &Path, products: usize) -> PathBuf {
    write_synthetic_world(&SynthOptions {
        out: out.to_path_buf(),
        products,
        creatives_per_product: 4,
        image_size: 32,
        seed: 3,
    })
    .unwrap()
    .click_log
}

fn train_options(out: PathBuf, epochs: usize, resume: Option<PathBuf>) -> RmTrainOptions {
    RmTrainOptions {
        pairing: PairingOptions {
            min_impressions: 500,
            ..PairingOptions::default()
        },
        epochs,
        learning_rate: 2e-3,
        products_per_batch: 4,
        seed: 1,
        out,
        resume,
        model: CompactConfig::default(),
    }
}

/// The whole reward workflow on 12 products x 4 creatives: every creative
/// is imported; two epochs report finite losses and a validation accuracy;
/// the checkpoint and its pairing sidecar exist; resuming to 3 epochs runs
/// exactly one more; both runs are recorded as succeeded in
/// `training_runs` with their epochs; eval reports held-out pairs with a CI and baseline in
/// [0, 1]; score gives a complementary matrix, a ranking that is a
/// permutation, and CTRs in [0, 1].
#[test]
fn synth_import_train_eval_score_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = synth(&dir.path().join("world"), 12);
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let images = ImageStore::new(dir.path().join("images"));
    let report = import_click_file(&store, &images, &log).unwrap();
    assert_eq!(report.summary.kept.len(), 48, "{report}");
    assert!(report.rejections.is_empty(), "{report}");

    let ckpt = dir.path().join("rm.safetensors");
    let mut seen = Vec::new();
    let outcome = train_reward_model(
        &store,
        &images,
        &train_options(ckpt.clone(), 2, None),
        |e| seen.push(e.epoch),
    )
    .unwrap();
    assert_eq!(seen, vec![1, 2]);
    assert!(outcome.train_pairs > 0 && outcome.val_pairs > 0);
    for e in &outcome.epochs {
        assert!(e.loss.is_finite(), "{e:?}");
        assert!(e.val_accuracy.is_some_and(|a| (0.0..=1.0).contains(&a)));
    }
    assert!(ckpt.is_file());
    assert_eq!(
        PairingOptions::load_for(&ckpt)
            .unwrap()
            .unwrap()
            .min_impressions,
        500
    );

    let resumed = train_reward_model(
        &store,
        &images,
        &train_options(ckpt.clone(), 3, Some(ckpt.clone())),
        |_| {},
    )
    .unwrap();
    assert_eq!(
        resumed.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        vec![3]
    );

    // Newest first: the resumed run (1 epoch), then the first (2 epochs).
    let runs = store.list_training_runs().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, epochs) in runs.iter().zip([1, 2]) {
        assert_eq!(run.kind, REWARD_RUN_KIND);
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(run.metrics_json["epochs"].as_array().unwrap().len(), epochs);
    }
    assert_eq!(runs[0].id, resumed.training_run);
    assert_eq!(runs[1].id, outcome.training_run);

    let eval = evaluate_reward_model(&store, &images, &ckpt, None).unwrap();
    assert_eq!(eval.set, "validation");
    assert_eq!(eval.accuracy.total, outcome.val_pairs);
    assert_eq!(eval.checkpoint_epochs, 3);
    assert!(eval.accuracy.ci95() > 0.0);
    assert!((0.0..=1.0).contains(&eval.brightness_baseline));

    let world = dir.path().join("world/images");
    let files: Vec<PathBuf> = (0..4)
        .map(|c| world.join(format!("p0000_c{c}.png")))
        .collect();
    let scores = score_images(&ckpt, &files).unwrap();
    let n = files.len();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let sum = scores.matrix.p[i][j] + scores.matrix.p[j][i];
                assert!(
                    (sum - 1.0).abs() < 1e-5,
                    "p[{i}][{j}] + p[{j}][{i}] = {sum}"
                );
            }
        }
        assert!((0.0..=1.0).contains(&scores.matrix.ctr[i]));
    }
    let mut order = scores.order.clone();
    order.sort_unstable();
    assert_eq!(order, (0..n).collect::<Vec<_>>());
    assert!(scores.strengths[scores.order[0]] >= scores.strengths[scores.order[n - 1]]);
}

fn adstudio(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.env("ADSTUDIO_DATA_DIR", data)
        .env("CANDLE_NUM_THREADS", "1");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The binary: `rm synth`, `rm import`, `rm train --epochs 1`, `rm eval`
/// and `rm score` succeed and print their reports; importing a file that is
/// not a click log fails with a non-zero exit code naming the file.
#[test]
fn rm_commands_run_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let world = dir.path().join("world");
    let ckpt = dir.path().join("ck.safetensors");
    run_ok(
        adstudio(&data)
            .args([
                "rm",
                "synth",
                "--products",
                "8",
                "--creatives",
                "3",
                "--out",
            ])
            .arg(&world),
    );
    let out = run_ok(
        adstudio(&data)
            .args(["rm", "import"])
            .arg(world.join("clicks.csv")),
    );
    assert!(
        out.contains("24 creatives stored, 0 rows rejected"),
        "{out}"
    );
    let out = run_ok(
        adstudio(&data)
            .args([
                "rm",
                "train",
                "--epochs",
                "1",
                "--min-impressions",
                "500",
                "--out",
            ])
            .arg(&ckpt),
    );
    assert!(out.contains("epoch 1/1: train loss"), "{out}");
    assert!(out.contains("validation pairwise accuracy"), "{out}");
    let out = run_ok(
        adstudio(&data)
            .args(["rm", "eval", "--checkpoint"])
            .arg(&ckpt),
    );
    assert!(
        out.contains("95% CI") && out.contains("brightness baseline"),
        "{out}"
    );
    let out = run_ok(
        adstudio(&data)
            .args(["rm", "score", "--checkpoint"])
            .arg(&ckpt)
            .arg(world.join("images/p0000_c0.png"))
            .arg(world.join("images/p0000_c1.png")),
    );
    assert!(
        out.contains("Bradley-Terry") && out.contains("predicted CTR"),
        "{out}"
    );
    // Without --checkpoint the reward-model role is used: here
    // <data dir>/models/reward-model/, the same scores.
    let role_dir = data.join("models/reward-model");
    std::fs::create_dir_all(&role_dir).unwrap();
    std::fs::copy(&ckpt, role_dir.join("compact-rm.safetensors")).unwrap();
    let from_role = run_ok(
        adstudio(&data)
            .current_dir(dir.path())
            .env_remove("ADSTUDIO_REWARD_MODEL")
            .args(["rm", "score"])
            .arg(world.join("images/p0000_c0.png"))
            .arg(world.join("images/p0000_c1.png")),
    );
    assert_eq!(from_role, out);
    std::fs::remove_file(role_dir.join("compact-rm.safetensors")).unwrap();
    let missing = adstudio(&data)
        .current_dir(dir.path())
        .env_remove("ADSTUDIO_REWARD_MODEL")
        .args(["rm", "score"])
        .arg(world.join("images/p0000_c0.png"))
        .arg(world.join("images/p0000_c1.png"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("reward-model") && stderr.contains("ADSTUDIO_REWARD_MODEL"),
        "{stderr}"
    );

    let junk = dir.path().join("junk.csv");
    std::fs::write(&junk, "hello world\nthis is not a click log\n").unwrap();
    let out = adstudio(&data)
        .args(["rm", "import"])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junk.csv") && stderr.contains("not a click log"),
        "{stderr}"
    );
}

/// A CSV with every kind of bad row keeps the good rows and reports each bad
/// one by its line: clicks > impressions, negative, non-numeric, missing
/// image, repeated id in the file, wrong field count; a second file
/// repeating a stored id gets that row rejected; a JSONL log with a broken
/// line and a missing image is reported the same way.
#[test]
fn import_with_bad_rows_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let img_dir = dir.path().join("img");
    std::fs::create_dir_all(&img_dir).unwrap();
    for (i, name) in ["a.png", "b.png", "c.png"].iter().enumerate() {
        RgbImage::from_pixel(16, 16, Rgb([50 * i as u8, 100, 150]))
            .save(img_dir.join(name))
            .unwrap();
    }
    let csv = dir.path().join("clicks.csv");
    std::fs::write(
        &csv,
        "creative_id,product_id,image_path,impressions,clicks\n\
         c1,p1,img/a.png,2000,40\n\
         c2,p1,img/b.png,100,200\n\
         c3,p1,img/b.png,-5,1\n\
         c4,p1,img/b.png,lots,1\n\
         c5,p1,img/missing.png,2000,10\n\
         c1,p1,img/b.png,3000,30\n\
         c6,p1,img/b.png,3000\n\
         c7,p1,img/b.png,3000,60\n",
    )
    .unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let images = ImageStore::new(dir.path().join("images"));
    let report = import_click_file(&store, &images, &csv).unwrap();
    println!("{report}");
    let kept: Vec<usize> = report.summary.kept.iter().map(|(l, _)| *l).collect();
    assert_eq!(kept, vec![2, 9]);
    assert_eq!(report.rejected_lines(), vec![3, 4, 5, 6, 7, 8]);
    let text = report.to_string();
    for needle in [
        "line 3 (c2): clicks (200) exceed impressions (100)",
        "line 4 (c3): impressions is negative",
        "line 5 (c4): impressions is not a whole number",
        "line 6 (c5): image not found",
        "line 7 (c1): duplicate creative id",
        "line 8 (c6): malformed row",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let imports = store.click_imports().unwrap();
    assert_eq!((imports[0].rows_ok, imports[0].rows_rejected), (2, 6));

    let jsonl = dir.path().join("more.jsonl");
    std::fs::write(
        &jsonl,
        "{\"creative_id\":\"c7\",\"product_id\":\"p1\",\"image\":\"img/c.png\",\"impressions\":10,\"clicks\":1}\n\
         {\"creative_id\":\"c8\",\"product_id\":\"p2\",\"image_path\":\"img/c.png\",\"impressions\":5000,\"clicks\":70}\n\
         {not json\n\
         {\"creative_id\":\"c9\",\"product_id\":\"p2\",\"image_path\":\"img/nope.png\",\"impressions\":5000,\"clicks\":70}\n",
    )
    .unwrap();
    let report = import_click_file(&store, &images, &jsonl).unwrap();
    println!("{report}");
    assert_eq!(report.summary.kept, vec![(2, "c8".to_string())]);
    assert_eq!(report.rejected_lines(), vec![1, 3, 4]);
    let text = report.to_string();
    assert!(
        text.contains("line 1 (c7): creative id already imported"),
        "{text}"
    );
    assert!(text.contains("line 3: malformed row"), "{text}");
    assert!(text.contains("line 4 (c9): image not found"), "{text}");
    assert_eq!(store.creative_count().unwrap(), 3);
}
