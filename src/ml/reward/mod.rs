//! Reward model (RM): predicts which of two ad images gets more clicks, and
//! the CTR of each.
//!
//! - [`clicklog`] parses click logs (CSV / JSONL) with a per-row rejection
//!   report; [`pairs`] builds same-product pairs and the by-product split.
//! - [`compact`] is the compact model (a per-image [`backbone`]: small CNN
//!   or frozen CLIP tower ([`clip_tower`]), + fusion MLP + choice and point
//!   heads); [`loss`] its loss; [`train`] its training loop with checkpoints
//!   ([`checkpoint`]).
//! - [`llava_rm`] is the LLaVA-style model (two ads side by side
//!   ([`compose`]) + a question, last-token hidden state -> the same two
//!   heads), trained with LoRA by [`llava_train`], saved by
//!   [`llava_adapter`]; [`debias`] makes its swap symmetry exact.
//! - [`synthetic`] is a synthetic click world whose true CTR is a known
//!   function of visible image properties, for tests, demos and the bench
//!   ([`bench`]); [`baseline`] holds trivial baselines.
//! - [`ranking`] turns all-pairs scores into a Bradley-Terry ranking.
//!
//! Every backbone implements [`RewardModel`].
//!
//! Entry points for callers (CLI, jobs):
//! - compact, CNN: [`train::Trainer::new`] + [`train::Trainer::fit`] on
//!   [`train::PairDataset`]s, [`checkpoint::load_compact`] to score;
//! - compact, CLIP: the same with [`train::Trainer::with_backbone`] and
//!   [`BackboneConfig::Clip`]`(`[`ClipBackboneConfig::new`]`(clip_dir))`;
//!   the checkpoint's `backbone` metadata names the CLIP folder
//!   ([`checkpoint::load_compact_with_backbone`] if it moved);
//! - LLaVA: [`LlavaRewardModel::load`] (LLaVA folder) or
//!   [`LlavaRewardModel::new`], then [`LlavaRmTrainer::new`] +
//!   [`LlavaRmTrainer::train_epoch`] / [`LlavaRmTrainer::train_step`] on
//!   [`TrainingPair`]s, [`LlavaRewardModel::save_adapter`] /
//!   [`LlavaRewardModel::load_adapter`] (inference) /
//!   [`LlavaRmTrainer::resume`] (more training);
//!   [`llava_train::pairwise_accuracy_of`] evaluates any [`RewardModel`].

pub mod backbone;
pub mod baseline;
pub mod bench;
pub mod checkpoint;
pub mod clicklog;
pub mod clip_tower;
pub mod compact;
pub mod compose;
pub mod csv;
pub mod debias;
pub mod draw;
pub mod error;
mod init;
pub mod llava_adapter;
pub mod llava_rm;
pub mod llava_train;
pub mod loss;
pub mod pairs;
pub mod prepare;
pub mod ranking;
pub mod synthetic;
mod tensor_file;
pub mod train;

use image::RgbImage;

pub use backbone::BackboneConfig;
pub use clip_tower::{ClipBackboneConfig, ClipPooling};
pub use error::{Result, RewardError};
pub use llava_rm::{LlavaRewardModel, LlavaRmConfig};
pub use llava_train::{LlavaRmTrainer, LlavaTrainConfig, TrainingPair};
pub use prepare::{all_pairs, prepare_pairs, PairImage, PreparedPairs};
pub use ranking::ScoreMatrix;

/// The reward model's verdict on an ordered pair of images.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairScore {
    /// Probability that the left image gets the higher CTR
    /// (position-debiased: `prefer(b, a).p_left == 1 - prefer(a, b).p_left`).
    pub p_left: f32,
    /// Predicted CTR of the left image.
    pub ctr_left: f32,
    /// Predicted CTR of the right image.
    pub ctr_right: f32,
}

/// A pairwise reward model (compact CNN backbone, or LLaVA-style backbone).
pub trait RewardModel {
    /// Scores one ordered pair (left, right).
    fn prefer(&self, left: &RgbImage, right: &RgbImage) -> Result<PairScore>;

    /// Scores many ordered pairs; backbones may override this to batch.
    fn prefer_many(&self, pairs: &[(&RgbImage, &RgbImage)]) -> Result<Vec<PairScore>> {
        pairs.iter().map(|(a, b)| self.prefer(a, b)).collect()
    }

    /// Scores every pair of a set of images (each unordered pair once; the
    /// matrix is filled by complement); backbones may override this to
    /// batch.
    fn score_all(&self, images: &[&RgbImage]) -> Result<ScoreMatrix> {
        let n = images.len();
        let mut p = vec![vec![0.5f32; n]; n];
        let mut ctr_sum = vec![0.0f32; n];
        for i in 0..n {
            for j in i + 1..n {
                let s = self.prefer(images[i], images[j])?;
                p[i][j] = s.p_left;
                p[j][i] = 1.0 - s.p_left;
                ctr_sum[i] += s.ctr_left;
                ctr_sum[j] += s.ctr_right;
            }
        }
        let others = n.saturating_sub(1).max(1) as f32;
        let ctr = ctr_sum.iter().map(|c| c / others).collect();
        Ok(ScoreMatrix { p, ctr })
    }
}
