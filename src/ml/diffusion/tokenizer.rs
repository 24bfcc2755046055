//! The CLIP BPE tokenizer with Hugging Face `CLIPTokenizer` padding and
//! truncation (77 tokens, start and end tokens kept).

use std::path::Path;

use super::error::{DiffusionError, Result};

/// Start-of-text token of CLIP's vocabulary.
const BOS_TOKEN: &str = "<|startoftext|>";
/// End-of-text token of CLIP's vocabulary.
const EOS_TOKEN: &str = "<|endoftext|>";

/// The ids of one prompt, padded or truncated to the model's context length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedPrompt {
    /// Exactly `max_len` ids: start token, prompt tokens, end token, padding.
    pub ids: Vec<u32>,
    /// Number of ids (start and end tokens included) before truncation.
    pub untruncated_len: usize,
    /// How many prompt tokens were cut off (0 when the prompt fits).
    pub truncated_tokens: usize,
}

impl TokenizedPrompt {
    /// Whether the prompt was longer than the context and got truncated.
    pub fn was_truncated(&self) -> bool {
        self.truncated_tokens > 0
    }
}

/// CLIP tokenizer backed by a `tokenizer.json`.
pub struct ClipTokenizer {
    inner: tokenizers::Tokenizer,
    bos_id: u32,
    eos_id: u32,
    pad_id: u32,
    max_len: usize,
}

impl std::fmt::Debug for ClipTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipTokenizer")
            .field("bos_id", &self.bos_id)
            .field("eos_id", &self.eos_id)
            .field("pad_id", &self.pad_id)
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl ClipTokenizer {
    /// The context length of Stable Diffusion 1.x text encoders.
    pub const DEFAULT_MAX_LEN: usize = 77;

    /// Loads `tokenizer.json`. The padding token is read from a
    /// `tokenizer_config.json` next to it when present (SD 2 pads with `!`),
    /// otherwise it is the end token, as in SD 1.x.
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner =
            tokenizers::Tokenizer::from_file(path).map_err(|e| DiffusionError::Tokenizer {
                context: path.display().to_string(),
                message: e.to_string(),
            })?;
        let config = path
            .parent()
            .map(|d| d.join("tokenizer_config.json"))
            .unwrap_or_default();
        Self::from_tokenizer(inner, &config, path)
    }

    fn from_tokenizer(inner: tokenizers::Tokenizer, config: &Path, source: &Path) -> Result<Self> {
        let id = |token: &str| {
            inner
                .token_to_id(token)
                .ok_or_else(|| DiffusionError::Tokenizer {
                    context: source.display().to_string(),
                    message: format!("vocabulary has no {token} token"),
                })
        };
        let bos_id = id(BOS_TOKEN)?;
        let eos_id = id(EOS_TOKEN)?;
        let pad_id = if config.is_file() {
            let value: serde_json::Value = crate::ml::json::read_json(config)?;
            match pad_token_name(&value) {
                Some(name) => id(&name)?,
                None => eos_id,
            }
        } else {
            eos_id
        };
        Ok(Self {
            inner,
            bos_id,
            eos_id,
            pad_id,
            max_len: Self::DEFAULT_MAX_LEN,
        })
    }

    /// Loads a diffusers `tokenizer/` folder: `tokenizer.json` when present,
    /// else the `vocab.json` + `merges.txt` pair that SD repositories ship,
    /// assembled into the same pipeline Hugging Face's `CLIPTokenizerFast`
    /// builds (NFC, whitespace collapsing, lowercasing, CLIP's split regex,
    /// byte-level BPE with `</w>` word ends).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let json = dir.join("tokenizer.json");
        if json.is_file() {
            return Self::from_file(&json);
        }
        let vocab_path = dir.join("vocab.json");
        let merges_path = dir.join("merges.txt");
        let vocab: serde_json::Value = crate::ml::json::read_json(&vocab_path)?;
        let merges_text =
            std::fs::read_to_string(&merges_path).map_err(|source| DiffusionError::Io {
                path: merges_path.clone(),
                source,
            })?;
        let inner = build_from_vocab_merges(vocab, &merges_text).map_err(|message| {
            DiffusionError::Tokenizer {
                context: dir.display().to_string(),
                message,
            }
        })?;
        Self::from_tokenizer(inner, dir.join("tokenizer_config.json").as_path(), dir)
    }

    /// Builds the tokenizer from an in-memory `vocab.json` value and
    /// `merges.txt` text (padding with the end token).
    pub fn from_vocab_merges(vocab: serde_json::Value, merges: &str) -> Result<Self> {
        let inner = build_from_vocab_merges(vocab, merges).map_err(|message| {
            DiffusionError::Tokenizer {
                context: "in-memory vocabulary".into(),
                message,
            }
        })?;
        Self::from_tokenizer(inner, Path::new(""), Path::new("<memory>"))
    }

    /// Sets the context length (77 for every SD 1.x/2.x text encoder).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(2);
        self
    }

    /// The context length.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The padding token id.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Tokenizes a prompt: `[start, tokens..., end, pad...]`, exactly
    /// `max_len` ids. A prompt that does not fit is cut so the end token
    /// stays last; `truncated_tokens` says how many tokens were dropped.
    pub fn encode(&self, prompt: &str) -> Result<TokenizedPrompt> {
        let encoding = self
            .inner
            .encode(prompt, false)
            .map_err(|e| DiffusionError::Tokenizer {
                context: format!("prompt {prompt:?}"),
                message: e.to_string(),
            })?;
        let body = encoding.get_ids();
        let room = self.max_len - 2;
        let kept = body.len().min(room);
        let mut ids = Vec::with_capacity(self.max_len);
        ids.push(self.bos_id);
        ids.extend_from_slice(&body[..kept]);
        ids.push(self.eos_id);
        ids.resize(self.max_len, self.pad_id);
        Ok(TokenizedPrompt {
            ids,
            untruncated_len: body.len() + 2,
            truncated_tokens: body.len() - kept,
        })
    }
}

/// The padding token's text in a `tokenizer_config.json` (a string or an
/// `AddedToken` object).
fn pad_token_name(config: &serde_json::Value) -> Option<String> {
    match config.get("pad_token")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Builds CLIP's tokenizer pipeline around a BPE vocabulary and merge list.
fn build_from_vocab_merges(
    vocab: serde_json::Value,
    merges_text: &str,
) -> std::result::Result<tokenizers::Tokenizer, String> {
    let id_of = |token: &str| {
        vocab
            .get(token)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("vocab.json has no {token}"))
    };
    let (bos, eos) = (id_of(BOS_TOKEN)?, id_of(EOS_TOKEN)?);
    let merges: Vec<&str> = merges_text
        .lines()
        .filter(|l| !l.starts_with("#version") && !l.trim().is_empty())
        .collect();
    let special = |id: u64, content: &str| {
        serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true})
    };
    let spec = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [special(bos, BOS_TOKEN), special(eos, EOS_TOKEN)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_SPLIT_REGEX}, "behavior": "Removed", "invert": true},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOS_TOKEN, eos], "cls": [BOS_TOKEN, bos],
            "trim_offsets": false, "add_prefix_space": false},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": EOS_TOKEN, "continuing_subword_prefix": "",
            "end_of_word_suffix": "</w>", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges}
    });
    tokenizers::Tokenizer::from_bytes(spec.to_string().as_bytes()).map_err(|e| e.to_string())
}

/// CLIP's pre-tokenisation pattern (contractions, letter runs, single
/// digits, other symbol runs).
const CLIP_SPLIT_REGEX: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";
