//! The DPO and PCPO losses and the preference metrics, on per-row tensors of
//! completion log-probability sums.
//!
//! Both losses have the same form: `-log sigmoid(b * ((pi_w - pi_l) - (ref_w
//! - ref_l)))`. For DPO, `w`/`l` are the chosen and rejected answers under
//! the true product; for PCPO, `w` is the chosen answer under the true
//! product and `l` the same answer under the corrupted product condition.

use candle_core::Tensor;

use super::error::Result;

/// `-log sigmoid(z)` element-wise, computed stably as
/// `relu(-z) + log(1 + exp(-|z|))` (no overflow for large `|z|`).
pub fn neg_log_sigmoid(z: &Tensor) -> Result<Tensor> {
    let relu = z.neg()?.relu()?;
    let tail = ((z.abs()?.neg()?.exp()? + 1.0)?).log()?;
    Ok((relu + tail)?)
}

/// Completion log-probability sums of a batch under the policy and the
/// reference, for a "winning" and a "losing" sequence per row.
#[derive(Debug, Clone)]
pub struct PairLogps {
    /// `log pi(winner)`, shape (batch,).
    pub policy_win: Tensor,
    /// `log pi(loser)`, shape (batch,).
    pub policy_lose: Tensor,
    /// `log ref(winner)`, shape (batch,).
    pub reference_win: Tensor,
    /// `log ref(loser)`, shape (batch,).
    pub reference_lose: Tensor,
}

impl PairLogps {
    /// Implicit rewards `b * (pi - ref)` of the winner and the loser.
    pub fn rewards(&self, beta: f64) -> Result<(Tensor, Tensor)> {
        let win = ((&self.policy_win - &self.reference_win)? * beta)?;
        let lose = ((&self.policy_lose - &self.reference_lose)? * beta)?;
        Ok((win, lose))
    }

    /// Per-row `-log sigmoid(b * ((pi_w - pi_l) - (ref_w - ref_l)))`.
    pub fn losses(&self, beta: f64) -> Result<Tensor> {
        let (win, lose) = self.rewards(beta)?;
        neg_log_sigmoid(&(win - lose)?)
    }
}

/// `mean(dpo + weight * pcpo)` over the rows; `pcpo = None` is plain DPO.
pub fn combined_loss(dpo: &Tensor, pcpo: Option<&Tensor>, weight: f64) -> Result<Tensor> {
    let rows = match pcpo {
        Some(p) => (dpo + (p * weight)?)?,
        None => dpo.clone(),
    };
    Ok(rows.mean_all()?)
}

/// Running sums of the per-pair figures of an epoch or an evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSums {
    /// Pairs seen.
    pub pairs: usize,
    /// Sum of `dpo + weight * pcpo` per pair.
    pub loss: f64,
    /// Sum of the DPO losses.
    pub dpo: f64,
    /// Sum of the PCPO losses (0 when the term is off).
    pub pcpo: f64,
    /// Sum of the reward margins `b * ((pi_c - ref_c) - (pi_r - ref_r))`.
    pub margin: f64,
    /// Pairs whose chosen reward is strictly above the rejected one.
    pub correct: usize,
}

impl MetricSums {
    /// Adds another batch's sums.
    pub fn add(&mut self, other: &MetricSums) {
        self.pairs += other.pairs;
        self.loss += other.loss;
        self.dpo += other.dpo;
        self.pcpo += other.pcpo;
        self.margin += other.margin;
        self.correct += other.correct;
    }

    /// Sums of one batch from its per-row tensors.
    pub fn from_rows(
        dpo_logps: &PairLogps,
        dpo: &Tensor,
        pcpo: Option<&Tensor>,
        beta: f64,
        weight: f64,
    ) -> Result<Self> {
        let (win, lose) = dpo_logps.rewards(beta)?;
        let win = win.to_vec1::<f32>()?;
        let lose = lose.to_vec1::<f32>()?;
        let dpo = dpo.to_vec1::<f32>()?;
        let pcpo = match pcpo {
            Some(p) => p.to_vec1::<f32>()?,
            None => vec![0.0; dpo.len()],
        };
        let mut sums = MetricSums {
            pairs: dpo.len(),
            ..Default::default()
        };
        for i in 0..dpo.len() {
            sums.dpo += f64::from(dpo[i]);
            sums.pcpo += f64::from(pcpo[i]);
            sums.loss += f64::from(dpo[i]) + weight * f64::from(pcpo[i]);
            sums.margin += f64::from(win[i]) - f64::from(lose[i]);
            sums.correct += usize::from(win[i] > lose[i]);
        }
        Ok(sums)
    }

    /// Means over the pairs (all zero when no pair was seen).
    pub fn finish(&self) -> EpochMetrics {
        let n = self.pairs.max(1) as f64;
        EpochMetrics {
            pairs: self.pairs,
            loss: self.loss / n,
            dpo_loss: self.dpo / n,
            pcpo_loss: self.pcpo / n,
            reward_margin: self.margin / n,
            accuracy: self.correct as f64 / n,
        }
    }
}

/// Mean figures of an epoch (training) or of an evaluation pass.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochMetrics {
    /// Pairs the means are over.
    pub pairs: usize,
    /// Mean `dpo + weight * pcpo`.
    pub loss: f64,
    /// Mean DPO loss.
    pub dpo_loss: f64,
    /// Mean PCPO loss.
    pub pcpo_loss: f64,
    /// Mean reward margin `b * ((pi_c - ref_c) - (pi_r - ref_r))`.
    pub reward_margin: f64,
    /// Preference accuracy: share of pairs whose implicit reward of the
    /// chosen answer is strictly above the rejected one's (ties count as
    /// misses, so an untrained adapter scores 0).
    pub accuracy: f64,
}
