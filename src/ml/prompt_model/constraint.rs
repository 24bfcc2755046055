//! Constrained decoding: a [`TokenConstraint`] says which tokens a row may
//! produce next, and the sampler only chooses among them (the model's own
//! probabilities, renormalised over the allowed tokens).

use candle_core::{DType, Device, Tensor};
use candle_transformers::generation::LogitsProcessor;

use super::error::{PromptModelError, Result};
use super::generate::SamplingParams;

/// Which tokens a generation row may produce next.
pub trait TokenConstraint {
    /// The token ids row `row` may produce after `tokens` (its answer so
    /// far). `None` lets the model choose freely; an empty list means the
    /// answer is complete (the row stops as if it wrote end-of-text).
    fn allowed(&mut self, row: usize, tokens: &[u32]) -> Option<Vec<u32>>;
}

/// What [`sample_next`] needs of the sampling settings: the sampler and
/// the repeat penalty over the last tokens.
pub(super) struct Sampler<'a> {
    /// The row's sampler (its own seeded random stream).
    processor: &'a mut LogitsProcessor,
    /// Repeat penalty (1 = none).
    repeat_penalty: f32,
    /// How many of the last tokens the penalty looks at.
    repeat_last_n: usize,
}

impl<'a> Sampler<'a> {
    /// `processor` with the repeat penalty of `params`.
    pub fn new(processor: &'a mut LogitsProcessor, params: &SamplingParams) -> Self {
        Self {
            processor,
            repeat_penalty: params.repeat_penalty,
            repeat_last_n: params.repeat_last_n,
        }
    }
}

/// The next token of a row after `tokens`, sampled from `logits` (vocab,)
/// among the tokens `constraint` allows (all without one): `Ok(None)`
/// when the row's answer is complete.
///
/// With a list, only the allowed tokens' logits are gathered (in id
/// order) and sampled: the same probabilities, in the same order, as
/// sampling the whole vocabulary with the others at minus infinity
/// (the test `mask_logits`), so the same seed picks the same tokens, without a
/// softmax and a top-p sort over the whole vocabulary per token.
pub(super) fn sample_next(
    sampler: Sampler<'_>,
    constraint: Option<&mut (dyn TokenConstraint + '_)>,
    row: usize,
    tokens: &[u32],
    logits: &Tensor,
) -> Result<Option<u32>> {
    let context = &tokens[tokens.len().saturating_sub(sampler.repeat_last_n)..];
    let penalty = sampler.repeat_penalty;
    let allowed = match constraint.and_then(|c| c.allowed(row, tokens)) {
        None => {
            let mut logits = logits.clone();
            if penalty != 1.0 && !context.is_empty() {
                logits =
                    candle_transformers::utils::apply_repeat_penalty(&logits, penalty, context)?;
            }
            return Ok(Some(sampler.processor.sample(&logits)?));
        }
        Some(allowed) if allowed.is_empty() => return Ok(None),
        Some(allowed) => allowed,
    };
    let values: Vec<f32> = logits.to_dtype(DType::F32)?.to_vec1()?;
    let mut ids: Vec<u32> = allowed
        .into_iter()
        .filter(|&id| (id as usize) < values.len())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(PromptModelError::Input(
            "the constraint allows no token of the vocabulary".to_string(),
        ));
    }
    let mut gathered: Vec<f32> = ids.iter().map(|&id| values[id as usize]).collect();
    if penalty != 1.0 {
        let mut seen = std::collections::HashSet::new();
        for token in context.iter().filter(|t| seen.insert(**t)) {
            if let Ok(at) = ids.binary_search(token) {
                let logit = &mut gathered[at];
                // As candle's `apply_repeat_penalty`.
                if *logit >= 0.0 {
                    *logit /= penalty;
                } else {
                    *logit *= penalty;
                }
            }
        }
    }
    let count = gathered.len();
    let gathered = Tensor::from_vec(gathered, count, &Device::Cpu)?;
    let at = sampler.processor.sample(&gathered)? as usize;
    Ok(ids.get(at).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn masking_keeps_only_the_allowed_logits() {
        let logits = Tensor::new(&[1.0f32, 2.0, 3.0, 4.0], &Device::Cpu).expect("tensor");
        let masked: Vec<f32> = mask_logits(&logits, &[1, 3, 99])
            .expect("mask")
            .to_vec1()
            .expect("vec");
        assert_eq!(masked[1], 2.0);
        assert_eq!(masked[3], 4.0);
        assert!(masked[0].is_infinite() && masked[0] < 0.0);
        assert!(masked[2].is_infinite() && masked[2] < 0.0);
    }

    /// `logits` (vocab,) with every token outside `allowed` set to minus
    /// infinity. Ids past the vocabulary are ignored.
    fn mask_logits(logits: &Tensor, allowed: &[u32]) -> Result<Tensor> {
        let dtype = logits.dtype();
        let values: Vec<f32> = logits.to_dtype(DType::F32)?.to_vec1()?;
        let mut masked = vec![f32::NEG_INFINITY; values.len()];
        for &id in allowed {
            if let Some(v) = values.get(id as usize) {
                masked[id as usize] = *v;
            }
        }
        Ok(Tensor::from_vec(masked, values.len(), logits.device())?.to_dtype(dtype)?)
    }

    struct Only(Vec<u32>);
    impl TokenConstraint for Only {
        fn allowed(&mut self, _row: usize, tokens: &[u32]) -> Option<Vec<u32>> {
            (tokens.len() < 2)
                .then(|| self.0.clone())
                .or(Some(Vec::new()))
        }
    }

    struct Always(Vec<u32>);
    impl TokenConstraint for Always {
        fn allowed(&mut self, _row: usize, _tokens: &[u32]) -> Option<Vec<u32>> {
            Some(self.0.clone())
        }
    }

    fn sampler(processor: &mut LogitsProcessor, penalty: f32) -> Sampler<'_> {
        Sampler {
            processor,
            repeat_penalty: penalty,
            repeat_last_n: 64,
        }
    }

    #[test]
    fn an_empty_list_ends_the_row() {
        let logits = Tensor::new(&[1.0f32, 2.0], &Device::Cpu).expect("tensor");
        let mut only = Only(vec![0]);
        let mut p = LogitsProcessor::new(1, Some(0.8), None);
        let first = sample_next(sampler(&mut p, 1.0), Some(&mut only), 0, &[], &logits);
        assert_eq!(first.expect("first"), Some(0));
        let done = sample_next(sampler(&mut p, 1.0), Some(&mut only), 0, &[0, 0], &logits);
        assert!(done.expect("done").is_none());
        let mut outside = Only(vec![7]);
        let err = sample_next(sampler(&mut p, 1.0), Some(&mut outside), 0, &[], &logits);
        assert!(err.is_err(), "no allowed token in the vocabulary");
    }

    /// Sampling among the allowed tokens picks, seed for seed, the tokens
    /// the whole masked vocabulary gives (with the repeat penalty, top-p,
    /// plain temperature and greedy), over many random draws.
    #[test]
    fn sampling_the_allowed_tokens_matches_the_masked_vocabulary() {
        use candle_transformers::generation::Sampling;
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(5);
        let vocab = 3000;
        let logits = (rng.tensor(vocab, &Device::Cpu).expect("logits") * 3.0).expect("scale");
        let context: Vec<u32> = vec![5, 17, 17, 250, 2999, 40];
        let modes = [
            Sampling::TopP {
                p: 0.9,
                temperature: 0.8,
            },
            Sampling::All { temperature: 1.0 },
            Sampling::ArgMax,
        ];
        let mut draws = 0;
        for (m, mode) in modes.iter().enumerate() {
            for seed in 0..40u64 {
                // Unsorted, with a duplicate, context tokens and one past
                // the vocabulary.
                let size = 1 + (seed as usize * 7) % 60;
                let mut allowed: Vec<u32> = (0..size)
                    .map(|i| ((seed as usize * 131 + i * 977) % vocab) as u32)
                    .collect();
                allowed.extend([17, 250, allowed[0], vocab as u32 + 3]);
                let mut ours = LogitsProcessor::from_sampling(seed, mode.clone());
                let mut theirs = LogitsProcessor::from_sampling(seed, mode.clone());
                for step in 0..3 {
                    let mut always = Always(allowed.clone());
                    let rule = Some(&mut always as &mut dyn TokenConstraint);
                    let got = sample_next(sampler(&mut ours, 1.3), rule, 0, &context, &logits)
                        .expect("sample")
                        .expect("a token");
                    let masked = mask_logits(&logits, &allowed).expect("mask");
                    let masked =
                        candle_transformers::utils::apply_repeat_penalty(&masked, 1.3, &context)
                            .expect("penalty");
                    let want = theirs.sample(&masked).expect("sample");
                    assert_eq!(got, want, "mode {m}, seed {seed}, step {step}");
                    assert!(allowed.contains(&got));
                    draws += 1;
                }
            }
        }
        assert_eq!(draws, 3 * 40 * 3);
    }
}
