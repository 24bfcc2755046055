//! Log-probabilities of completions: `log p(y | x) = sum_t log p(y_t | x, y_<t)`,
//! the quantity DPO and PCPO compare.

use std::ops::Range;

use candle_core::{DType, Tensor, D};

use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::ops;

/// Per-token log-probabilities of `ids[:, 1..]` under `logits[:, ..-1]`:
/// (batch, seq, vocab) logits and (batch, seq) ids -> (batch, seq - 1).
pub fn token_logprobs(logits: &Tensor, ids: &Tensor) -> Result<Tensor> {
    let (b, t, _) = logits.dims3()?;
    let (ib, it) = ids.dims2()?;
    if (b, t) != (ib, it) || t < 2 {
        return Err(PromptModelError::Input(format!(
            "logits {:?} and ids {:?} must share (batch, seq >= 2)",
            logits.dims(),
            ids.dims()
        )));
    }
    let logp = ops::log_softmax_last_dim(&logits.narrow(1, 0, t - 1)?)?;
    let targets = ids
        .narrow(1, 1, t - 1)?
        .to_dtype(DType::U32)?
        .unsqueeze(D::Minus1)?;
    Ok(logp
        .gather(&targets.contiguous()?, D::Minus1)?
        .squeeze(D::Minus1)?)
}

/// Sums of the log-probabilities of the tokens at positions `spans[i]` of row
/// `i` (a position `p` is predicted from the logits at `p - 1`, so spans must
/// start at 1 or later). Returns (batch,); differentiable through LoRA vars.
pub fn completion_logprob_sums(
    decoder: &Decoder,
    ids: &Tensor,
    spans: &[Range<usize>],
) -> Result<Tensor> {
    completion_logprob_sums_from_embeds(decoder, &decoder.embed(ids)?, ids, spans)
}

/// [`completion_logprob_sums`] with the decoder's input given as embeddings
/// (batch, seq, hidden) — e.g. with image features in place of image tokens;
/// `ids` (batch, seq) give the scored tokens.
pub fn completion_logprob_sums_from_embeds(
    decoder: &Decoder,
    embeds: &Tensor,
    ids: &Tensor,
    spans: &[Range<usize>],
) -> Result<Tensor> {
    let (b, t) = ids.dims2()?;
    if spans.len() != b {
        return Err(PromptModelError::Input(format!(
            "{} completion spans for a batch of {b}",
            spans.len()
        )));
    }
    if t < 2 {
        return Err(PromptModelError::Input(format!(
            "sequences of {t} tokens have no completion to score"
        )));
    }
    let mut mask = vec![0f32; b * (t - 1)];
    for (row, span) in spans.iter().enumerate() {
        if span.start == 0 || span.end > t || span.start >= span.end {
            return Err(PromptModelError::Input(format!(
                "completion span {span:?} of row {row} is outside 1..{t} or empty"
            )));
        }
        for p in span.clone() {
            mask[row * (t - 1) + p - 1] = 1.0;
        }
    }
    let logits = decoder.logits_from_embeds(embeds)?;
    let per_token = token_logprobs(&logits, ids)?;
    let mask = Tensor::from_vec(mask, (b, t - 1), ids.device())?;
    Ok((per_token * mask)?.sum(1)?)
}
