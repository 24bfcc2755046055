//! One mini-batch of the PCPO objective: policy and reference log-probability
//! sums of the chosen, rejected and corrupted sequences, the losses and the
//! batch's metric sums.
//!
//! The reference policy is the same decoder with its adapters switched off:
//! no second copy of the weights. Its scores are detached from the graph.
//!
//! For the multimodal model the rows' image tokens take the (frozen) image
//! features: the product's own image for the chosen and rejected rows, and
//! for the corrupted row either the product's image with patches zeroed or
//! the other product's image.

use candle_core::{DType, Tensor};
use rand::Rng;

use super::corrupt::{
    corrupt_image, corrupt_text, CorruptedPrompt, ImageCorruption, TextCorruption,
};
use super::data::{pad_batch, Sequence, TrainingSet};
use super::error::{PcpoError, Result};
use super::loss::{combined_loss, MetricSums, PairLogps};
use super::vision::FeatureCache;
use crate::ml::prompt_model::{
    completion_logprob_sums_from_embeds, splice_image_features, Decoder,
};

/// The chosen answer `y+'` of the corrupted condition when it is another
/// product's (DESIGN.md section 2: "another product's image and
/// instruction, with that product's chosen answer"): the chosen answer of
/// the donor's first pair in the set (deterministic, so the random draws
/// stay those of the corruption alone).
pub fn donor_answer(set: &TrainingSet, donor: usize) -> Result<&[u32]> {
    set.pairs
        .iter()
        .find(|p| p.product == donor)
        .map(|p| p.chosen.as_slice())
        .ok_or_else(|| PcpoError::Data(format!("the donor product {donor} has no pair")))
}

/// The sequences of a mini-batch: row `i` of each list belongs to pair `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairBatch {
    /// Product prompt + chosen answer.
    pub chosen: Vec<Sequence>,
    /// Product prompt + rejected answer.
    pub rejected: Vec<Sequence>,
    /// Corrupted prompt + an answer: the pair's chosen answer under a
    /// degraded condition (masked title tokens, zeroed patches), the other
    /// product's chosen answer ([`donor_answer`]) under its condition.
    pub corrupted: Vec<Sequence>,
    /// The product of each pair.
    pub products: Vec<usize>,
    /// With product images: the image condition of each corrupted row
    /// (empty for the text-only model).
    pub corrupted_images: Vec<ImageCorruption>,
}

impl PairBatch {
    /// The batch of pairs `indices` of `set`, drawing each pair's corrupted
    /// condition from `rng` (in index order): masked title tokens or another
    /// product's prompt for a text set; zeroed image patches (prompt
    /// unchanged) or another product's prompt and image for a set with
    /// images.
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
            products: Vec::new(),
            corrupted_images: Vec::new(),
        };
        for &i in indices {
            let pair = set
                .pairs
                .get(i)
                .ok_or_else(|| PcpoError::Data(format!("pair {i} of {}", set.pairs.len())))?;
            let product = set.products.get(pair.product).ok_or_else(|| {
                PcpoError::Data(format!("pair {i} names a missing product {}", pair.product))
            })?;
            let (ids, donor) = if set.has_images() {
                let corruption = corrupt_image(&set.images, pair.product, rng)?;
                let (prompt, donor) = match &corruption {
                    ImageCorruption::Zeroed { .. } => (&product.ids, None),
                    ImageCorruption::Swapped { donor } => (&set.products[*donor].ids, Some(*donor)),
                };
                let ids = prompt.clone();
                batch.corrupted_images.push(corruption);
                (ids, donor)
            } else {
                let CorruptedPrompt { ids, corruption } =
                    corrupt_text(&set.products, pair.product, mask_id, rng)?;
                let donor = match corruption {
                    TextCorruption::Swapped { donor } => Some(donor),
                    TextCorruption::MaskedTitle { .. } => None,
                };
                (ids, donor)
            };
            let corrupted_answer = match donor {
                Some(donor) => donor_answer(set, donor)?,
                None => &pair.chosen,
            };
            batch
                .chosen
                .push(Sequence::new(&product.ids, &pair.chosen)?);
            batch
                .rejected
                .push(Sequence::new(&product.ids, &pair.rejected)?);
            batch.corrupted.push(Sequence::new(&ids, corrupted_answer)?);
            batch.products.push(pair.product);
        }
        Ok(batch)
    }

    /// Image features of every row, in the order chosen, rejected and (with
    /// `corrupted`) corrupted rows.
    fn row_features(
        &self,
        features: &mut FeatureCache<'_>,
        corrupted: bool,
    ) -> Result<Vec<Tensor>> {
        if self.corrupted_images.len() != self.len() {
            return Err(PcpoError::Data(
                "the mini-batch has no image condition for its corrupted rows".to_string(),
            ));
        }
        let own = self
            .products
            .iter()
            .map(|&p| features.product(p))
            .collect::<Result<Vec<_>>>()?;
        let mut rows: Vec<Tensor> = own.iter().chain(&own).cloned().collect();
        if corrupted {
            for c in &self.corrupted_images {
                rows.push(match c {
                    ImageCorruption::Zeroed { image, .. } => features.of(image)?,
                    ImageCorruption::Swapped { donor } => features.product(*donor)?,
                });
            }
        }
        Ok(rows)
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
    policy_and_reference_with(decoder, rows, None, pad)
}

/// [`policy_and_reference`] with, for the multimodal model, each row's
/// image features (image token id, one (tokens, hidden) tensor per row) in
/// place of its image tokens.
pub fn policy_and_reference_with(
    decoder: &mut Decoder,
    rows: &[&Sequence],
    images: Option<(u32, &[Tensor])>,
    pad: u32,
) -> Result<(Tensor, Tensor)> {
    let (ids, spans) = pad_batch(rows, pad, decoder.device())?;
    let mut embeds = decoder.embed(&ids)?;
    if let Some((image_token, features)) = images {
        if pad == image_token {
            return Err(PcpoError::Config(format!(
                "the padding token {pad} is the image token"
            )));
        }
        let id_rows = ids.to_dtype(DType::U32)?.to_vec2::<u32>()?;
        embeds = splice_image_features(&embeds, &id_rows, image_token, features)?;
    }
    decoder.set_lora_enabled(true);
    let policy = completion_logprob_sums_from_embeds(decoder, &embeds, &ids, &spans)?;
    decoder.set_lora_enabled(false);
    let reference = completion_logprob_sums_from_embeds(decoder, &embeds, &ids, &spans);
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
    batch_objective_with(decoder, batch, None, (beta, weight), pad)
}

/// [`batch_objective`] for the multimodal model when `features` is given
/// (the batch must then come from a set with images); `(beta, weight)` as
/// in [`batch_objective`].
pub fn batch_objective_with(
    decoder: &mut Decoder,
    batch: &PairBatch,
    features: Option<&mut FeatureCache<'_>>,
    (beta, weight): (f64, f64),
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
    let (policy, reference) = match features {
        Some(cache) => {
            let feats = batch.row_features(cache, with_pcpo)?;
            let token = cache.encoder().image_token();
            policy_and_reference_with(decoder, &rows, Some((token, &feats)), pad)?
        }
        None if !batch.corrupted_images.is_empty() => {
            return Err(PcpoError::Data(
                "a mini-batch with product images needs the image encoder".to_string(),
            ))
        }
        None => policy_and_reference(decoder, &rows, pad)?,
    };
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
