//! Autoregressive generation with greedy or temperature/top-p sampling,
//! streaming decoded text through a callback that can cancel.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::constraint::{sample_next, Sampler, TokenConstraint};
use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::tokenizer::TextTokenizer;

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// Softmax temperature; `0.0` means greedy (arg-max) decoding.
    pub temperature: f64,
    /// Nucleus sampling threshold (`None` or `>= 1.0`: no truncation).
    pub top_p: Option<f64>,
    /// Seed of the sampler (same seed, same output).
    pub seed: u64,
    /// Longest answer in tokens.
    pub max_new_tokens: usize,
    /// Penalty (> 1 discourages) for tokens among the last `repeat_last_n` generated.
    pub repeat_penalty: f32,
    /// Window of the repeat penalty.
    pub repeat_last_n: usize,
}

impl Default for SamplingParams {
    /// Temperature 1.0 (the CAIG setting), top-p 0.95, 64 new tokens, mild repeat penalty.
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: Some(0.95),
            seed: 0,
            max_new_tokens: 64,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
        }
    }
}

impl SamplingParams {
    /// Greedy decoding of at most `max_new_tokens` tokens, no repeat penalty.
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self {
            temperature: 0.0,
            top_p: None,
            seed: 0,
            max_new_tokens,
            repeat_penalty: 1.0,
            repeat_last_n: 0,
        }
    }

    pub(super) fn sampling(&self) -> Sampling {
        if self.temperature <= 1e-7 {
            return Sampling::ArgMax;
        }
        match self.top_p {
            // A nucleus of zero mass keeps only the most likely token
            // (candle's top-p would zero every probability and fail).
            Some(p) if p <= 0.0 => Sampling::ArgMax,
            Some(p) if p < 1.0 => Sampling::TopP {
                p,
                temperature: self.temperature,
            },
            _ => Sampling::All {
                temperature: self.temperature,
            },
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The model produced an end-of-text token.
    EndOfText,
    /// `max_new_tokens` were produced.
    MaxTokens,
    /// The callback asked to stop.
    Cancelled,
}

/// The result of one generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Generated token ids (without the end-of-text token).
    pub token_ids: Vec<u32>,
    /// Decoded text of `token_ids`.
    pub text: String,
    /// Why it stopped.
    pub stop: StopReason,
    /// Number of prompt tokens processed.
    pub prompt_tokens: usize,
    /// Time spent on the prompt (prefill).
    pub prompt_time: Duration,
    /// Time spent producing the new tokens.
    pub generation_time: Duration,
}

/// Keys/values of the last prompt, reused when the next prompt starts with
/// the same tokens (system message and worked examples are shared by every
/// suggestion request, so only the new part is processed).
#[derive(Debug, Clone, Default)]
pub struct PrefixCache {
    ids: Vec<u32>,
    cache: Vec<super::attention::KvCache>,
}

impl PrefixCache {
    /// Number of tokens whose keys/values are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Forgets the cached prompt (needed after the weights or adapters change).
    pub fn clear(&mut self) {
        self.ids.clear();
        self.cache.clear();
    }
}

/// Shortest shared prefix worth reusing.
const MIN_SHARED_PREFIX: usize = 8;

/// Runs the prompt through the decoder, reusing `prefix` when it shares at
/// least [`MIN_SHARED_PREFIX`] leading tokens; returns the last logits.
pub(super) fn prefill(
    decoder: &mut Decoder,
    prompt_ids: &[u32],
    prefix: Option<&mut PrefixCache>,
) -> Result<Tensor> {
    let device = decoder.device().clone();
    decoder.clear_kv_cache();
    let Some(prefix) = prefix else {
        let input = Tensor::new(prompt_ids, &device)?.unsqueeze(0)?;
        return decoder.forward(&input, 0);
    };
    let shared = prefix
        .ids
        .iter()
        .zip(prompt_ids)
        .take_while(|(a, b)| a == b)
        .count()
        .min(prompt_ids.len() - 1);
    let start = if shared >= MIN_SHARED_PREFIX {
        decoder.restore_kv_cache(&prefix.cache, shared)?;
        shared
    } else {
        0
    };
    let input = Tensor::new(&prompt_ids[start..], &device)?.unsqueeze(0)?;
    let logits = decoder.forward(&input, start)?;
    prefix.ids = prompt_ids.to_vec();
    prefix.cache = decoder.kv_cache();
    Ok(logits)
}

/// Generates a continuation of `prompt_ids`. `on_token` receives each new
/// piece of decoded text (pieces are emitted only at UTF-8 boundaries) and
/// returns `ControlFlow::Break(())` to cancel. The KV cache is reset first;
/// with `prefix`, the keys/values of a shared prompt prefix are reused.
pub fn generate(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    prompt_ids: &[u32],
    params: &SamplingParams,
    prefix: Option<&mut PrefixCache>,
    on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation> {
    if prompt_ids.is_empty() {
        return Err(PromptModelError::Input("empty prompt".to_string()));
    }
    let start = Instant::now();
    let logits = prefill(decoder, prompt_ids, prefix)?;
    let prompt_time = start.elapsed();
    let prompt = (logits, prompt_ids.len(), prompt_time);
    decode(decoder, tokenizer, prompt, params, None, on_token)
}

/// Like [`generate`] for a prompt given as input embeddings (1, seq, hidden),
/// e.g. text with projected image features (LLaVA). With `constraint`
/// (and the row index it knows the answer by), only the tokens it allows
/// are sampled.
pub fn generate_from_embeds(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    embeds: &Tensor,
    params: &SamplingParams,
    constraint: Option<(&mut dyn TokenConstraint, usize)>,
    on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation> {
    let prompt = prefill_embeds(decoder, embeds)?;
    generate_prefilled(decoder, tokenizer, &prompt, params, constraint, on_token)
}

/// A prompt already run through the decoder: its last logits (1, vocab),
/// its length and the time that took.
#[derive(Debug, Clone)]
pub struct Prefilled {
    /// Logits of the prompt's last position, (1, vocab).
    pub logits: Tensor,
    /// Prompt positions held in the KV cache.
    pub len: usize,
    /// Time spent on the prompt.
    pub time: Duration,
}

/// Resets the KV cache and runs the prompt embeddings (1, seq, hidden)
/// through the decoder, for [`generate_prefilled`] (several answers can
/// share one prefill: take the cache with [`Decoder::kv_cache`] and restore
/// it before each).
pub fn prefill_embeds(decoder: &mut Decoder, embeds: &Tensor) -> Result<Prefilled> {
    let (b, t, _) = embeds.dims3()?;
    if b != 1 || t == 0 {
        return Err(PromptModelError::Input(format!(
            "generation takes one non-empty prompt, got embeddings {:?}",
            embeds.dims()
        )));
    }
    decoder.clear_kv_cache();
    let start = Instant::now();
    let logits = decoder.forward_embeds(embeds, 0)?;
    Ok(Prefilled {
        logits,
        len: t,
        time: start.elapsed(),
    })
}

/// Samples an answer after `prompt` (from [`prefill_embeds`]); the KV
/// cache must hold exactly the prompt's positions. Constraint as in
/// [`generate_from_embeds`].
pub fn generate_prefilled(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    prompt: &Prefilled,
    params: &SamplingParams,
    constraint: Option<(&mut dyn TokenConstraint, usize)>,
    on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation> {
    let cached = decoder.cached_len();
    if cached != prompt.len {
        return Err(PromptModelError::Input(format!(
            "the KV cache holds {cached} positions, the prompt {}",
            prompt.len
        )));
    }
    let state = (prompt.logits.clone(), prompt.len, prompt.time);
    decode(decoder, tokenizer, state, params, constraint, on_token)
}

/// The token-by-token loop after the prompt: `logits` are the prompt's last
/// logits (1, vocab) and the KV cache holds `prompt_len` positions.
fn decode(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    (mut logits, prompt_len, prompt_time): (Tensor, usize, Duration),
    params: &SamplingParams,
    mut constraint: Option<(&mut dyn TokenConstraint, usize)>,
    on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation> {
    let device = decoder.device().clone();
    let mut sampler = LogitsProcessor::from_sampling(params.seed, params.sampling());
    let start = Instant::now();
    let mut tokens: Vec<u32> = Vec::new();
    let mut emitted = 0usize;
    let mut stop = StopReason::MaxTokens;
    // Generation ends at the model's context length.
    let steps = params
        .max_new_tokens
        .min(decoder.max_positions().saturating_sub(prompt_len));
    for step in 0..steps {
        let (rule, row) = match constraint.as_mut() {
            Some((c, row)) => (Some(&mut **c), *row),
            None => (None, 0),
        };
        let sampling = Sampler::new(&mut sampler, params);
        let Some(next) = sample_next(sampling, rule, row, &tokens, &logits.squeeze(0)?)? else {
            stop = StopReason::EndOfText;
            break;
        };
        if tokenizer.eos_ids().contains(&next) {
            stop = StopReason::EndOfText;
            break;
        }
        tokens.push(next);
        let text = tokenizer.decode(&tokens)?;
        if text.len() > emitted && !text.ends_with('\u{FFFD}') {
            let piece = text.get(emitted..).unwrap_or("");
            let flow = on_token(piece);
            emitted = text.len();
            if flow.is_break() {
                stop = StopReason::Cancelled;
                break;
            }
        }
        if step + 1 == steps {
            break;
        }
        let input = Tensor::new(&[next], &device)?.unsqueeze(0)?;
        logits = decoder.forward(&input, prompt_len + tokens.len() - 1)?;
    }
    let text = tokenizer.decode(&tokens)?;
    Ok(Generation {
        token_ids: tokens,
        text,
        stop,
        prompt_tokens: prompt_len,
        prompt_time,
        generation_time: start.elapsed(),
    })
}
