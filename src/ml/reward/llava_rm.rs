//! The LLaVA-style reward model (CAIG's RM): two ads joined side by side
//! into one image, shown to a LLaVA model (the prompt model's vision tower,
//! projector and decoder) with a question asking which side gets more
//! clicks; the decoder's last-token hidden state (after the final norm)
//! feeds a 2-way choice head (left/right logits) and a point head (both
//! CTRs, through a sigmoid).
//!
//! Inference is position-debiased ([`super::debias`]): both orders are
//! scored and averaged, and swapping the inputs gives the exact complement.
//! Training (LoRA on the decoder plus the heads) is in
//! [`super::llava_train`]; adapter files in [`super::llava_adapter`].

use std::cmp::Ordering;
use std::path::Path;

use candle_core::{Device, IndexOp, Module, Tensor, Var};
use candle_nn::{Linear, VarMap};
use image::{DynamicImage, RgbImage};

use super::compact::PairOutput;
use super::compose::side_by_side;
use super::debias::{canonical_order, complementary_pair, first_wins};
use super::error::{Result, RewardError};
use super::init::seeded_var_builder;
use super::{PairScore, RewardModel};
use crate::ml::prompt_model::{
    preprocess_image, ChatMessage, LoraConfig, LoraTarget, LoraVars, MultimodalPromptModel, Role,
};

/// The default question (CAIG asks which side users prefer).
pub const DEFAULT_QUESTION: &str = "These are two ads for the same product, shown side by side. \
     Which one will get more clicks: the left one or the right one?";

/// Settings of the LLaVA reward model (stored in its adapter files).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlavaRmConfig {
    /// The user message (rendered with the model's chat template, the image
    /// placeholder before it, generation prompt appended).
    pub question: String,
    /// The point head's CTRs are multiplied by this in the loss (CTRs are
    /// small numbers; the compact model uses the same scale).
    pub ctr_scale: f64,
    /// LoRA rank of the decoder adapters.
    pub lora_rank: usize,
    /// LoRA alpha (update scale `alpha / rank`).
    pub lora_alpha: f64,
    /// Decoder projections that get adapters (`q_proj`, `v_proj`, ...).
    pub lora_targets: Vec<String>,
}

impl Default for LlavaRmConfig {
    /// [`DEFAULT_QUESTION`], CTR scale 10, LoRA rank 8 / alpha 16 on
    /// q/k/v/o.
    fn default() -> Self {
        Self {
            question: DEFAULT_QUESTION.to_string(),
            ctr_scale: 10.0,
            lora_rank: 8,
            lora_alpha: 16.0,
            lora_targets: ["q_proj", "k_proj", "v_proj", "o_proj"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl LlavaRmConfig {
    /// The LoRA settings as the decoder takes them.
    pub fn lora(&self) -> Result<LoraConfig> {
        let targets = self
            .lora_targets
            .iter()
            .map(|t| LoraTarget::parse(t))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if self.ctr_scale.is_nan() || self.ctr_scale <= 0.0 {
            return Err(RewardError::Config(format!(
                "ctr_scale must be > 0, got {}",
                self.ctr_scale
            )));
        }
        Ok(LoraConfig {
            rank: self.lora_rank,
            alpha: self.lora_alpha,
            targets,
        })
    }
}

/// The two heads on the decoder's last hidden state.
#[derive(Debug, Clone)]
pub(super) struct Heads {
    pub(super) choice: Linear,
    pub(super) point: Linear,
}

/// A LLaVA reward model: a [`MultimodalPromptModel`] (base weights frozen,
/// optional LoRA adapters on the decoder) plus the two heads.
pub struct LlavaRewardModel {
    pub(super) model: MultimodalPromptModel,
    pub(super) config: LlavaRmConfig,
    pub(super) heads: Heads,
    /// Trainable head variables (`choice_head.*`, `point_head.*`); empty
    /// after loading heads from an adapter file.
    pub(super) head_vars: VarMap,
    /// Trainable LoRA factors, when attached for training.
    pub(super) lora_vars: LoraVars,
    prompt_ids: Vec<u32>,
}

impl LlavaRewardModel {
    /// Wraps a loaded LLaVA prompt model; the heads get seeded random
    /// weights (trainable), no LoRA is attached yet.
    pub fn new(model: MultimodalPromptModel, config: LlavaRmConfig, seed: u64) -> Result<Self> {
        config.lora()?;
        let device = model.llava().decoder().device().clone();
        let hidden = model.llava().config().text.hidden_size;
        let head_vars = VarMap::new();
        let vb = seeded_var_builder(&head_vars, seed, &device);
        let lin = |name: &str| {
            candle_nn::linear(hidden, 2, vb.pp(name))
                .map_err(RewardError::candle(format!("building {name}")))
        };
        let heads = Heads {
            choice: lin("choice_head")?,
            point: lin("point_head")?,
        };
        let prompt_ids = Self::question_ids(&model, &config.question)?;
        Ok(Self {
            model,
            config,
            heads,
            head_vars,
            lora_vars: Vec::new(),
            prompt_ids,
        })
    }

    /// Loads a LLaVA folder ([`MultimodalPromptModel::load`]) and wraps it.
    pub fn load(dir: &Path, config: LlavaRmConfig, seed: u64, device: &Device) -> Result<Self> {
        Self::new(MultimodalPromptModel::load(dir, device)?, config, seed)
    }

    pub(super) fn question_ids(model: &MultimodalPromptModel, question: &str) -> Result<Vec<u32>> {
        Ok(model.prompt_ids(&[ChatMessage::new(Role::User, question)])?)
    }

    pub(super) fn set_question_ids(&mut self) -> Result<()> {
        self.prompt_ids = Self::question_ids(&self.model, &self.config.question)?;
        Ok(())
    }

    /// The settings.
    pub fn config(&self) -> &LlavaRmConfig {
        &self.config
    }

    /// The underlying LLaVA prompt model.
    pub fn prompt_model(&self) -> &MultimodalPromptModel {
        &self.model
    }

    /// The underlying LLaVA prompt model, mutable (e.g. to switch the LoRA
    /// adapters off and compare with the base model).
    pub fn prompt_model_mut(&mut self) -> &mut MultimodalPromptModel {
        &mut self.model
    }

    /// Token ids of the question prompt (image tokens expanded).
    pub fn prompt_ids(&self) -> &[u32] {
        &self.prompt_ids
    }

    fn device(&self) -> &Device {
        self.model.llava().decoder().device()
    }

    /// Side of the vision tower's square input.
    pub fn image_size(&self) -> usize {
        self.model.llava().config().vision.image_size
    }

    /// Attaches trainable LoRA adapters (B = 0: outputs are unchanged until
    /// training) to the decoder as the config says; any adapters already
    /// there are replaced.
    pub fn attach_lora(&mut self, seed: u64) -> Result<()> {
        let lora = self.config.lora()?;
        let decoder = self.model.llava_mut().decoder_mut();
        decoder.remove_lora();
        self.lora_vars = decoder.attach_lora(&lora, seed)?;
        Ok(())
    }

    /// Every trainable variable: LoRA factors (when attached) and the
    /// heads (unless they were loaded from a file).
    pub fn trainable_vars(&self) -> Vec<Var> {
        let mut vars: Vec<Var> = self.lora_vars.iter().map(|(_, v)| v.clone()).collect();
        vars.extend(self.head_vars.all_vars());
        vars
    }

    /// The composed, preprocessed image of each ordered pair: (B, 3, S, S).
    /// Both ads are resized to S x S, joined to 2S x S (left | right), then
    /// LLaVA 1.5 preprocessing pads it to a square with the CLIP mean colour
    /// and resizes it to S (nothing is cropped away).
    pub fn pair_pixels(&self, pairs: &[(&RgbImage, &RgbImage)]) -> Result<Tensor> {
        let s = self.image_size();
        let mut parts = Vec::with_capacity(pairs.len());
        for (left, right) in pairs {
            let joined = side_by_side(left, right, s as u32)?;
            let rgba = DynamicImage::ImageRgb8(joined).to_rgba8();
            parts.push(preprocess_image(&rgba, s, self.device())?);
        }
        if parts.is_empty() {
            return Err(RewardError::Input("no pairs to score".to_string()));
        }
        Tensor::cat(&parts, 0).map_err(RewardError::candle("stacking pair images"))
    }

    /// The decoder's last-token hidden state (B, hidden), final norm
    /// applied, for composed pair images (B, 3, S, S).
    pub fn last_hidden(&self, pixels: &Tensor) -> Result<Tensor> {
        let b = pixels
            .dim(0)
            .map_err(RewardError::candle("pair image batch"))?;
        let t = self.prompt_ids.len();
        let ids = Tensor::new(self.prompt_ids.as_slice(), self.device())
            .and_then(|ids| ids.unsqueeze(0))
            .and_then(|ids| ids.repeat((b, 1)))
            .map_err(RewardError::candle("question ids"))?;
        let llava = self.model.llava();
        let embeds = llava.embed(&ids, pixels)?;
        let hidden = llava.decoder().hidden_states(&embeds)?;
        hidden
            .i((.., t - 1, ..))
            .map_err(RewardError::candle("last-token hidden state"))
    }

    /// Raw single-order outputs for composed pair images: choice logits
    /// [B, 2] (0 = left wins) and point predictions [B, 2] (left, right) in
    /// `ctr * ctr_scale` units (`sigmoid(z) * ctr_scale`). Differentiable.
    pub fn forward_pixels(&self, pixels: &Tensor) -> Result<PairOutput> {
        let last = self.last_hidden(pixels)?;
        let run = || -> candle_core::Result<PairOutput> {
            let logits = self.heads.choice.forward(&last)?;
            let z = self.heads.point.forward(&last)?;
            let ctr = (z.neg()?.exp()? + 1.0)?.recip()?;
            Ok(PairOutput {
                logits,
                ctr_scaled: (ctr * self.config.ctr_scale)?,
            })
        };
        run().map_err(RewardError::candle("reward heads"))
    }

    /// Raw single-order outputs for ordered pairs (see
    /// [`LlavaRewardModel::forward_pixels`]); not debiased.
    pub fn forward_pairs(&self, pairs: &[(&RgbImage, &RgbImage)]) -> Result<PairOutput> {
        self.forward_pixels(&self.pair_pixels(pairs)?)
    }

    /// Debiased score of `(first, second)` computed in exactly this order.
    fn score_ordered(&self, first: &RgbImage, second: &RgbImage) -> Result<PairScore> {
        let out = self.forward_pairs(&[(first, second), (second, first)])?;
        let read = |t: &Tensor| {
            t.to_vec2::<f32>()
                .map_err(RewardError::candle("reading reward outputs"))
        };
        let (logits, ctr) = (read(&out.logits)?, read(&out.ctr_scaled)?);
        let (ab, ba) = (0, 1);
        let p_first = 0.5
            * (first_wins([logits[ab][0], logits[ab][1]])
                + (1.0 - first_wins([logits[ba][0], logits[ba][1]])));
        let (p, _) = complementary_pair(p_first);
        let scale = self.config.ctr_scale as f32;
        Ok(PairScore {
            p_left: p,
            ctr_left: 0.5 * (ctr[ab][0] + ctr[ba][1]) / scale,
            ctr_right: 0.5 * (ctr[ab][1] + ctr[ba][0]) / scale,
        })
    }
}

impl RewardModel for LlavaRewardModel {
    /// Position-debiased: both orders are run (one batch of two composed
    /// images) and averaged; the pair is always computed in a canonical
    /// order, so `prefer(b, a)` is the exact complement of `prefer(a, b)`
    /// and identical images get exactly 0.5.
    fn prefer(&self, left: &RgbImage, right: &RgbImage) -> Result<PairScore> {
        match canonical_order(left, right) {
            Ordering::Less => self.score_ordered(left, right),
            Ordering::Greater => {
                let s = self.score_ordered(right, left)?;
                Ok(PairScore {
                    p_left: 1.0 - s.p_left,
                    ctr_left: s.ctr_right,
                    ctr_right: s.ctr_left,
                })
            }
            Ordering::Equal => {
                let s = self.score_ordered(left, right)?;
                let ctr = 0.5 * (s.ctr_left + s.ctr_right);
                Ok(PairScore {
                    p_left: 0.5,
                    ctr_left: ctr,
                    ctr_right: ctr,
                })
            }
        }
    }
}
