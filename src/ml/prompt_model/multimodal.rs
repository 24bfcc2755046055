//! A LLaVA prompt model ready to chat about a product image: weights,
//! tokenizer, chat template and CLIP image preprocessing.

use std::ops::ControlFlow;
use std::path::Path;

use candle_core::{Device, Tensor};
use image::{imageops::FilterType, Rgb, RgbImage, RgbaImage};

use super::batch::RowFlow;
use super::chat::{ChatMessage, ChatTemplate, Role};
use super::constraint::TokenConstraint;
use super::error::{PromptModelError, Result};
use super::generate::{generate_prefilled, prefill_embeds, Generation, SamplingParams, StopReason};
use super::llava::{Llava, LlavaConfig};
use super::load::{folder_tokenizer, mmap_var_builder, safetensors_files};
use super::model::PromptModel;
use super::tokenizer::TextTokenizer;

pub use crate::ml::clip_vision::{CLIP_MEAN, CLIP_STD};

/// Anything that answers a chat: a text model, or a multimodal model bound
/// to one image.
pub trait ChatModel {
    /// Generates the assistant's answer to `messages`, streaming text pieces
    /// to `on_token` (return `Break` to cancel).
    fn chat(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation>;

    /// The model's tokenizer (constraints are built on its token ids).
    fn text_tokenizer(&self) -> &TextTokenizer;

    /// Samples `rows` answers to the same chat, row `r` with seed
    /// `params.seed + r`, streaming `(row, piece)` to `on_token`; with
    /// `constraint`, each row samples only among the tokens it allows.
    fn chat_batch(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        rows: usize,
        constraint: Option<&mut dyn TokenConstraint>,
        on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
    ) -> Result<Vec<Generation>>;
}

impl ChatModel for PromptModel {
    fn chat(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation> {
        PromptModel::chat(self, messages, params, on_token)
    }

    fn text_tokenizer(&self) -> &TextTokenizer {
        self.tokenizer()
    }

    fn chat_batch(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        rows: usize,
        constraint: Option<&mut dyn TokenConstraint>,
        on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
    ) -> Result<Vec<Generation>> {
        PromptModel::chat_batch(self, messages, params, rows, constraint, on_token)
    }
}

/// LLaVA 1.5 preprocessing of a product image: alpha composited over white,
/// padded to a square with the CLIP mean colour, resized to `size` (bicubic),
/// normalised with [`CLIP_MEAN`]/[`CLIP_STD`]. Returns (1, 3, size, size).
pub fn preprocess_image(image: &RgbaImage, size: usize, device: &Device) -> Result<Tensor> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 || size == 0 {
        return Err(PromptModelError::Input(format!(
            "cannot preprocess a {w}x{h} image to {size}"
        )));
    }
    let side = w.max(h);
    let mean = Rgb(CLIP_MEAN.map(|m| (m * 255.0).round() as u8));
    let mut square = RgbImage::from_pixel(side, side, mean);
    let (ox, oy) = ((side - w) / 2, (side - h) / 2);
    for (x, y, p) in image.enumerate_pixels() {
        let [r, g, b, a] = p.0;
        let a = a as f32 / 255.0;
        let over = |c: u8| (c as f32 * a + 255.0 * (1.0 - a)).round() as u8;
        square.put_pixel(x + ox, y + oy, Rgb([over(r), over(g), over(b)]));
    }
    let resized =
        image::imageops::resize(&square, size as u32, size as u32, FilterType::CatmullRom);
    let mut data = vec![0f32; 3 * size * size];
    for (x, y, p) in resized.enumerate_pixels() {
        for c in 0..3 {
            data[c * size * size + y as usize * size + x as usize] =
                (p.0[c] as f32 / 255.0 - CLIP_MEAN[c]) / CLIP_STD[c];
        }
    }
    Ok(Tensor::from_vec(data, (1, 3, size, size), device)?)
}

/// A LLaVA model with its tokenizer and chat template.
pub struct MultimodalPromptModel {
    llava: Llava,
    tokenizer: TextTokenizer,
    template: ChatTemplate,
    image_token: String,
}

impl MultimodalPromptModel {
    /// Loads a `LlavaForConditionalGeneration` folder (config.json,
    /// safetensors, tokenizer.json, optional tokenizer_config.json).
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let cfg = LlavaConfig::from_file(&dir.join("config.json"))?;
        let (tokenizer, template) = folder_tokenizer(dir, &cfg.text)?;
        let vb = mmap_var_builder(&safetensors_files(dir)?, device)?;
        let llava = Llava::new(&cfg, vb)?;
        Self::from_parts(llava, tokenizer, template)
    }

    /// Assembles the model; the image placeholder string is the tokenizer's
    /// token for `image_token_index`.
    pub fn from_parts(
        llava: Llava,
        tokenizer: TextTokenizer,
        template: ChatTemplate,
    ) -> Result<Self> {
        let id = llava.config().image_token_index;
        let image_token = tokenizer.inner().id_to_token(id).ok_or_else(|| {
            PromptModelError::Tokenizer(format!(
                "the tokenizer has no token for image_token_index {id}"
            ))
        })?;
        Ok(Self {
            llava,
            tokenizer,
            template,
            image_token,
        })
    }

    /// The LLaVA model (image features, decoder hidden states).
    pub fn llava(&self) -> &Llava {
        &self.llava
    }

    /// The LLaVA model (e.g. to attach LoRA adapters to its decoder).
    pub fn llava_mut(&mut self) -> &mut Llava {
        &mut self.llava
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The chat template.
    pub fn template(&self) -> ChatTemplate {
        self.template
    }

    /// The image placeholder as prompt text (the token of
    /// `image_token_index`).
    pub fn image_placeholder(&self) -> &str {
        &self.image_token
    }

    /// Preprocesses `image` for this model's vision tower.
    pub fn pixels(&self, image: &RgbaImage) -> Result<Tensor> {
        let size = self.llava.config().vision.image_size;
        preprocess_image(image, size, self.llava.decoder().device())
    }

    /// Binds preprocessed pixels (1, 3, size, size) for [`ChatModel`] use.
    pub fn with_image(&mut self, pixels: Tensor) -> ImageChat<'_> {
        ImageChat {
            model: self,
            pixels,
        }
    }

    /// Token ids of a chat whose first user message is preceded by the image
    /// placeholder, with the image tokens expanded.
    pub fn prompt_ids(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        let mut with_image = messages.to_vec();
        let first_user = with_image
            .iter_mut()
            .find(|m| m.role == Role::User)
            .ok_or_else(|| PromptModelError::Input("the chat has no user message".to_string()))?;
        first_user.content = format!("{}\n{}", self.image_token, first_user.content);
        let ids = self
            .tokenizer
            .encode(&self.template.render(&with_image, true))?;
        Ok(self.llava.expand_image_tokens(&ids))
    }
}

/// A [`MultimodalPromptModel`] bound to one image.
pub struct ImageChat<'a> {
    model: &'a mut MultimodalPromptModel,
    pixels: Tensor,
}

impl ChatModel for ImageChat<'_> {
    fn chat(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation> {
        let ids = self.model.prompt_ids(messages)?;
        let device = self.model.llava.decoder().device().clone();
        let ids = Tensor::new(ids.as_slice(), &device)?.unsqueeze(0)?;
        let MultimodalPromptModel {
            llava, tokenizer, ..
        } = &mut *self.model;
        llava.generate(tokenizer, &ids, &self.pixels, params, on_token)
    }

    fn text_tokenizer(&self) -> &TextTokenizer {
        self.model.tokenizer()
    }

    /// One row after the other; the image prompt is processed once and its
    /// keys/values restored before each row (the same answers as separate
    /// [`ChatModel::chat`] calls with seeds `seed + row`).
    fn chat_batch(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        rows: usize,
        mut constraint: Option<&mut dyn TokenConstraint>,
        on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
    ) -> Result<Vec<Generation>> {
        let ids = self.model.prompt_ids(messages)?;
        let device = self.model.llava.decoder().device().clone();
        let ids = Tensor::new(ids.as_slice(), &device)?.unsqueeze(0)?;
        let MultimodalPromptModel {
            llava, tokenizer, ..
        } = &mut *self.model;
        let embeds = llava.embed(&ids, &self.pixels)?;
        let prompt = prefill_embeds(llava.decoder_mut(), &embeds)?;
        let cache = llava.decoder().kv_cache();
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let row_params = SamplingParams {
                seed: params.seed.wrapping_add(row as u64),
                ..params.clone()
            };
            let decoder = llava.decoder_mut();
            decoder.restore_kv_cache(&cache, prompt.len)?;
            let rule: Option<(&mut dyn TokenConstraint, usize)> = match constraint.as_mut() {
                Some(c) => Some((&mut **c, row)),
                None => None,
            };
            let mut verdict = RowFlow::Continue;
            let mut generation = generate_prefilled(
                decoder,
                tokenizer,
                &prompt,
                &row_params,
                rule,
                &mut |piece| {
                    verdict = on_token(row, piece);
                    match verdict {
                        RowFlow::Continue => ControlFlow::Continue(()),
                        RowFlow::Finish | RowFlow::Cancel => ControlFlow::Break(()),
                    }
                },
            )?;
            if verdict == RowFlow::Finish {
                generation.stop = StopReason::EndOfText;
            }
            let cancelled = generation.stop == StopReason::Cancelled;
            out.push(generation);
            if cancelled {
                break;
            }
        }
        Ok(out)
    }
}
