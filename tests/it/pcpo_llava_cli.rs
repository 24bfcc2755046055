//! `adstudio pcpo train` through the binary on a tiny LLaVA folder (the
//! `llava_tiny` fixture with a byte-level tokenizer and `<image>`) and a
//! store whose products have their images: per-epoch metrics, the adapter
//! and its provenance, resume, the refusal of a product without its image,
//! and the trained adapter applied by the studio's LLaVA suggestion path.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use crate::common::{fixtures, label_store, words};

use adstudio::jobs::InlineReporter;
use adstudio::ml::pcpo::BaseModel;
use adstudio::ml::prompt_model::SuggestMode;
use adstudio::paths::DataDir;
use adstudio::product::load_product_bytes;
use adstudio::store::{
    ImageStore, NewPreference, NewProduct, NewRender, Outcome, PairItem, ProductSettings, Store,
};
use adstudio::studio::adapters::active_adapter;
use adstudio::studio::suggest::{suggest, SuggestJob};
use adstudio::studio::{registry_for, ModelHub};
use candle_core::Device;
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::{json, Value};

const TITLES: [&str; 3] = ["Red ceramic mug", "Leather hiking boot", "Steel chef knife"];
const PROMPTS: [&str; 4] = [
    "sunlit wooden table",
    "golden luxury podium",
    "misty pine forest",
    "white studio backdrop",
];

/// The tiny LLaVA folder at `to`, with a byte-level tokenizer; its
/// decoder (RoPE, no learned positions) is given room for the suggestion
/// prompt, about a thousand byte tokens.
pub(crate) fn llava_folder(to: &Path) -> PathBuf {
    let tok = words::byte_tokenizer(true);
    let folder = words::model_folder(&fixtures::fixture_dir("llava_tiny"), to, Some(&tok));
    let config = folder.join("config.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    json["text_config"]["max_position_embeddings"] = json!(4096);
    std::fs::write(&config, json.to_string()).unwrap();
    folder
}

/// A product photo: a coloured block on white.
fn photo(p: usize) -> RgbImage {
    let colour = [[200, 20, 30], [120, 70, 30], [150, 150, 160]][p];
    let mut img = RgbImage::from_pixel(96, 64, Rgb([255, 255, 255]));
    for y in 12..52 {
        for x in 20 + 8 * p as u32..70 {
            img.put_pixel(x, y, Rgb(colour));
        }
    }
    img
}

/// Three products with their images stored (the third, with `missing`,
/// names an image that is not there), four renders each and three human
/// labels per product.
fn store(data: &Path, missing: bool) {
    let dir = DataDir::at(data).unwrap();
    let store = Store::open(&label_store::database(data)).unwrap();
    let images = ImageStore::new(dir.images_dir());
    for (p, title) in TITLES.iter().enumerate() {
        let stored = images.put_png(&DynamicImage::ImageRgb8(photo(p))).unwrap();
        let hash = if missing && p == 2 {
            "ef".repeat(32)
        } else {
            stored.hash
        };
        let product = store
            .insert_product(&NewProduct {
                title: title.to_string(),
                source_name: format!("p{p}.png"),
                image_hash: hash,
                image_ext: "png".to_string(),
                width: 96,
                height: 64,
                has_transparency: false,
                settings: ProductSettings {
                    mask_settings_json: json!({}),
                    mask_edits_json: json!([]),
                    canvas_settings_json: json!({}),
                },
            })
            .unwrap();
        let r: Vec<_> = PROMPTS
            .iter()
            .enumerate()
            .map(|(i, prompt)| {
                store
                    .insert_render(&NewRender {
                        product_id: product,
                        params_json: json!({ "prompt": prompt }),
                        seed: i as u64,
                        model_ids_json: json!([]),
                        image_hash: "cd".repeat(32),
                        image_path: format!("images/p{p}-r{i}.png"),
                        width: 64,
                        height: 64,
                    })
                    .unwrap()
            })
            .collect();
        for (a, b, o) in [
            (r[0], r[1], Outcome::A),
            (r[2], r[1], Outcome::A),
            (r[3], r[0], Outcome::B),
        ] {
            store
                .record_preference(&NewPreference::human(
                    PairItem::Render(a),
                    PairItem::Render(b),
                    o,
                    "ann",
                ))
                .unwrap();
        }
    }
}

fn train(data: &Path, model: &Path, extra: &[&str]) -> (Output, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data)
        .args(["pcpo", "train", "--model"])
        .arg(model)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn factors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let t = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
    let mut v: Vec<(String, Vec<f32>)> = t
        .iter()
        .filter(|(n, _)| n.starts_with("layers."))
        .map(|(n, t)| (n.clone(), t.flatten_all().unwrap().to_vec1().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

const RUN: [&str; 14] = [
    "--epochs",
    "2",
    "--batch-size",
    "2",
    "--lr",
    "0.01",
    "--valid-share",
    "0.3",
    "--seed",
    "3",
    "--rank",
    "4",
    "--targets",
    "q_proj,v_proj",
];

/// Two epochs on the LLaVA folder (2 products for training, 1 held out):
/// one line per epoch with train and validation metrics, an adapter of the
/// language decoder's factors (trained: B no longer zero) recorded with the
/// LLaVA folder as its base (id and weights hash); resuming the finished
/// run saves the same adapter.
#[test]
fn pcpo_train_on_a_llava_folder_saves_and_records_the_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let model = llava_folder(&dir.path().join("llava"));
    store(&data, false);
    let ck = dir.path().join("ck.safetensors");
    let out = dir.path().join("a.safetensors");
    let mut args: Vec<String> = RUN.iter().map(|s| s.to_string()).collect();
    for extra in ["--checkpoint", &ck.display().to_string()] {
        args.push(extra.to_string());
    }
    let mut first: Vec<&str> = args.iter().map(String::as_str).collect();
    let out_s = out.display().to_string();
    first.extend(["--name", "llava-a", "--out", &out_s]);
    let (status, stdout, stderr) = train(&data, &model, &first);
    assert!(status.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("products: 2 train, 1 validation; pairs: 6 train, 3 validation"),
        "{stdout}"
    );
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 2, "{stdout}");
    assert!(epochs
        .iter()
        .all(|l| l.contains("(6 pairs) | valid loss") && l.contains("(3 pairs)")));

    let trained = factors(&out);
    let names: Vec<&str> = trained.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "layers.0.q_proj.A",
            "layers.0.q_proj.B",
            "layers.0.v_proj.A",
            "layers.0.v_proj.B",
            "layers.1.q_proj.A",
            "layers.1.q_proj.B",
            "layers.1.v_proj.A",
            "layers.1.v_proj.B",
        ]
    );
    assert!(trained
        .iter()
        .filter(|(n, _)| n.ends_with(".B"))
        .all(|(_, v)| v.iter().any(|x| *x != 0.0)));

    let store = Store::open(&label_store::database(&data)).unwrap();
    let row = store.adapter_by_name("llava-a").unwrap().unwrap();
    let config: Value = row.config_json.clone();
    let base = BaseModel::of(&model).unwrap();
    assert_eq!(config["hyper_parameters"]["condition"], json!("image+text"));
    assert_eq!(config["base_model"]["id"], json!("llava"));
    assert_eq!(config["base_model"]["hash"], json!(base.hash));
    assert_eq!(config["data"]["pairs"], json!(6));
    let hashes = config["data"]["images"].as_object().unwrap();
    assert_eq!(hashes.len(), 3, "train and validation products");
    for (id, hash) in hashes {
        let product = store
            .product(adstudio::store::ProductId(id.parse().unwrap()))
            .unwrap()
            .unwrap();
        assert_eq!(hash, &json!(product.image_hash));
    }
    assert_eq!(config["metrics"]["epochs"].as_array().unwrap().len(), 2);
    assert_eq!(factors(&data.join(&row.path)), trained);

    exported_llava_has_the_merged_decoder_and_the_source_rest(&data, &model, &row);

    let again = dir.path().join("again.safetensors");
    let again_s = again.display().to_string();
    let mut resume: Vec<&str> = args.iter().map(String::as_str).collect();
    resume.extend(["--resume", "--name", "llava-b", "--out", &again_s]);
    let (status, stdout, stderr) = train(&data, &model, &resume);
    assert!(status.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("resumed after epoch 2 of 2"), "{stdout}");
    assert_eq!(factors(&again), trained);
}

/// `adstudio pcpo export` of a LLaVA adapter writes the whole checkpoint:
/// the source's vision tower and projector tensors bit-identical, its
/// config and tokenizer files copied, the decoder's adapted projections
/// equal to `W + alpha/rank * B A` from the adapter file, every other
/// decoder tensor unchanged.
fn exported_llava_has_the_merged_decoder_and_the_source_rest(
    data: &Path,
    model: &Path,
    row: &adstudio::store::AdapterRow,
) {
    let out = data.parent().unwrap().join("exported");
    let run = Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .env_remove("ADSTUDIO_DATA_DIR")
        .arg("--data-dir")
        .arg(data)
        .args(["pcpo", "export", "--adapter", &row.name, "--model"])
        .arg(model)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for file in ["config.json", "tokenizer.json"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(model.join(file)).unwrap(),
            "{file}"
        );
    }
    let load = |p: &Path| candle_core::safetensors::load(p, &Device::Cpu).unwrap();
    let source = load(&model.join("model.safetensors"));
    let exported = load(&out.join("model.safetensors"));
    let mut names: Vec<&String> = source.keys().collect();
    let mut got: Vec<&String> = exported.keys().collect();
    names.sort();
    got.sort();
    assert_eq!(got, names, "the same tensor names as the source");
    let adapter = load(&data.join(&row.path));
    let hp = &row.config_json["hyper_parameters"];
    let scale = hp["alpha"].as_f64().unwrap() / hp["rank"].as_f64().unwrap();
    let values = |t: &candle_core::Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let mut merged = 0;
    for (name, t) in &source {
        let out_t = &exported[name];
        let key = name
            .strip_prefix("language_model.model.")
            .and_then(|n| n.strip_suffix(".weight"))
            .map(|n| n.replace("self_attn.", ""));
        let factors = key.and_then(|k| {
            Some((
                adapter.get(&format!("{k}.A"))?,
                adapter.get(&format!("{k}.B"))?,
            ))
        });
        match factors {
            Some((a, b)) => {
                let delta = (b.matmul(a).unwrap() * scale).unwrap();
                let want = values(&(t + delta).unwrap());
                let have = values(out_t);
                let err = want
                    .iter()
                    .zip(&have)
                    .map(|(w, h)| (w - h).abs())
                    .fold(0.0f32, f32::max);
                assert!(err < 1e-6, "{name}: max diff {err}");
                assert!(values(t) != have, "{name} unchanged");
                merged += 1;
            }
            None => assert_eq!(values(t), values(out_t), "{name} changed"),
        }
    }
    assert_eq!(merged, 4, "q_proj and v_proj of both layers");
}

/// A product whose image is not in the store cannot train the LLaVA model:
/// the run fails naming the product, and no adapter is written.
#[test]
fn pcpo_train_on_llava_refuses_a_product_without_its_image() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let model = llava_folder(&dir.path().join("llava"));
    store(&data, true);
    let (status, stdout, stderr) = train(&data, &model, &["--epochs", "1", "--name", "x"]);
    assert!(!status.status.success(), "{stdout}");
    assert!(
        stderr.contains("reading the image of product 3 (\"Steel chef knife\")"),
        "{stderr}"
    );
    assert!(!data.join("adapters/x.safetensors").exists());
}

/// The adapter trained on the LLaVA folder is applied by the studio's
/// suggestion path for that model (it reports the adapter's name), and
/// changes what the model writes for the same seed.
#[test]
fn llava_adapter_is_applied_to_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = DataDir::at(&data).unwrap();
    let model = llava_folder(&data_dir.models_dir().join("prompt-model"));
    store(&data, false);
    let args = [
        "--epochs",
        "2",
        "--lr",
        "0.05",
        "--valid-share",
        "0",
        "--name",
        "warm",
    ];
    let (status, stdout, stderr) = train(&data, &model, &args);
    assert!(status.status.success(), "{stdout}\n{stderr}");

    let hub = ModelHub::new(registry_for(Some(&data_dir)));
    let store = Store::open(&data_dir.database_path()).unwrap();
    let active = active_adapter(&store, data_dir.root(), "warm").unwrap();
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(photo(0))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let image = Arc::new(load_product_bytes(&png).unwrap());
    let job = |adapter| SuggestJob {
        title: TITLES[0].to_string(),
        image: image.clone(),
        mask: None,
        count: 2,
        temperature: 1.0,
        top_p: 1.0,
        seed: 5,
        max_new_tokens: Some(12),
        mode: SuggestMode::Raw,
        adapter,
    };
    let rep = InlineReporter::new(|_| {});
    let texts = |job: &SuggestJob| -> (Vec<String>, Option<String>) {
        let out = suggest(&hub, &rep, job).unwrap();
        let texts = out.candidates.iter().map(|c| c.text.clone()).collect();
        (texts, out.adapter)
    };
    let (plain, none) = texts(&job(None));
    let (adapted, name) = texts(&job(Some(active)));
    assert_eq!((none, name.as_deref()), (None, Some("warm")));
    println!("base {plain:?}\nadapted {adapted:?}");
    assert_ne!(plain, adapted, "the adapter changes nothing");
    let applied = hub.with_prompt_model(|e| e.adapter()).unwrap();
    assert_eq!(applied, Some(row_id(&store, "warm")));
}

fn row_id(store: &Store, name: &str) -> adstudio::store::AdapterId {
    store.adapter_by_name(name).unwrap().unwrap().id
}
