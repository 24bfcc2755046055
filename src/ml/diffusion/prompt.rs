//! Prompt -> text embeddings (tokenize, encode), reporting truncation.

use candle_core::{Device, Tensor};

use super::clip_text::ClipTextModel;
use super::error::Result;
use super::tokenizer::ClipTokenizer;

/// Text embeddings of a prompt and its negative prompt.
#[derive(Debug, Clone)]
pub struct PromptEmbeddings {
    /// Prompt embeddings `(1, 77, d)`.
    pub positive: Tensor,
    /// Negative-prompt embeddings `(1, 77, d)`.
    pub negative: Tensor,
}

/// Embeddings plus what was cut off each prompt.
#[derive(Debug, Clone)]
pub struct EncodedPrompts {
    /// The embeddings.
    pub embeddings: PromptEmbeddings,
    /// Tokens of the prompt dropped by truncation (0 if it fit).
    pub prompt_truncated_tokens: usize,
    /// Tokens of the negative prompt dropped by truncation.
    pub negative_truncated_tokens: usize,
}

/// The text side of Stable Diffusion: tokenizer + CLIP text encoder.
#[derive(Debug, Clone, Copy)]
pub struct TextEncoder<'a> {
    /// The tokenizer.
    pub tokenizer: &'a ClipTokenizer,
    /// The text model.
    pub model: &'a ClipTextModel,
}

impl TextEncoder<'_> {
    /// Embeds one prompt; returns `(embeddings (1, 77, d), truncated tokens)`.
    /// Prompts are encoded one at a time (batch 1) so results do not depend
    /// on what else is in the batch.
    pub fn encode(&self, prompt: &str, device: &Device) -> Result<(Tensor, usize)> {
        let tokens = self.tokenizer.encode(prompt)?;
        let ids = Tensor::new(tokens.ids.as_slice(), device)?.unsqueeze(0)?;
        Ok((self.model.forward(&ids)?, tokens.truncated_tokens))
    }

    /// Embeds a prompt and a negative prompt (empty string for none).
    pub fn encode_pair(
        &self,
        prompt: &str,
        negative: &str,
        device: &Device,
    ) -> Result<EncodedPrompts> {
        let (positive, prompt_truncated_tokens) = self.encode(prompt, device)?;
        let (negative, negative_truncated_tokens) = self.encode(negative, device)?;
        Ok(EncodedPrompts {
            embeddings: PromptEmbeddings { positive, negative },
            prompt_truncated_tokens,
            negative_truncated_tokens,
        })
    }
}
