//! Sentence embeddings with all-MiniLM-L6-v2, for the relevance of a
//! suggested background to its product.
//!
//! The model is a 6-layer BERT encoder (candle-transformers' `bert`)
//! followed by sentence-transformers' pooling: the mean of the token states
//! weighted by the attention mask, then L2 normalisation. The folder's
//! `tokenizer.json` pads every text to 128 tokens; padding positions are
//! masked out of both the attention and the mean, so an embedding does not
//! depend on the batch it was computed in.
//!
//! A model folder holds `config.json`, `tokenizer.json` and
//! `model.safetensors` (or shards listed in `model.safetensors.index.json`);
//! `sentence_bert_config.json` is optional and sets the token limit
//! (sentence-transformers' `max_seq_length`, 256 for this model).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor, D};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

use crate::ml::json::{read_json, read_json_optional, JsonError};
use crate::ml::weights::{mmap_var_builder, safetensors_files, WeightsError};

/// Tokens per text when the folder has no `sentence_bert_config.json`:
/// sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2.
pub const DEFAULT_MAX_SEQ_LEN: usize = 256;

/// Texts encoded in one forward pass by [`RelevanceModel::embed`]; longer
/// lists are split (bounds memory: 32 x 256 tokens x 384 floats per layer).
pub const BATCH_SIZE: usize = 32;

/// A relevance model that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum RelevanceError {
    /// `config.json` (or `sentence_bert_config.json`) is missing or invalid.
    #[error(transparent)]
    Config(#[from] JsonError),
    /// A weight file is missing or unreadable.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The encoder's tensors do not fit the configuration (the message names
    /// the weight file and the tensor).
    #[error("cannot build the BERT encoder from {dir}: {source}")]
    Encoder {
        /// The model folder.
        dir: PathBuf,
        /// The underlying error, naming file and tensor.
        #[source]
        source: candle_core::Error,
    },
    /// `tokenizer.json` is missing or invalid.
    #[error("cannot use tokenizer {path}: {detail}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A text could not be tokenized.
    #[error("cannot tokenize the texts: {detail}")]
    Tokenize {
        /// What went wrong.
        detail: String,
    },
    /// The forward pass failed.
    #[error("embedding failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// The part of `sentence_bert_config.json` that matters here.
#[derive(Debug, serde::Deserialize)]
struct SentenceBertConfig {
    max_seq_length: usize,
}

/// all-MiniLM-L6-v2 (or any BERT sentence encoder with mean pooling),
/// loaded from a folder.
pub struct RelevanceModel {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    hidden_size: usize,
    max_seq_len: usize,
    /// Embeddings already computed, by text (the scene library, the
    /// category kinds and titles are embedded again on every request).
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

/// Texts whose embeddings are kept; the cache is emptied when full.
pub const CACHE_LIMIT: usize = 16_384;

impl RelevanceModel {
    /// Loads the model in `dir` (see the module docs for the files) onto
    /// `device`, in f32.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, RelevanceError> {
        let config: Config = read_json(&dir.join("config.json"))?;
        let max_seq_len =
            read_json_optional::<SentenceBertConfig>(&dir.join("sentence_bert_config.json"))
                .map_or(DEFAULT_MAX_SEQ_LEN, |c| c.max_seq_length)
                .min(config.max_position_embeddings);
        let tokenizer = load_tokenizer(&dir.join("tokenizer.json"), max_seq_len)?;
        let files = weight_files(dir)?;
        let vb = mmap_var_builder(&files, DType::F32, device)?;
        let bert = BertModel::load(vb, &config).map_err(|source| RelevanceError::Encoder {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(Self {
            bert,
            tokenizer,
            device: device.clone(),
            hidden_size: config.hidden_size,
            max_seq_len,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The length of an embedding (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.hidden_size
    }

    /// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are cut.
    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    /// The L2-normalised sentence embedding of each text, in order (batched
    /// by [`BATCH_SIZE`]). An empty text embeds as `[CLS] [SEP]`.
    ///
    /// Embeddings are cached by text (at most [`CACHE_LIMIT`] texts): a
    /// text seen before is not embedded again.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, RelevanceError> {
        let mut out: Vec<Option<Vec<f32>>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            texts.iter().map(|t| cache.get(*t).cloned()).collect()
        };
        let mut missing: Vec<&str> = texts
            .iter()
            .zip(&out)
            .filter(|(_, e)| e.is_none())
            .map(|(t, _)| *t)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut computed: HashMap<&str, Vec<f32>> = HashMap::with_capacity(missing.len());
        for chunk in missing.chunks(BATCH_SIZE) {
            computed.extend(chunk.iter().copied().zip(self.embed_batch(chunk)?));
        }
        for (slot, text) in out.iter_mut().zip(texts) {
            if slot.is_none() {
                *slot = computed.get(text).cloned();
            }
        }
        self.remember(computed);
        out.into_iter()
            .map(|e| {
                e.ok_or_else(|| RelevanceError::Tokenize {
                    detail: "a text came back without an embedding".to_string(),
                })
            })
            .collect()
    }

    /// Adds embeddings to the cache (emptied first when it would pass
    /// [`CACHE_LIMIT`]).
    fn remember(&self, computed: HashMap<&str, Vec<f32>>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + computed.len() > CACHE_LIMIT {
            cache.clear();
        }
        for (text, embedding) in computed.into_iter().take(CACHE_LIMIT) {
            cache.insert(text.to_string(), embedding);
        }
    }

    /// Forgets every cached embedding.
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// How many texts' embeddings are cached.
    pub fn cached(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The embedding of one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, RelevanceError> {
        let mut all = self.embed(&[text])?;
        all.pop().ok_or_else(|| RelevanceError::Tokenize {
            detail: "no embedding came back".to_string(),
        })
    }

    /// How well `suggestion` (e.g. a background description) fits
    /// `product_text` (e.g. the product title): the cosine of their
    /// embeddings, in [-1, 1]; higher is more related.
    pub fn relevance(&self, suggestion: &str, product_text: &str) -> Result<f32, RelevanceError> {
        let e = self.embed(&[suggestion, product_text])?;
        match e.as_slice() {
            [a, b] => Ok(cosine(a, b)),
            _ => Err(RelevanceError::Tokenize {
                detail: format!("expected 2 embeddings, got {}", e.len()),
            }),
        }
    }

    /// One forward pass over `texts` (at most [`BATCH_SIZE`]).
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, RelevanceError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, mask) = self.tokenize(texts)?;
        let type_ids = ids.zeros_like()?;
        let states = self.bert.forward(&ids, &type_ids, Some(&mask))?;
        let pooled = mean_pool(&states, &mask)?;
        Ok(l2_normalize(&pooled)?.to_vec2::<f32>()?)
    }

    /// Token ids and attention mask, both `[batch, tokens]` u32.
    fn tokenize(&self, texts: &[&str]) -> Result<(Tensor, Tensor), RelevanceError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| RelevanceError::Tokenize {
                detail: e.to_string(),
            })?;
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(texts.len() * len);
        let mut mask = Vec::with_capacity(texts.len() * len);
        for e in &encodings {
            if e.len() != len {
                return Err(RelevanceError::Tokenize {
                    detail: format!("unpadded encoding of {} tokens (batch: {len})", e.len()),
                });
            }
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let shape = (encodings.len(), len);
        Ok((
            Tensor::from_vec(ids, shape, &self.device)?,
            Tensor::from_vec(mask, shape, &self.device)?,
        ))
    }
}

/// The folder's weights: `model.safetensors` or its shard index, else
/// every `*.safetensors` file in it (sorted).
fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, WeightsError> {
    match safetensors_files(dir) {
        Err(WeightsError::Missing { path }) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            p.is_file() && p.extension().is_some_and(|x| x == "safetensors")
                        })
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            if files.is_empty() {
                Err(WeightsError::Missing { path })
            } else {
                Ok(files)
            }
        }
        other => other,
    }
}

/// Reads `tokenizer.json` and sets sentence-transformers' behaviour: cut at
/// `max_len` tokens, pad to the longest text of the batch (the file's own
/// settings, 128 tokens either way, are replaced; padding is masked out).
fn load_tokenizer(path: &Path, max_len: usize) -> Result<Tokenizer, RelevanceError> {
    let bad = |detail: String| RelevanceError::Tokenizer {
        path: path.to_path_buf(),
        detail,
    };
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| bad(e.to_string()))?;
    let (pad_id, pad_type_id, pad_token) = tokenizer.get_padding().map_or_else(
        || (0, 0, "[PAD]".to_string()),
        |p| (p.pad_id, p.pad_type_id, p.pad_token.clone()),
    );
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(|e| bad(e.to_string()))?;
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        direction: PaddingDirection::Right,
        pad_to_multiple_of: None,
        pad_id,
        pad_type_id,
        pad_token,
    }));
    Ok(tokenizer)
}

/// The mean of `states` (`[batch, tokens, hidden]`) over the tokens whose
/// `mask` (`[batch, tokens]`) is 1: `[batch, hidden]`.
pub fn mean_pool(states: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(states.dtype())?.unsqueeze(D::Minus1)?;
    let summed = states.broadcast_mul(&mask)?.sum(1)?;
    // sentence-transformers clamps the token count at 1e-9.
    let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
    summed.broadcast_div(&counts)
}

/// Each row of `x` (`[batch, hidden]`) divided by its L2 norm (at least
/// 1e-12, as `torch.nn.functional.normalize`).
pub fn l2_normalize(x: &Tensor) -> candle_core::Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    x.broadcast_div(&norm)
}

/// The cosine similarity of two vectors (0 when either is all zeros or the
/// lengths differ); for normalised embeddings it is their dot product.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-7);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-7);
        assert!((cosine(&[1.0, 1.0], &[-2.0, -2.0]) + 1.0).abs() < 1e-7);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn mean_pool_ignores_masked_tokens_and_normalize_gives_unit_rows() {
        let states = Tensor::new(&[[[1f32, 2.0], [3.0, 4.0], [100.0, -100.0]]], &Device::Cpu)
            .expect("states");
        let mask = Tensor::new(&[[1u32, 1, 0]], &Device::Cpu).expect("mask");
        let pooled = mean_pool(&states, &mask).expect("pool");
        assert_eq!(pooled.to_vec2::<f32>().expect("vec"), vec![vec![2.0, 3.0]]);
        let unit = l2_normalize(&pooled).expect("norm");
        let row = &unit.to_vec2::<f32>().expect("vec")[0];
        let n: f32 = row.iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-6, "{row:?}");
        assert!((row[0] / row[1] - 2.0 / 3.0).abs() < 1e-6, "{row:?}");
    }

    #[test]
    fn a_folder_without_config_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = RelevanceModel::load(dir.path(), &Device::Cpu)
            .err()
            .expect("empty folder")
            .to_string();
        assert!(err.contains("config.json"), "{err}");
    }

    #[test]
    fn a_missing_tokenizer_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1,
                "num_attention_heads": 1, "intermediate_size": 8, "hidden_act": "gelu",
                "hidden_dropout_prob": 0.0, "max_position_embeddings": 16,
                "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
                "pad_token_id": 0}"#,
        )
        .expect("write");
        let err = RelevanceModel::load(dir.path(), &Device::Cpu)
            .err()
            .expect("no tokenizer")
            .to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
    }
}
