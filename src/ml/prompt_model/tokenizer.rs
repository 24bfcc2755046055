//! Text tokenizer: `tokenizer.json` through the tokenizers crate, or a
//! byte-level BPE rebuilt from GGUF metadata (tokens, merges, special tokens).

use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use super::error::{PromptModelError, Result};
use super::gguf::GgufFile;

/// Split pattern of Llama 3 style BPE (digits in groups of up to three).
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Split pattern of Qwen2 BPE (single digits).
const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A tokenizer plus the special ids generation needs.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    bos_id: Option<u32>,
    add_bos: bool,
    eos_ids: Vec<u32>,
}

fn tok_err(e: impl std::fmt::Display) -> PromptModelError {
    PromptModelError::Tokenizer(e.to_string())
}

fn split_then_bytes(pattern: &str) -> Result<PreTokenizerWrapper> {
    let split = Split::new(
        SplitPattern::Regex(pattern.to_string()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(tok_err)?;
    Ok(Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, false).into(),
    ])
    .into())
}

/// The pre-tokenizer matching llama.cpp's `tokenizer.ggml.pre` name.
fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper> {
    Ok(match pre {
        "qwen2" | "deepseek-llm" => split_then_bytes(QWEN2_PATTERN)?,
        "llama-bpe" | "llama3" | "smaug-bpe" | "dbrx" => split_then_bytes(LLAMA3_PATTERN)?,
        // SmolLM / StarCoder: digits split one by one, then GPT-2 byte-level.
        "smollm" | "starcoder" | "refact" => Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ])
        .into(),
        "gpt2" | "default" => ByteLevel::new(false, true, true).into(),
        other => {
            log::warn!("unknown GGUF pre-tokenizer `{other}`, using GPT-2 byte-level");
            ByteLevel::new(false, true, true).into()
        }
    })
}

impl TextTokenizer {
    /// Wraps an existing tokenizers-crate tokenizer.
    pub fn from_tokenizer(
        inner: Tokenizer,
        bos_id: Option<u32>,
        add_bos: bool,
        eos_ids: Vec<u32>,
    ) -> Self {
        Self {
            inner,
            bos_id,
            add_bos,
            eos_ids,
        }
    }

    /// Loads a `tokenizer.json`.
    pub fn from_file(
        path: &Path,
        bos_id: Option<u32>,
        add_bos: bool,
        eos_ids: Vec<u32>,
    ) -> Result<Self> {
        let inner = Tokenizer::from_file(path)
            .map_err(|e| PromptModelError::Tokenizer(format!("{}: {e}", path.display())))?;
        Ok(Self {
            inner,
            bos_id,
            add_bos,
            eos_ids,
        })
    }

    /// Builds the BPE tokenizer stored in a GGUF file's metadata
    /// (`tokenizer.ggml.model = gpt2`).
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let meta = file.metadata();
        let model = file
            .meta_str("tokenizer.ggml.model")
            .ok_or_else(|| PromptModelError::MissingTokenizer(file.path().to_path_buf()))?;
        if model != "gpt2" {
            return Err(PromptModelError::Tokenizer(format!(
                "{}: GGUF tokenizer model `{model}` is not supported (only byte-level BPE `gpt2`)",
                file.path().display()
            )));
        }
        let strings = |key: &str| -> Result<Vec<String>> {
            let values = meta
                .get(key)
                .and_then(|v| v.to_vec().ok())
                .ok_or_else(|| tok_err(format!("missing GGUF metadata `{key}`")))?;
            values
                .iter()
                .map(|v| {
                    v.to_string()
                        .cloned()
                        .map_err(|_| tok_err(format!("`{key}` holds a non-string")))
                })
                .collect()
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges = strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| tok_err(format!("malformed merge `{m}`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(tok_err)?;
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(pre_tokenizer(
            file.meta_str("tokenizer.ggml.pre").unwrap_or("gpt2"),
        )?));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let specials: Vec<AddedToken> = match meta
            .get("tokenizer.ggml.token_type")
            .and_then(|v| v.to_vec().ok())
        {
            Some(types) => types
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t.to_i32(), Ok(3) | Ok(4)))
                .filter_map(|(i, _)| tokens.get(i))
                .map(|t| AddedToken::from(t.clone(), true))
                .collect(),
            None => Vec::new(),
        };
        inner.add_special_tokens(&specials);
        let add_bos = meta
            .get("tokenizer.ggml.add_bos_token")
            .and_then(|v| v.to_bool().ok())
            .unwrap_or(false);
        let mut eos_ids: Vec<u32> = file
            .meta_u32("tokenizer.ggml.eos_token_id")
            .into_iter()
            .collect();
        for stop in ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "</s>"] {
            if let Some(id) = inner.token_to_id(stop) {
                if !eos_ids.contains(&id) {
                    eos_ids.push(id);
                }
            }
        }
        Ok(Self {
            inner,
            bos_id: file.meta_u32("tokenizer.ggml.bos_token_id"),
            add_bos,
            eos_ids,
        })
    }

    /// Whether encoding prepends the BOS token.
    pub fn adds_bos(&self) -> bool {
        self.add_bos
    }

    /// The underlying tokenizers-crate tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// Token ids that end a generation.
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }

    /// Adds a token id that ends a generation.
    pub fn add_eos_id(&mut self, id: u32) {
        if !self.eos_ids.contains(&id) {
            self.eos_ids.push(id);
        }
    }

    /// Id of a (special) token string.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Encodes `text` (special-token strings in it are recognised); prepends
    /// BOS when the model asks for it and `text` does not already start with it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, false).map_err(tok_err)?;
        let mut ids = enc.get_ids().to_vec();
        if let (true, Some(bos)) = (self.add_bos, self.bos_id) {
            if ids.first() != Some(&bos) {
                ids.insert(0, bos);
            }
        }
        Ok(ids)
    }

    /// Number of tokens of `text` without BOS/EOS.
    pub fn count(&self, text: &str) -> Result<usize> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(tok_err)?
            .get_ids()
            .len())
    }

    /// Decodes ids, dropping special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(tok_err)
    }
}
