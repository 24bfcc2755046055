//! `adstudio pcpo train` through the binary on the tiny Qwen2 model (with a
//! byte-level tokenizer) and a store built with the library: per-epoch
//! metrics with a held-out product, the adapter file and its settings,
//! checkpoint and resume, model labels on request, and bad input.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{fixtures, label_store, words};

use adstudio::store::{
    NewPreference, NewProduct, NewRender, Outcome, PairItem, PreferenceSource, ProductSettings,
    RenderId, Store,
};
use candle_core::Device;
use serde_json::{json, Value};

const TITLES: [&str; 3] = ["Red ceramic mug", "Leather hiking boot", "Steel chef knife"];
const PROMPTS: [&str; 4] = [
    "sunlit wooden table",
    "golden luxury podium",
    "misty pine forest",
    "white studio backdrop",
];

pub(crate) fn model(root: &Path) -> PathBuf {
    let tok = words::byte_tokenizer(false);
    words::model_folder(
        &fixtures::fixture_dir("qwen2_tiny"),
        &root.join("model"),
        Some(&tok),
    )
}

/// Three products of four renders; `per_product` human labels on each
/// (A, A, B), one label across products, one tie and one model label.
pub(crate) fn store(data: &Path, per_product: usize) {
    let store = Store::open(&label_store::database(data)).unwrap();
    let mut renders: Vec<Vec<RenderId>> = Vec::new();
    for (p, title) in TITLES.iter().enumerate() {
        let product = store
            .insert_product(&NewProduct {
                title: title.to_string(),
                source_name: format!("p{p}.png"),
                image_hash: "ab".repeat(32),
                image_ext: "png".to_string(),
                width: 64,
                height: 64,
                has_transparency: false,
                settings: ProductSettings {
                    mask_settings_json: json!({}),
                    mask_edits_json: json!([]),
                    canvas_settings_json: json!({}),
                },
            })
            .unwrap();
        let ids = PROMPTS
            .iter()
            .enumerate()
            .map(|(r, prompt)| {
                store
                    .insert_render(&NewRender {
                        product_id: product,
                        params_json: json!({ "prompt": prompt }),
                        seed: r as u64,
                        model_ids_json: json!([]),
                        image_hash: "cd".repeat(32),
                        image_path: format!("images/p{p}-r{r}.png"),
                        width: 64,
                        height: 64,
                    })
                    .unwrap()
            })
            .collect();
        renders.push(ids);
    }
    let label = |a: RenderId, b: RenderId, outcome: Outcome, source: PreferenceSource| {
        store
            .record_preference(&NewPreference {
                source,
                ..NewPreference::human(PairItem::Render(a), PairItem::Render(b), outcome, "ann")
            })
            .unwrap();
    };
    let human = PreferenceSource::Human;
    for r in &renders {
        let plan = [
            (r[0], r[1], Outcome::A),
            (r[2], r[1], Outcome::A),
            (r[3], r[0], Outcome::B),
        ];
        for &(a, b, o) in plan.iter().take(per_product) {
            label(a, b, o, human);
        }
    }
    label(renders[0][0], renders[1][1], Outcome::A, human);
    label(renders[0][2], renders[0][3], Outcome::Tie, human);
    label(
        renders[2][1],
        renders[2][2],
        Outcome::B,
        PreferenceSource::Model,
    );
}

fn train(data: &Path, model: &Path, out: &Path, extra: &[&str]) -> (Output, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data)
        .args(["pcpo", "train", "--model"])
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn saved_config(adapter: &Path) -> Value {
    let t = candle_core::safetensors::load(adapter, &Device::Cpu).unwrap();
    serde_json::from_slice(&t["meta.config"].to_vec1::<u8>().unwrap()).unwrap()
}

fn epoch_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("epoch ")).collect()
}

const RUN: [&str; 16] = [
    "--epochs",
    "2",
    "--batch-size",
    "2",
    "--lr",
    "0.01",
    "--beta",
    "0.5",
    "--weight",
    "1",
    "--valid-share",
    "0.3",
    "--seed",
    "3",
    "--checkpoint",
    "",
];

fn run_args(ck: &Path) -> Vec<String> {
    let mut v: Vec<String> = RUN.iter().map(|s| s.to_string()).collect();
    *v.last_mut().unwrap() = ck.display().to_string();
    v
}

/// Two epochs on 2 of the 3 products (the third held out): one line per
/// epoch with train and validation metrics, the adapter holds the run's
/// settings, and labels that cannot be used are reported.
#[test]
fn pcpo_train_runs_epochs_and_saves_the_adapter_then_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), model(dir.path()));
    store(&data, 3);
    let (ck, out) = (
        dir.path().join("ck.safetensors"),
        dir.path().join("adapter.safetensors"),
    );
    let args = run_args(&ck);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stdout, stderr) = train(&data, &model, &out, &args);
    assert!(status.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("9 usable pairs (2 labels left out on purpose, 1 with problems)"),
        "{stdout}"
    );
    assert!(stderr.contains("is of product 1 but render"), "{stderr}");
    assert!(
        stdout.contains("products: 2 train, 1 validation; pairs: 6 train, 3 validation"),
        "{stdout}"
    );
    let epochs = epoch_lines(&stdout);
    assert_eq!(epochs.len(), 2, "{stdout}");
    for (i, line) in epochs.iter().enumerate() {
        assert!(
            line.starts_with(&format!("epoch {}/2: train loss ", i + 1)),
            "{line}"
        );
        assert!(
            line.contains("(6 pairs) | valid loss") && line.contains("(3 pairs)"),
            "{line}"
        );
    }
    let cfg = saved_config(&out);
    assert_eq!(
        (
            &cfg["epochs"],
            &cfg["batch_size"],
            &cfg["learning_rate"],
            &cfg["beta"],
            &cfg["weight"],
            &cfg["seed"]
        ),
        (
            &json!(2),
            &json!(2),
            &json!(0.01),
            &json!(0.5),
            &json!(1.0),
            &json!(3)
        )
    );
    assert!(ck.is_file());
    let first = candle_core::safetensors::load(&out, &Device::Cpu).unwrap();

    // Resuming a finished run trains nothing more and saves the same adapter.
    let again = dir.path().join("again.safetensors");
    let mut resume = args.clone();
    resume.push("--resume");
    let (status, stdout, stderr) = train(&data, &model, &again, &resume);
    assert!(status.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("resumed after epoch 2 of 2"), "{stdout}");
    assert!(epoch_lines(&stdout).is_empty(), "{stdout}");
    let second = candle_core::safetensors::load(&again, &Device::Cpu).unwrap();
    for (name, t) in first.iter().filter(|(n, _)| n.ends_with(".B")) {
        let (a, b) = (
            t.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            second[name]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
        );
        assert_eq!(a, b, "{name}");
        assert!(a.iter().any(|x| *x != 0.0), "{name} untrained");
    }

    // Other settings cannot resume that checkpoint.
    let mut other = resume.clone();
    other[7] = "0.1";
    let (status, _, stderr) = train(&data, &model, &again, &other);
    assert!(!status.status.success());
    assert!(stderr.contains("other settings"), "{stderr}");
}

/// With one label per product and a product held out, two training pairs
/// remain; with no held-out product, model labels join only when asked.
#[test]
fn pcpo_train_counts_model_labels_only_when_asked_and_refuses_too_few_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), model(dir.path()));
    store(&data, 1);
    let out = dir.path().join("a.safetensors");
    let base = ["--epochs", "1", "--valid-share", "0.6"];
    let (status, stdout, stderr) = train(&data, &model, &out, &base);
    assert!(!status.status.success(), "{stdout}");
    assert!(
        stderr
            .contains("too few pairs to train: 1 training pair(s) after holding out 2 product(s)"),
        "{stderr}"
    );
    assert!(!out.exists());

    let (status, stdout, stderr) = train(
        &data,
        &model,
        &out,
        &["--epochs", "1", "--valid-share", "0"],
    );
    assert!(status.status.success(), "{stderr}");
    assert!(
        stdout.contains("3 usable pairs (2 labels left out on purpose"),
        "{stdout}"
    );
    let (status, stdout, stderr) = train(
        &data,
        &model,
        &out,
        &["--epochs", "1", "--valid-share", "0", "--with-model-labels"],
    );
    assert!(status.status.success(), "{stderr}");
    assert!(
        stdout.contains("4 usable pairs (1 labels left out on purpose"),
        "{stdout}"
    );
    assert!(stdout.contains("pairs: 4 train, 0 validation"), "{stdout}");
    assert!(out.is_file());
}

/// LoRA rank, alpha and targets shape the saved adapter (defaults: rank 8
/// on q/k/v/o); a bad target or validation share is refused.
#[test]
fn pcpo_train_lora_flags_shape_the_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), model(dir.path()));
    store(&data, 1);
    let out = dir.path().join("a.safetensors");
    let (status, _, stderr) = train(
        &data,
        &model,
        &out,
        &["--epochs", "1", "--valid-share", "0"],
    );
    assert!(status.status.success(), "{stderr}");
    let adapter = candle_core::safetensors::load(&out, &Device::Cpu).unwrap();
    assert!(adapter.contains_key("layers.1.k_proj.A"), "default targets");
    assert_eq!(
        adapter["layers.0.q_proj.A"].dims(),
        &[8, 64],
        "default rank"
    );

    let lora = ["--rank", "2", "--alpha", "4", "--targets", "q_proj,up_proj"];
    let (status, _, stderr) = train(
        &data,
        &model,
        &out,
        &[&["--epochs", "1", "--valid-share", "0"][..], &lora].concat(),
    );
    assert!(status.status.success(), "{stderr}");
    let adapter = candle_core::safetensors::load(&out, &Device::Cpu).unwrap();
    let mut names: Vec<&str> = adapter.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "layers.0.q_proj.A",
            "layers.0.q_proj.B",
            "layers.0.up_proj.A",
            "layers.0.up_proj.B",
            "layers.1.q_proj.A",
            "layers.1.q_proj.B",
            "layers.1.up_proj.A",
            "layers.1.up_proj.B",
            "meta.config",
        ]
    );
    assert_eq!(adapter["layers.1.up_proj.A"].dims(), &[2, 64]);
    assert_eq!(adapter["layers.1.up_proj.B"].dims(), &[128, 2]);
    let cfg = saved_config(&out);
    assert_eq!(
        (&cfg["lora_rank"], &cfg["lora_alpha"]),
        (&json!(2), &json!(4.0))
    );

    let (status, _, stderr) = train(&data, &model, &out, &["--valid-share", "1"]);
    assert!(!status.status.success());
    assert!(
        stderr.contains("--valid-share must be in [0, 1), not 1"),
        "{stderr}"
    );
    let (status, _, stderr) = train(&data, &model, &out, &["--targets", "q_proj,nope"]);
    assert!(!status.status.success());
    assert!(stderr.contains("unknown LoRA target `nope`"), "{stderr}");
}
