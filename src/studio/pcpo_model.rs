//! The prompt model as PCPO trains it: the text-only model (a GGUF
//! dequantised to f32, or a folder) or the LLaVA model (a folder; LoRA on
//! its language decoder, the vision tower and projector frozen and used as
//! the trainer's image encoder). `pcpo train` and the online rounds load it
//! with [`PcpoModel::load`].

use std::path::Path;

use anyhow::Context as _;
use candle_core::Device;

use crate::ml::pcpo::{PcpoConfig, PcpoTrainer, TrainingSet};
use crate::ml::prompt_model::{
    Decoder, GgufPrecision, LoadOptions, MultimodalPromptModel, PromptModel,
};

use super::adapter_record::PairText;
use super::pcpo_data::{
    encode_image_pairs, encode_pairs, mask_token_for, mask_token_id, ProductImages,
};
use super::roles::is_llava_folder;

/// A prompt model loaded for training.
pub enum PcpoModel {
    /// The text-only model.
    Text(Box<PromptModel>),
    /// The LLaVA model.
    Image(Box<MultimodalPromptModel>),
}

impl PcpoModel {
    /// Loads the model at `path` (f32 weights on the CPU): a LLaVA folder
    /// as the multimodal model, anything else as the text-only model.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let loading = || format!("loading the prompt model {}", path.display());
        if is_llava_folder(path) {
            let model = MultimodalPromptModel::load(path, &Device::Cpu).with_context(loading)?;
            return Ok(Self::Image(Box::new(model)));
        }
        let opts = LoadOptions {
            precision: GgufPrecision::F32,
            ..LoadOptions::default()
        };
        let model = PromptModel::load(path, &opts).with_context(loading)?;
        Ok(Self::Text(Box::new(model)))
    }

    /// Whether the model sees the product image (its training data needs
    /// the products' images).
    pub fn is_multimodal(&self) -> bool {
        matches!(self, Self::Image(_))
    }

    /// The language decoder (without adapters).
    pub fn decoder(&self) -> &Decoder {
        match self {
            Self::Text(m) => m.decoder(),
            Self::Image(m) => m.llava().decoder(),
        }
    }

    /// The token masked title tokens become (text-only training).
    pub fn mask_token_id(&self) -> u32 {
        match self {
            Self::Text(m) => mask_token_id(m),
            Self::Image(m) => mask_token_for(m.tokenizer()),
        }
    }

    /// Tokenises `pairs`; the multimodal model's set also carries each
    /// product's image from `images` (unused by the text-only model).
    pub fn encode(
        &self,
        pairs: &[PairText<'_>],
        images: &ProductImages,
    ) -> anyhow::Result<TrainingSet> {
        match self {
            Self::Text(m) => encode_pairs(m, pairs),
            Self::Image(m) => encode_image_pairs(m, pairs, images),
        }
    }

    /// A trainer on a copy of the decoder, made by `make` (fresh adapters,
    /// resumed or started from an adapter); the multimodal model's trainer
    /// gets the frozen vision tower and projector as its image encoder.
    pub fn trainer(
        &self,
        config: PcpoConfig,
        make: impl FnOnce(Decoder, PcpoConfig) -> crate::ml::pcpo::Result<PcpoTrainer>,
    ) -> anyhow::Result<PcpoTrainer> {
        let trainer = make(self.decoder().clone(), config)?;
        Ok(match self {
            Self::Text(_) => trainer,
            Self::Image(m) => trainer.with_image_encoder(Box::new(m.llava().clone())),
        })
    }
}
