//! Batched sampling: several answers to one prompt decoded side by side.
//! The prompt is processed once; its keys/values are copied for every row,
//! and each decoding step runs all unfinished rows through the decoder as
//! one batch (finished rows are dropped from the batch).

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;

use super::attention::KvCache;
use super::constraint::{sample_next, Sampler, TokenConstraint};
use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::generate::{prefill, Generation, PrefixCache, SamplingParams, StopReason};
use super::tokenizer::TextTokenizer;

/// What the token callback of a batched generation says about its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFlow {
    /// Keep generating this row.
    Continue,
    /// This row's answer is complete (it stops with [`StopReason::EndOfText`]).
    Finish,
    /// Stop every row (each ends with [`StopReason::Cancelled`]).
    Cancel,
}

/// One row being decoded.
struct Row {
    sampler: LogitsProcessor,
    tokens: Vec<u32>,
    emitted: usize,
    stop: Option<StopReason>,
}

/// Samples `rows` answers to `prompt_ids`, row `r` with seed
/// `params.seed + r`. `on_token(row, piece)` receives each row's new text
/// (at UTF-8 boundaries). With `prefix`, a shared prompt prefix is reused.
/// With `constraint`, each row samples only among the tokens it allows.
#[allow(clippy::too_many_arguments)]
pub fn generate_batch(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    prompt_ids: &[u32],
    params: &SamplingParams,
    rows: usize,
    prefix: Option<&mut PrefixCache>,
    constraint: Option<&mut dyn TokenConstraint>,
    on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
) -> Result<Vec<Generation>> {
    if prompt_ids.is_empty() {
        return Err(PromptModelError::Input("empty prompt".to_string()));
    }
    if rows == 0 {
        return Ok(Vec::new());
    }
    let start = Instant::now();
    let logits = prefill(decoder, prompt_ids, prefix)?.squeeze(0)?;
    let prompt_time = start.elapsed();
    let expanded = repeat_cache(&decoder.kv_cache(), rows)?;
    decoder.restore_kv_cache(&expanded, prompt_ids.len())?;
    let mut state: Vec<Row> = (0..rows)
        .map(|r| Row {
            sampler: LogitsProcessor::from_sampling(
                params.seed.wrapping_add(r as u64),
                params.sampling(),
            ),
            tokens: Vec::new(),
            emitted: 0,
            stop: None,
        })
        .collect();
    let started = Instant::now();
    let logits: Vec<Tensor> = vec![logits; rows];
    decode_rows(
        decoder,
        tokenizer,
        &mut state,
        (logits, prompt_ids.len()),
        params,
        constraint,
        on_token,
    )?;
    let generation_time = started.elapsed();
    decoder.clear_kv_cache();
    state
        .into_iter()
        .map(|row| {
            Ok(Generation {
                text: tokenizer.decode(&row.tokens)?,
                token_ids: row.tokens,
                stop: row.stop.unwrap_or(StopReason::MaxTokens),
                prompt_tokens: prompt_ids.len(),
                prompt_time,
                generation_time,
            })
        })
        .collect()
}

/// The decoding loop: `logits[i]` are the next-token logits of active row
/// `i` (all rows active at first); the decoder's cache holds `prompt_len`
/// positions for each of them.
fn decode_rows(
    decoder: &mut Decoder,
    tokenizer: &TextTokenizer,
    state: &mut [Row],
    (mut logits, prompt_len): (Vec<Tensor>, usize),
    params: &SamplingParams,
    mut constraint: Option<&mut dyn TokenConstraint>,
    on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
) -> Result<()> {
    let device = decoder.device().clone();
    let mut active: Vec<usize> = (0..state.len()).collect();
    // Generation ends at the model's context length.
    let steps = params
        .max_new_tokens
        .min(decoder.max_positions().saturating_sub(prompt_len));
    for step in 0..steps {
        let mut next_ids = Vec::with_capacity(active.len());
        let mut cancelled = false;
        for (i, &r) in active.iter().enumerate() {
            let row_step = RowStep {
                index: r,
                tokenizer,
                params,
                constraint: constraint.as_deref_mut(),
            };
            let flow = step_row(&mut state[r], &logits[i], row_step, on_token)?;
            cancelled |= flow == RowFlow::Cancel;
            next_ids.push(state[r].tokens.last().copied().unwrap_or(0));
        }
        if cancelled {
            for row in state.iter_mut() {
                row.stop = Some(StopReason::Cancelled);
            }
            return Ok(());
        }
        let keep: Vec<usize> = (0..active.len())
            .filter(|&i| state[active[i]].stop.is_none())
            .collect();
        if keep.is_empty() || step + 1 == steps {
            break;
        }
        if keep.len() < active.len() {
            let kept_cache = select_rows(&decoder.kv_cache(), &keep, &device)?;
            decoder.restore_kv_cache(&kept_cache, decoder.cached_len())?;
        }
        let ids: Vec<u32> = keep.iter().map(|&i| next_ids[i]).collect();
        active = keep.iter().map(|&i| active[i]).collect();
        let input = Tensor::new(ids.as_slice(), &device)?.unsqueeze(1)?;
        let out = decoder.forward(&input, prompt_len + step)?;
        logits = (0..active.len())
            .map(|i| out.get(i))
            .collect::<candle_core::Result<_>>()?;
    }
    Ok(())
}

/// What one sampling step of a row needs besides the row itself.
struct RowStep<'a, 'c> {
    index: usize,
    tokenizer: &'a TextTokenizer,
    params: &'a SamplingParams,
    constraint: Option<&'a mut (dyn TokenConstraint + 'c)>,
}

/// Samples one token for `row` from its logits (among the tokens the
/// constraint allows), streams the new text and applies the callback's
/// verdict. Returns that verdict.
fn step_row(
    row: &mut Row,
    logits: &Tensor,
    step: RowStep<'_, '_>,
    on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
) -> Result<RowFlow> {
    let RowStep {
        index,
        tokenizer,
        params,
        constraint,
    } = step;
    let sampler = Sampler::new(&mut row.sampler, params);
    let Some(next) = sample_next(sampler, constraint, index, &row.tokens, logits)? else {
        row.stop = Some(StopReason::EndOfText);
        return Ok(RowFlow::Finish);
    };
    if tokenizer.eos_ids().contains(&next) {
        row.stop = Some(StopReason::EndOfText);
        return Ok(RowFlow::Finish);
    }
    row.tokens.push(next);
    let text = tokenizer.decode(&row.tokens)?;
    if text.len() > row.emitted && !text.ends_with('\u{FFFD}') {
        let piece = text.get(row.emitted..).unwrap_or("");
        let flow = on_token(index, piece);
        row.emitted = text.len();
        if flow == RowFlow::Finish {
            row.stop = Some(StopReason::EndOfText);
        }
        return Ok(flow);
    }
    Ok(RowFlow::Continue)
}

/// The cache with every tensor repeated `rows` times along the batch axis.
fn repeat_cache(cache: &[KvCache], rows: usize) -> Result<Vec<KvCache>> {
    cache
        .iter()
        .map(|slot| match slot {
            Some((k, v)) => Ok(Some((
                k.repeat((rows, 1, 1, 1))?,
                v.repeat((rows, 1, 1, 1))?,
            ))),
            None => Ok(None),
        })
        .collect()
}

/// The cache keeping only the batch rows `keep` (indices into the batch).
fn select_rows(cache: &[KvCache], keep: &[usize], device: &Device) -> Result<Vec<KvCache>> {
    let ids: Vec<u32> = keep.iter().map(|&i| i as u32).collect();
    let ids = Tensor::new(ids.as_slice(), device)?;
    cache
        .iter()
        .map(|slot| match slot {
            Some((k, v)) => Ok(Some((
                k.index_select(&ids, 0)?.contiguous()?,
                v.index_select(&ids, 0)?.contiguous()?,
            ))),
            None => Ok(None),
        })
        .collect()
}
