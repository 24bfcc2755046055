//! Constrained decoding: a [`TokenConstraint`] says which tokens a row may
//! produce next, and the sampler only chooses among them (the model's own
//! probabilities, renormalised over the allowed tokens).

use candle_core::{DType, Tensor};

use super::error::Result;

/// Which tokens a generation row may produce next.
pub trait TokenConstraint {
    /// The token ids row `row` may produce after `tokens` (its answer so
    /// far). `None` lets the model choose freely; an empty list means the
    /// answer is complete (the row stops as if it wrote end-of-text).
    fn allowed(&mut self, row: usize, tokens: &[u32]) -> Option<Vec<u32>>;
}

/// `logits` (vocab,) with every token outside `allowed` set to minus
/// infinity. Ids past the vocabulary are ignored.
pub fn mask_logits(logits: &Tensor, allowed: &[u32]) -> Result<Tensor> {
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

/// The allowed tokens for one row, applied to its logits: `Ok(None)` when
/// the row's answer is complete.
pub(super) fn constrain(
    constraint: Option<&mut (dyn TokenConstraint + '_)>,
    row: usize,
    tokens: &[u32],
    logits: Tensor,
) -> Result<Option<Tensor>> {
    let Some(constraint) = constraint else {
        return Ok(Some(logits));
    };
    match constraint.allowed(row, tokens) {
        None => Ok(Some(logits)),
        Some(allowed) if allowed.is_empty() => Ok(None),
        Some(allowed) => Ok(Some(mask_logits(&logits, &allowed)?)),
    }
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

    struct Only(Vec<u32>);
    impl TokenConstraint for Only {
        fn allowed(&mut self, _row: usize, tokens: &[u32]) -> Option<Vec<u32>> {
            (tokens.len() < 2)
                .then(|| self.0.clone())
                .or(Some(Vec::new()))
        }
    }

    #[test]
    fn an_empty_list_ends_the_row() {
        let logits = Tensor::new(&[1.0f32, 2.0], &Device::Cpu).expect("tensor");
        let mut only = Only(vec![0]);
        let first = constrain(Some(&mut only), 0, &[], logits.clone()).expect("first");
        assert!(first.is_some());
        let done = constrain(Some(&mut only), 0, &[0, 0], logits).expect("done");
        assert!(done.is_none());
    }
}
