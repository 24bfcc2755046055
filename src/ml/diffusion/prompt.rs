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

/// Cleans a prompt model's answer for use as an SD prompt (CAIG): removes
/// quotes, newlines and periods, and collapses the whitespace left behind.
/// Apostrophes inside words ("L'OCCITANE") are kept.
pub fn clean_generated_prompt(answer: &str) -> String {
    let chars: Vec<char> = answer.chars().collect();
    let inside_word = |i: usize| {
        i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
    };
    let replaced: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            '\'' | '\u{2019}' if inside_word(i) => c,
            '"' | '\'' | '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '.' | '\n' | '\r' => {
                ' '
            }
            other => other,
        })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_prompts_lose_quotes_newlines_and_periods() {
        assert_eq!(
            clean_generated_prompt("\"A marble table.\nSoft light.\" "),
            "A marble table Soft light"
        );
        assert_eq!(
            clean_generated_prompt("\u{201c}bokeh, 85mm\u{201d}"),
            "bokeh, 85mm"
        );
    }
}
