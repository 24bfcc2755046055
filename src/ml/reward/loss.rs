//! The reward-model loss: cross-entropy of the left/right choice plus a
//! weighted mean squared error of the point (CTR) head.

use candle_core::Tensor;

use super::error::{Result, RewardError};

/// The loss and its two parts (scalar tensors, differentiable).
#[derive(Debug, Clone)]
pub struct LossParts {
    /// `ce + mse_weight * mse`.
    pub total: Tensor,
    /// Mean cross-entropy of the 2-way choice logits.
    pub ce: Tensor,
    /// Mean squared error over every predicted CTR (both sides of every
    /// pair), in the point head's scaled units.
    pub mse: Tensor,
}

/// `loss = mean_b CE(logits_b, label_b) + mse_weight * mean_{b,k}
/// (ctr_pred_bk - ctr_target_bk)^2`.
///
/// Shapes: `logits` [B, 2] (index 0 = left wins), `labels` [B] (u32, 0 =
/// left wins, 1 = right wins), `ctr_pred` and `ctr_target` [B, 2] (left,
/// right).
pub fn reward_loss(
    logits: &Tensor,
    labels: &Tensor,
    ctr_pred: &Tensor,
    ctr_target: &Tensor,
    mse_weight: f64,
) -> Result<LossParts> {
    let b = labels
        .dims1()
        .map_err(RewardError::candle("loss labels (want [B])"))?;
    for (name, t) in [
        ("logits", logits),
        ("ctr_pred", ctr_pred),
        ("ctr_target", ctr_target),
    ] {
        if t.dims() != [b, 2] {
            return Err(RewardError::Input(format!(
                "loss: {name} has shape {:?}, want [{b}, 2]",
                t.dims()
            )));
        }
    }
    let ce = candle_nn::loss::cross_entropy(logits, labels)
        .map_err(RewardError::candle("loss cross-entropy"))?;
    let mse =
        candle_nn::loss::mse(ctr_pred, ctr_target).map_err(RewardError::candle("loss mse"))?;
    let total = (&ce + (&mse * mse_weight).map_err(RewardError::candle("loss weight"))?)
        .map_err(RewardError::candle("loss sum"))?;
    Ok(LossParts { total, ce, mse })
}
