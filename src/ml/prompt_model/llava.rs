//! LLaVA-1.5 style multimodal model: CLIP vision tower, 2-layer GELU
//! projector and the decoder; image tokens in the prompt are replaced by the
//! projected patch features (feature layer -2, CLS dropped).

use std::ops::ControlFlow;
use std::path::Path;

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::clip_vision::{vision_config_from_json, ClipVision};
use super::config::DecoderConfig;
use super::constraint::TokenConstraint;
use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::generate::{generate_from_embeds, Generation, SamplingParams};
use super::tokenizer::TextTokenizer;
use super::weights::VarBuilderSource;

/// LLaVA-specific settings of a `config.json`.
#[derive(Debug, Clone)]
pub struct LlavaConfig {
    /// The text decoder.
    pub text: DecoderConfig,
    /// The CLIP vision tower.
    pub vision: candle_transformers::models::clip::vision_model::ClipVisionConfig,
    /// Token id marking one image position in the prompt.
    pub image_token_index: u32,
    /// Hugging Face `hidden_states` index of the features (-2 in LLaVA 1.5).
    pub vision_feature_layer: i64,
    /// Whether the CLS token is dropped (`vision_feature_select_strategy: default`).
    pub drop_cls: bool,
    /// Whether the projector's linear layers have biases.
    pub projector_bias: bool,
}

impl LlavaConfig {
    /// Reads a LLaVA `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let value: serde_json::Value = crate::ml::json::read_json(path)?;
        Self::from_json(&value, path)
    }

    /// Builds the config from a parsed LLaVA `config.json`.
    pub fn from_json(value: &serde_json::Value, origin: &Path) -> Result<Self> {
        let err = |reason: &str| PromptModelError::Config {
            path: origin.to_path_buf(),
            reason: reason.to_string(),
        };
        let vision = value
            .get("vision_config")
            .ok_or_else(|| err("missing `vision_config`"))?;
        let act = value
            .get("projector_hidden_act")
            .and_then(|v| v.as_str())
            .unwrap_or("gelu");
        if act != "gelu" {
            return Err(err("projector_hidden_act must be gelu"));
        }
        let strategy = value
            .get("vision_feature_select_strategy")
            .and_then(|v| v.as_str())
            .unwrap_or("default");
        Ok(Self {
            text: DecoderConfig::from_json(value, origin)?,
            vision: vision_config_from_json(vision, origin)?,
            image_token_index: value
                .get("image_token_index")
                .and_then(|v| v.as_u64())
                .ok_or_else(|| err("missing `image_token_index`"))?
                as u32,
            vision_feature_layer: value
                .get("vision_feature_layer")
                .and_then(|v| v.as_i64())
                .unwrap_or(-2),
            drop_cls: strategy == "default",
            projector_bias: value
                .get("multimodal_projector_bias")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
        })
    }
}

/// The 2-layer GELU MLP mapping vision features into the decoder's space.
#[derive(Debug, Clone)]
pub struct Projector {
    linear_1: candle_nn::Linear,
    linear_2: candle_nn::Linear,
}

impl Projector {
    /// Loads `linear_1` (vision -> text) and `linear_2` (text -> text).
    pub fn new(vision_dim: usize, text_dim: usize, bias: bool, vb: VarBuilder) -> Result<Self> {
        let make = |i, o, name: &str| {
            if bias {
                candle_nn::linear(i, o, vb.pp(name))
            } else {
                candle_nn::linear_no_bias(i, o, vb.pp(name))
            }
        };
        Ok(Self {
            linear_1: make(vision_dim, text_dim, "linear_1")?,
            linear_2: make(text_dim, text_dim, "linear_2")?,
        })
    }

    /// `linear_2(gelu(linear_1(x)))` with the exact (erf) GELU.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.linear_1.forward(x)?.gelu_erf()?;
        Ok(self.linear_2.forward(&h)?)
    }
}

/// A LLaVA model.
#[derive(Debug, Clone)]
pub struct Llava {
    cfg: LlavaConfig,
    vision: ClipVision,
    projector: Projector,
    decoder: Decoder,
}

impl Llava {
    /// Loads a `LlavaForConditionalGeneration` checkpoint (`vision_tower.*`,
    /// `multi_modal_projector.*`, `language_model.*`).
    pub fn new(cfg: &LlavaConfig, vb: VarBuilder) -> Result<Self> {
        let vision = ClipVision::new(&cfg.vision, vb.pp("vision_tower"), None)?;
        let projector = Projector::new(
            cfg.vision.embed_dim,
            cfg.text.hidden_size,
            cfg.projector_bias,
            vb.pp("multi_modal_projector"),
        )?;
        let decoder =
            Decoder::from_source(&cfg.text, &VarBuilderSource::new(vb), "language_model.")?;
        Ok(Self {
            cfg: cfg.clone(),
            vision,
            projector,
            decoder,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LlavaConfig {
        &self.cfg
    }

    /// The text decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Mutable text decoder (LoRA, KV cache).
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }

    /// Number of image tokens one image expands to.
    pub fn image_tokens(&self) -> usize {
        let side = self.cfg.vision.image_size / self.cfg.vision.patch_size;
        side * side + usize::from(!self.cfg.drop_cls)
    }

    /// Projected image features (batch, image tokens, text hidden).
    pub fn image_features(&self, pixels: &Tensor) -> Result<Tensor> {
        let feats = if self.cfg.drop_cls {
            self.vision
                .patch_features(pixels, self.cfg.vision_feature_layer)?
        } else {
            self.vision
                .hidden_state(pixels, self.cfg.vision_feature_layer)?
        };
        self.projector.forward(&feats)
    }

    /// Replaces each single image token of `ids` by [`Llava::image_tokens`]
    /// copies (prompt text holds one placeholder per image).
    pub fn expand_image_tokens(&self, ids: &[u32]) -> Vec<u32> {
        let n = self.image_tokens();
        let image = self.cfg.image_token_index;
        ids.iter()
            .flat_map(|&id| if id == image { vec![id; n] } else { vec![id] })
            .collect()
    }

    /// Input embeddings of `ids` (batch, seq) whose image-token positions are
    /// replaced, in order, by the features of `pixels` (one image per row).
    /// Each row must hold exactly [`Llava::image_tokens`] image tokens.
    pub fn embed(&self, ids: &Tensor, pixels: &Tensor) -> Result<Tensor> {
        let embeds = self.decoder.embed(ids)?;
        let feats = self.image_features(pixels)?;
        let b = ids.dim(0)?;
        if feats.dim(0)? != b {
            return Err(PromptModelError::Input(format!(
                "{} images for a batch of {b} prompts",
                feats.dim(0)?
            )));
        }
        let rows = ids.to_dtype(candle_core::DType::U32)?.to_vec2::<u32>()?;
        let per_row = (0..b)
            .map(|r| feats.get(r))
            .collect::<candle_core::Result<Vec<_>>>()?;
        splice_image_features(&embeds, &rows, self.cfg.image_token_index, &per_row)
    }

    /// Generates an answer to a prompt (1, seq) with expanded image tokens
    /// and its image (1, 3, size, size), streaming text to `on_token`.
    pub fn generate(
        &mut self,
        tokenizer: &TextTokenizer,
        ids: &Tensor,
        pixels: &Tensor,
        params: &SamplingParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation> {
        self.generate_constrained(tokenizer, (ids, pixels), params, None, on_token)
    }

    /// [`Llava::generate`] sampling only the tokens `constraint` allows
    /// (given with the row index it knows this answer by).
    pub fn generate_constrained(
        &mut self,
        tokenizer: &TextTokenizer,
        (ids, pixels): (&Tensor, &Tensor),
        params: &SamplingParams,
        constraint: Option<(&mut dyn TokenConstraint, usize)>,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation> {
        let embeds = self.embed(ids, pixels)?;
        generate_from_embeds(
            &mut self.decoder,
            tokenizer,
            &embeds,
            params,
            constraint,
            on_token,
        )
    }

    /// Logits of every position (batch, seq, vocab) for a prompt with image tokens.
    pub fn logits(&self, ids: &Tensor, pixels: &Tensor) -> Result<Tensor> {
        let embeds = self.embed(ids, pixels)?;
        self.decoder.logits_from_embeds(&embeds)
    }
}

/// `embeds` (batch, seq, hidden), the embeddings of the token ids `rows`,
/// with each row's `image_token` positions replaced, in order, by the rows
/// of `features[r]` (image tokens, hidden). Every row must hold exactly as
/// many image tokens as its features have rows.
pub fn splice_image_features(
    embeds: &Tensor,
    rows: &[Vec<u32>],
    image_token: u32,
    features: &[Tensor],
) -> Result<Tensor> {
    let (b, t, _) = embeds.dims3()?;
    if rows.len() != b || features.len() != b {
        return Err(PromptModelError::Input(format!(
            "{} id rows and {} images for {b} embedded rows",
            rows.len(),
            features.len()
        )));
    }
    let mut out = Vec::with_capacity(b);
    for (r, (row, feats)) in rows.iter().zip(features).enumerate() {
        let n = feats.dim(0)?;
        let count = row.iter().filter(|&&id| id == image_token).count();
        if count != n || row.len() != t {
            return Err(PromptModelError::Input(format!(
                "row {r} has {count} image tokens, the image gives {n} features"
            )));
        }
        // Pick, for every position, either the text embedding or the next image feature.
        let both = Tensor::cat(&[&embeds.get(r)?, feats], 0)?;
        let mut next = t as u32;
        let index: Vec<u32> = row
            .iter()
            .enumerate()
            .map(|(p, &id)| {
                if id == image_token {
                    next += 1;
                    next - 1
                } else {
                    p as u32
                }
            })
            .collect();
        let index = Tensor::from_vec(index, t, embeds.device())?;
        out.push(both.index_select(&index, 0)?);
    }
    Ok(Tensor::stack(&out, 0)?)
}
