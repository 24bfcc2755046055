//! Fixture lookup and tiny model folders shared by several test files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The fixture root: `$ADSTUDIO_FIXTURES`, or `tests/fixtures` in the repo.
pub fn root() -> PathBuf {
    match std::env::var_os("ADSTUDIO_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

/// One fixture set under [`root`] (e.g. `sd_tiny`).
pub fn fixture_dir(set: &str) -> PathBuf {
    root().join(set)
}

/// Copies the files (not sub-folders) of `from` into `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

/// A CLIP BPE tokenizer folder (`vocab.json` + `merges.txt`) with one
/// token per printable ASCII character (vocab 1000, start 998, end 999),
/// for the tiny text encoders whose vocabularies have 1000 entries.
pub fn write_tiny_clip_tokenizer(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("vocab.json"),
        adstudio::ml::diffusion::random::tiny_clip_vocab().to_string(),
    )
    .expect("vocab");
    std::fs::write(dir.join("merges.txt"), "#version: 0.2\n").expect("merges");
}

/// A diffusers folder at `dst` made of the `sd_tiny` fixture components
/// (UNet, VAE, text encoder, scheduler) and [`write_tiny_clip_tokenizer`]'s
/// tokenizer; returns `dst`.
pub fn tiny_sd_folder(dst: &Path) -> PathBuf {
    let sd = fixture_dir("sd_tiny");
    for c in ["unet", "vae", "text_encoder", "scheduler"] {
        copy_dir(&sd.join(c), &dst.join(c));
    }
    write_tiny_clip_tokenizer(&dst.join("tokenizer"));
    dst.to_path_buf()
}

/// One case of `clip_tokenizer/cases.json`: Hugging Face's ids for a prompt.
pub struct ClipTokenCase {
    /// The prompt text.
    pub prompt: String,
    /// The 77 ids (start, tokens, end, padding).
    pub ids_77: Vec<u32>,
    /// The token count before truncation to 77.
    pub untruncated_len: usize,
}

/// The cases of `clip_tokenizer/cases.json` (at least one).
pub fn clip_token_cases() -> Vec<ClipTokenCase> {
    let path = fixture_dir("clip_tokenizer").join("cases.json");
    let text = std::fs::read_to_string(&path).expect("cases.json");
    let cases: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases: Vec<ClipTokenCase> = cases["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .map(|case| ClipTokenCase {
            prompt: case["prompt"].as_str().expect("prompt").to_string(),
            ids_77: case["input_ids_77"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|v| v.as_u64().expect("id") as u32)
                .collect(),
            untruncated_len: case["untruncated_len"].as_u64().expect("len") as usize,
        })
        .collect();
    assert!(!cases.is_empty(), "no cases in {}", path.display());
    cases
}

/// The `llava_tiny` fixture: its folder, config and model (f32, CPU).
pub fn llava_tiny() -> (
    PathBuf,
    adstudio::ml::prompt_model::LlavaConfig,
    adstudio::ml::prompt_model::Llava,
) {
    use adstudio::ml::prompt_model::{Llava, LlavaConfig};
    use candle_core::{DType, Device};
    let dir = fixture_dir("llava_tiny");
    let cfg = LlavaConfig::from_file(&dir.join("config.json")).expect("config");
    let weights = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .expect("weights");
    let vb = candle_nn::VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
    let llava = Llava::new(&cfg, vb).expect("llava");
    (dir, cfg, llava)
}
