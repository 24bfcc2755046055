//! Throughput measurement of a prompt model (for `adstudio bench prompt-model`).

use std::time::Instant;

use candle_core::Tensor;

use super::error::{PromptModelError, Result};
use super::model::PromptModel;

/// Throughput figures of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Prompt length used.
    pub prompt_tokens: usize,
    /// Prompt processing (prefill) speed, tokens per second.
    pub prompt_tokens_per_sec: f64,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Generation speed (one token per step, with KV cache), tokens per second.
    pub generation_tokens_per_sec: f64,
}

/// Times a prefill of `prompt_tokens` tokens and `generated_tokens` greedy
/// single-token steps (no end-of-text stop), after one warm-up step.
pub fn bench(
    model: &mut PromptModel,
    prompt_tokens: usize,
    generated_tokens: usize,
) -> Result<BenchReport> {
    if prompt_tokens == 0 || generated_tokens == 0 {
        return Err(PromptModelError::Input(
            "benchmark needs at least one prompt and one generated token".to_string(),
        ));
    }
    let text = "The quick brown fox jumps over the lazy dog near a quiet river bank. ";
    let mut ids = Vec::new();
    while ids.len() < prompt_tokens {
        ids.extend(model.tokenizer().encode(text)?);
    }
    ids.truncate(prompt_tokens);
    let decoder = model.decoder_mut();
    let device = decoder.device().clone();
    // Warm-up (weight repacking, allocator).
    decoder.clear_kv_cache();
    decoder.forward(&Tensor::new(&ids[..1], &device)?.unsqueeze(0)?, 0)?;
    decoder.clear_kv_cache();
    let start = Instant::now();
    let mut logits = decoder.forward(&Tensor::new(ids.as_slice(), &device)?.unsqueeze(0)?, 0)?;
    let prefill = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for step in 0..generated_tokens {
        let next = logits
            .argmax(candle_core::D::Minus1)?
            .flatten_all()?
            .to_vec1::<u32>()?;
        let input = Tensor::new(next.as_slice(), &device)?.unsqueeze(0)?;
        logits = decoder.forward(&input, prompt_tokens + step)?;
    }
    let generation = start.elapsed().as_secs_f64();
    decoder.clear_kv_cache();
    Ok(BenchReport {
        prompt_tokens,
        prompt_tokens_per_sec: prompt_tokens as f64 / prefill.max(1e-9),
        generated_tokens,
        generation_tokens_per_sec: generated_tokens as f64 / generation.max(1e-9),
    })
}
