//! Loading Hugging Face safetensors checkpoints (single file or sharded).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

use super::chat::ChatTemplate;
use super::config::DecoderConfig;
use super::error::{PromptModelError, Result};
use super::tokenizer::TextTokenizer;
pub use crate::ml::weights::safetensors_files;

/// Memory-maps safetensors files into an f32 [`VarBuilder`], through the
/// crate's single mmap helper ([`crate::ml::weights::mmap_var_builder`]): a
/// missing file is [`super::PromptModelError::Io`]; a missing or mis-shaped
/// tensor is an error naming its file and tensor.
pub fn mmap_var_builder(files: &[PathBuf], device: &Device) -> Result<VarBuilder<'static>> {
    Ok(crate::ml::weights::mmap_var_builder(
        files,
        DType::F32,
        device,
    )?)
}

/// The tokenizer and chat template of a Hugging Face model folder:
/// `tokenizer.json` (required), `add_bos_token` and `chat_template` from
/// the optional `tokenizer_config.json`, and the usual end-of-turn tokens
/// added as stop tokens.
pub fn folder_tokenizer(dir: &Path, cfg: &DecoderConfig) -> Result<(TextTokenizer, ChatTemplate)> {
    let tok_path = dir.join("tokenizer.json");
    if !tok_path.is_file() {
        return Err(PromptModelError::MissingTokenizer(dir.to_path_buf()));
    }
    let tok_cfg: Option<serde_json::Value> =
        crate::ml::json::read_json_optional(&dir.join("tokenizer_config.json"));
    let field = |key: &str| tok_cfg.as_ref().and_then(|v| v.get(key));
    let add_bos = field("add_bos_token")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let template = ChatTemplate::detect(field("chat_template").and_then(|v| v.as_str()));
    let mut tokenizer = TextTokenizer::from_file(
        &tok_path,
        cfg.bos_token_id,
        add_bos,
        cfg.eos_token_ids.clone(),
    )?;
    for stop in ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "</s>"] {
        if let Some(id) = tokenizer.token_id(stop) {
            tokenizer.add_eos_id(id);
        }
    }
    Ok((tokenizer, template))
}
