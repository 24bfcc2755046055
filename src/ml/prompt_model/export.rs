//! Writing a (merged) decoder as a Hugging Face model folder that
//! [`super::PromptModel::load`] reads back: `model.safetensors` with the
//! `*ForCausalLM` tensor names, `config.json`, `tokenizer.json` and
//! `tokenizer_config.json`. The folder is assembled under a temporary name
//! beside the target and renamed into place, so it appears whole or not at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde_json::{json, Value};

use super::config::{Architecture, DecoderConfig, RopeScaling};
use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::gguf::GgufFile;
use super::lora::{LoraLinear, LoraTarget};
use super::model::PromptModel;

fn export_err(path: &Path, reason: impl Into<String>) -> PromptModelError {
    PromptModelError::Export {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn push_linear(out: &mut Vec<(String, Tensor)>, name: &str, l: &LoraLinear) -> Result<()> {
    if l.adapter().is_some() {
        return Err(PromptModelError::Lora(format!(
            "{name}: merge the adapter before exporting"
        )));
    }
    let weight = l.weight().ok_or_else(|| {
        PromptModelError::Lora(format!(
            "{name}: the base weight is quantised (load the model dequantised to export it)"
        ))
    })?;
    out.push((format!("{name}.weight"), weight.clone()));
    if let Some(b) = l.bias() {
        out.push((format!("{name}.bias"), b.clone()));
    }
    Ok(())
}

impl Decoder {
    /// Every weight under its Hugging Face `*ForCausalLM` name
    /// (`model.layers.{i}.self_attn.q_proj.weight`, ...; no `lm_head` when
    /// the embeddings are tied). Adapters must be merged first and the
    /// projections must be dense.
    pub fn hf_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = vec![(
            "model.embed_tokens.weight".to_string(),
            self.embed_tokens.clone(),
        )];
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            out.push((
                format!("{p}.input_layernorm.weight"),
                layer.input_layernorm.clone(),
            ));
            out.push((
                format!("{p}.post_attention_layernorm.weight"),
                layer.post_attention_layernorm.clone(),
            ));
            for target in LoraTarget::ALL {
                let group = match target {
                    LoraTarget::Gate | LoraTarget::Up | LoraTarget::Down => "mlp",
                    _ => "self_attn",
                };
                let name = format!("{p}.{group}.{}", target.name());
                push_linear(&mut out, &name, layer.projection(target))?;
            }
        }
        out.push(("model.norm.weight".to_string(), self.norm.clone()));
        if !self.config().tie_word_embeddings {
            push_linear(&mut out, "lm_head", &self.lm_head)?;
        }
        Ok(out)
    }
}

/// The `config.json` of a decoder: what [`DecoderConfig::from_json`] reads
/// back to the same configuration. Fails for settings a Hugging Face config
/// cannot express (per-frequency RoPE factors, an o_proj bias that differs
/// from the q/k/v one).
pub fn hf_config(cfg: &DecoderConfig, origin: &Path) -> Result<Value> {
    let (model_type, class) = match cfg.architecture {
        Architecture::Llama => ("llama", "LlamaForCausalLM"),
        Architecture::Qwen2 => ("qwen2", "Qwen2ForCausalLM"),
    };
    if cfg.architecture == Architecture::Llama && cfg.o_bias != cfg.qkv_bias {
        return Err(export_err(origin, "o_proj and q/k/v biases differ"));
    }
    let mut v = json!({
        "architectures": [class],
        "model_type": model_type,
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.max_position_embeddings,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "attention_bias": cfg.qkv_bias,
        "mlp_bias": cfg.mlp_bias,
        "hidden_act": "silu",
        "torch_dtype": "float32",
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_ids,
    });
    match &cfg.rope_scaling {
        RopeScaling::None => {}
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        } => {
            v["rope_scaling"] = json!({
                "rope_type": "llama3",
                "factor": factor,
                "low_freq_factor": low_freq_factor,
                "high_freq_factor": high_freq_factor,
                "original_max_position_embeddings": original_max_position_embeddings,
            });
        }
        RopeScaling::FreqFactors(_) => {
            return Err(export_err(
                origin,
                "per-frequency RoPE factors cannot be written to a Hugging Face config",
            ))
        }
    }
    Ok(v)
}

/// The `tokenizer_config.json` to export for the model loaded from
/// `source`: the folder's own file when it has one; for a GGUF file, the
/// BOS flag and the chat template from its metadata.
pub fn source_tokenizer_config(source: &Path, model: &PromptModel) -> Result<Value> {
    if source.is_dir() {
        if let Some(v) = crate::ml::json::read_json_optional(&source.join("tokenizer_config.json"))
        {
            return Ok(v);
        }
        return Ok(json!({ "add_bos_token": model.tokenizer().adds_bos() }));
    }
    let file = GgufFile::open(source, &Device::Cpu)?;
    let mut v = json!({ "add_bos_token": model.tokenizer().adds_bos() });
    if let Some(t) = file.meta_str("tokenizer.chat_template") {
        v["chat_template"] = Value::String(t.to_string());
    }
    Ok(v)
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| export_err(path, e.to_string()))?;
    std::fs::write(path, text).map_err(|e| export_err(path, e.to_string()))
}

fn write_files(model: &PromptModel, tokenizer_config: &Value, dir: &Path) -> Result<()> {
    let decoder = model.decoder();
    let tensors: HashMap<String, Tensor> = decoder
        .hf_tensors()?
        .into_iter()
        .map(|(n, t)| Ok((n, t.to_device(&Device::Cpu)?.contiguous()?)))
        .collect::<Result<_>>()?;
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors"))?;
    write_json(&dir.join("config.json"), &hf_config(decoder.config(), dir)?)?;
    let tok_path = dir.join("tokenizer.json");
    model
        .tokenizer()
        .inner()
        .save(&tok_path, true)
        .map_err(|e| export_err(&tok_path, e.to_string()))?;
    write_json(&dir.join("tokenizer_config.json"), tokenizer_config)
}

/// Writes `model` (adapters merged, dense weights) as a Hugging Face folder
/// at `out`, which must not exist yet. Files are written to a temporary
/// folder beside `out` that is renamed at the end (and removed on failure).
pub fn export_hf_folder(model: &PromptModel, tokenizer_config: &Value, out: &Path) -> Result<()> {
    write_atomically(out, |tmp| write_files(model, tokenizer_config, tmp))
}

/// Writes a LLaVA checkpoint whose language model is `model`'s (adapters
/// merged, dense weights) at `out`, which must not exist yet: the merged
/// decoder under `language_model.*`, every other tensor of `source` (the
/// vision tower, the projector) copied unchanged, and `source`'s other
/// files (config, tokenizer, processor settings) copied as they are, so
/// the folder loads wherever the source did. Written atomically as
/// [`export_hf_folder`] is.
pub fn export_llava_folder(model: &PromptModel, source: &Path, out: &Path) -> Result<()> {
    write_atomically(out, |tmp| write_llava_files(model, source, tmp))
}

/// The prefix of a LLaVA checkpoint's language-model tensors.
const LLAVA_TEXT_PREFIX: &str = "language_model.";

fn write_llava_files(model: &PromptModel, source: &Path, dir: &Path) -> Result<()> {
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for file in crate::ml::weights::safetensors_files(source)
        .map_err(|e| export_err(source, e.to_string()))?
    {
        for (name, t) in candle_core::safetensors::load(&file, &Device::Cpu)? {
            if !name.starts_with(LLAVA_TEXT_PREFIX) {
                tensors.insert(name, t);
            }
        }
    }
    for (name, t) in model.decoder().hf_tensors()? {
        let t = t.to_device(&Device::Cpu)?.contiguous()?;
        tensors.insert(format!("{LLAVA_TEXT_PREFIX}{name}"), t);
    }
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors"))?;
    copy_side_files(source, dir)
}

/// Copies `source`'s top-level files other than weights (config,
/// tokenizer, processor and generation settings).
fn copy_side_files(source: &Path, dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(source).map_err(|e| export_err(source, e.to_string()))?;
    for entry in entries {
        let path = entry.map_err(|e| export_err(source, e.to_string()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let weights = name.ends_with(".safetensors") || name.ends_with(".safetensors.index.json");
        if path.is_file() && !weights {
            std::fs::copy(&path, dir.join(name)).map_err(|e| export_err(&path, e.to_string()))?;
        }
    }
    Ok(())
}

/// Runs `write` on a temporary folder beside `out` (which must not exist)
/// and renames it to `out`; the temporary folder is removed on failure.
fn write_atomically(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if out.exists() {
        return Err(export_err(out, "it already exists (choose a new folder)"));
    }
    let name = out
        .file_name()
        .ok_or_else(|| export_err(out, "not a folder name"))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    let parent = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| export_err(out, e.to_string()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = parent.join(tmp_name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| export_err(&tmp, e.to_string()))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| export_err(&tmp, e.to_string()))?;
    let written = write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, out).map_err(|e| export_err(out, e.to_string())));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written
}
