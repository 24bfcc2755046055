//! A data folder with tiny models in its `models` folder (tiny SD +
//! ControlNet, a tiny random Qwen2 with a byte-level tokenizer, a seeded
//! random compact reward model) and a studio that sees only those.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use adstudio::ml::reward::compact::CompactConfig;
use adstudio::ml::reward::train::{TrainConfig, Trainer};
use adstudio::paths::DataDir;
use adstudio::studio::{ModelHub, ModelRegistry, Studio};
use candle_core::Device;

use super::{fixtures, words};

/// Environment variables that would point a role away from the data folder.
pub const ROLE_VARS: [&str; 6] = [
    "ADSTUDIO_SD15",
    "ADSTUDIO_CONTROLNET_CANNY",
    "ADSTUDIO_PROMPT_MODEL",
    "ADSTUDIO_REWARD_MODEL",
    "ADSTUDIO_U2NETP_ONNX",
    "ADSTUDIO_MINILM",
];

/// Installs the tiny models under `data/models`.
pub fn install_models(data: &Path) {
    let models = data.join("models");
    fixtures::tiny_sd_folder(&models.join("sd15"));
    fixtures::copy_dir(
        &fixtures::fixture_dir("sd_tiny").join("controlnet"),
        &models.join("controlnet-canny"),
    );
    // Byte-level tokens make the suggestion prompt about a thousand
    // tokens long: the tiny Qwen2 (RoPE, no learned positions) is given
    // room for it.
    let tok = words::byte_tokenizer(false);
    let prompt_model = words::model_folder(
        &fixtures::fixture_dir("qwen2_tiny"),
        &models.join("prompt-model"),
        Some(&tok),
    );
    let config = prompt_model.join("config.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config")).expect("json");
    json["max_position_embeddings"] = serde_json::json!(4096);
    std::fs::write(&config, json.to_string()).expect("write config");
    let rm = models.join("reward-model");
    std::fs::create_dir_all(&rm).expect("reward-model dir");
    let config = CompactConfig {
        image_size: 16,
        channels: vec![4, 8],
        hidden: 8,
        ctr_scale: 10.0,
    };
    let trainer = Trainer::new(
        &config,
        TrainConfig {
            seed: 5,
            ..TrainConfig::default()
        },
        &Device::Cpu,
    )
    .expect("trainer");
    trainer
        .save_checkpoint(&rm.join("compact-rm.safetensors"))
        .expect("save reward model");
}

/// A studio over `data` whose registry sees only the data folder's models
/// (no environment variable).
pub fn studio(data: &Path) -> Studio {
    let dir = DataDir::at(data).expect("data dir");
    let registry = ModelRegistry::with_dirs(Some(dir.models_dir()), None);
    Studio::open(&dir, Arc::new(ModelHub::new(registry))).expect("studio")
}
