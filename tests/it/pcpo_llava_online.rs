//! `adstudio pcpo online` with a LLaVA prompt model: the tiny SD,
//! ControlNet and reward model of the online tests, the tiny LLaVA folder
//! as the prompt model (it sees the product's image). One round on one
//! product runs end to end (kept this small because LLaVA suggestions
//! process the whole image prompt again for every candidate, with no
//! shared prefix cache): the policy trains on the
//! product's image and the round's adapter is recorded with the LLaVA
//! folder as its base. (Later rounds suggesting with the previous round's
//! adapter is the same code as for the text model, tested in
//! `cli_pcpo_online`; the LLaVA suggestion path applying an adapter is
//! tested in `pcpo_llava_cli`.)

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use adstudio::ml::pcpo::BaseModel;
use adstudio::paths::DataDir;
use adstudio::store::Store;
use candle_core::Device;

use crate::cli_pcpo_online::setup;
use crate::pcpo_llava_cli::llava_folder;

/// Environment variables that would point a role away from the data folder.
const ROLE_VARS: [&str; 6] = [
    "ADSTUDIO_SD15",
    "ADSTUDIO_CONTROLNET_CANNY",
    "ADSTUDIO_PROMPT_MODEL",
    "ADSTUDIO_REWARD_MODEL",
    "ADSTUDIO_U2NETP_ONNX",
    "ADSTUDIO_MINILM",
];

fn b_factors(path: &Path) -> Vec<f32> {
    let t = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
    let mut names: Vec<&String> = t.keys().filter(|n| n.ends_with(".B")).collect();
    names.sort();
    assert!(!names.is_empty(), "no factors in {}", path.display());
    names
        .iter()
        .flat_map(|n| t[*n].flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

/// One online round with the LLaVA folder as the prompt model: a table
/// row, two renders written by the base model, one adapter whose base is
/// the LLaVA folder (by hash), trained (B no longer zero) on one pair.
#[test]
fn online_rounds_train_a_llava_prompt_model() {
    let dir = tempfile::tempdir().unwrap();
    let (data, ids) = setup(dir.path());
    let prompt_model = data.join("models/prompt-model");
    std::fs::remove_dir_all(&prompt_model).unwrap();
    llava_folder(&prompt_model);
    let products = ids[0].to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(&data)
        .args(["pcpo", "online", "--products", &products])
        .args(["--rounds", "1", "--steps", "2", "--seed", "3"])
        .args(["--short-side", "64", "--name", "v", "--batch-size", "2"])
        .args(["--lr", "0.05", "--max-tokens=12"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    println!("{stdout}");
    let rows = stdout.lines().filter(|l| l.starts_with("1/1")).count();
    assert_eq!(rows, 1, "{stdout}");

    let store = Store::open(&DataDir::at(&data).unwrap().database_path()).unwrap();
    let base = BaseModel::of(&prompt_model).unwrap();
    let adapters = store.list_adapters().unwrap();
    assert_eq!(adapters.len(), 1);
    for a in &adapters {
        assert_eq!(a.config_json["base_model"]["hash"], base.hash.as_str());
        assert_eq!(a.config_json["data"]["pairs"], 1);
        let hashes = a.config_json["data"]["images"].as_object().unwrap();
        assert_eq!(hashes.len(), 1);
        assert_eq!(
            a.config_json["online"]["products"],
            serde_json::json!([ids[0].0])
        );
    }
    let renders = store.renders_for_product(ids[0]).unwrap();
    assert_eq!(renders.len(), 2);
    assert!(renders
        .iter()
        .all(|r| r.params_json["request"]["prompt_adapter"].is_null()));
    let r1 = b_factors(&data.join("adapters/v-r1.safetensors"));
    assert!(r1.iter().any(|x| *x != 0.0), "the round trained nothing");
}
