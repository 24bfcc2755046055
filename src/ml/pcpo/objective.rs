//! One mini-batch of the PCPO objective: policy and reference log-probability
//! sums of the chosen, rejected and corrupted sequences, the losses and the
//! batch's metric sums.
//!
//! The reference policy is the same decoder with its adapters switched off:
//! no second copy of the weights. Its scores are detached from the graph.

use candle_core::Tensor;
use rand::Rng;

use super::corrupt::{corrupt_text, CorruptedPrompt};
use super::data::{pad_batch, Sequence, TrainingSet};
use super::error::{PcpoError, Result};
use super::loss::{combined_loss, MetricSums, PairLogps};
use crate::ml::prompt_model::{completion_logprob_sums, Decoder};

/// The sequences of a mini-batch: row `i` of each list belongs to pair `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairBatch {
    /// Product prompt + chosen answer.
    pub chosen: Vec<Sequence>,
    /// Product prompt + rejected answer.
    pub rejected: Vec<Sequence>,
    /// Corrupted prompt + the same chosen answer.
    pub corrupted: Vec<Sequence>,
}

impl PairBatch {
    /// The batch of pairs `indices` of `set`, drawing each pair's corrupted
    /// condition from `rng` (in index order).
    pub fn build<R: Rng>(
        set: &TrainingSet,
        indices: &[usize],
        mask_id: u32,
        rng: &mut R,
    ) -> Result<Self> {
        let mut batch = PairBatch {
            chosen: Vec::new(),
            rejected: Vec::new(),
            corrupted: Vec::new(),
        };
        for &i in indices {
            let pair = set
                .pairs
                .get(i)
                .ok_or_else(|| PcpoError::Data(format!("pair {i} of {}", set.pairs.len())))?;
            let product = set.products.get(pair.product).ok_or_else(|| {
                PcpoError::Data(format!("pair {i} names a missing product {}", pair.product))
            })?;
            let CorruptedPrompt { ids, .. } =
                corrupt_text(&set.products, pair.product, mask_id, rng)?;
            batch
                .chosen
                .push(Sequence::new(&product.ids, &pair.chosen)?);
            batch
                .rejected
                .push(Sequence::new(&product.ids, &pair.rejected)?);
            batch.corrupted.push(Sequence::new(&ids, &pair.chosen)?);
        }
        Ok(batch)
    }

    /// Pairs in the batch.
    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    /// Whether the batch has no pair.
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }
}

/// The loss of a mini-batch (a scalar with a graph back to the adapters) and
/// its metric sums.
#[derive(Debug)]
pub struct Objective {
    /// `mean(L_DPO + weight * L_PCPO)`.
    pub loss: Tensor,
    /// Per-pair DPO losses, (batch,).
    pub dpo: Tensor,
    /// Per-pair PCPO losses, (batch,); `None` when `weight == 0`.
    pub pcpo: Option<Tensor>,
    /// Sums for the epoch's means.
    pub metrics: MetricSums,
}

/// Log-probability sums of `rows` under the policy (adapters on) and the
/// reference (adapters off, detached).
pub fn policy_and_reference(
    decoder: &mut Decoder,
    rows: &[&Sequence],
    pad: u32,
) -> Result<(Tensor, Tensor)> {
    let (ids, spans) = pad_batch(rows, pad, decoder.device())?;
    decoder.set_lora_enabled(true);
    let policy = completion_logprob_sums(decoder, &ids, &spans)?;
    decoder.set_lora_enabled(false);
    let reference = completion_logprob_sums(decoder, &ids, &spans);
    decoder.set_lora_enabled(true);
    Ok((policy, reference?.detach()))
}

/// The objective of `batch`: with `weight == 0` the corrupted rows are not
/// scored (plain DPO).
pub fn batch_objective(
    decoder: &mut Decoder,
    batch: &PairBatch,
    beta: f64,
    weight: f64,
    pad: u32,
) -> Result<Objective> {
    let b = batch.len();
    if b == 0 || batch.rejected.len() != b || batch.corrupted.len() != b {
        return Err(PcpoError::Data("empty or ragged mini-batch".to_string()));
    }
    let with_pcpo = weight != 0.0;
    let mut rows: Vec<&Sequence> = batch.chosen.iter().chain(&batch.rejected).collect();
    if with_pcpo {
        rows.extend(&batch.corrupted);
    }
    let (policy, reference) = policy_and_reference(decoder, &rows, pad)?;
    let part = |t: &Tensor, k: usize| t.narrow(0, k * b, b);
    let dpo_logps = PairLogps {
        policy_win: part(&policy, 0)?,
        policy_lose: part(&policy, 1)?,
        reference_win: part(&reference, 0)?,
        reference_lose: part(&reference, 1)?,
    };
    let dpo = dpo_logps.losses(beta)?;
    let pcpo = if with_pcpo {
        let logps = PairLogps {
            policy_win: part(&policy, 0)?,
            policy_lose: part(&policy, 2)?,
            reference_win: part(&reference, 0)?,
            reference_lose: part(&reference, 2)?,
        };
        Some(logps.losses(beta)?)
    } else {
        None
    };
    let loss = combined_loss(&dpo, pcpo.as_ref(), weight)?;
    let metrics = MetricSums::from_rows(&dpo_logps, &dpo, pcpo.as_ref(), beta, weight)?;
    Ok(Objective {
        loss,
        dpo,
        pcpo,
        metrics,
    })
}
