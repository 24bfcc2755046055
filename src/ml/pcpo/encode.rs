//! Turning text (chat prompt with a product title, answers) into the token
//! ids of [`ProductPrompt`] and [`PreferencePair`], with the title's token span
//! found through the tokenizer's byte offsets.

use super::data::ProductPrompt;
use super::error::{PcpoError, Result};
use crate::ml::prompt_model::{ChatMessage, ChatTemplate, Role, TextTokenizer};

/// Tokenises the chat prompt of `messages` (ending where the assistant
/// answers) and marks as title tokens every token whose bytes overlap the
/// first occurrence of `title` in the rendered prompt (a token that joins a
/// space or quote of the template to the title's first word counts as a
/// title token; no token wholly outside the title does).
pub fn product_prompt(
    tokenizer: &TextTokenizer,
    template: ChatTemplate,
    messages: &[ChatMessage],
    title: &str,
) -> Result<ProductPrompt> {
    let title = title.trim();
    let text = template.render(messages, true);
    let start = match text.find(title) {
        Some(s) if !title.is_empty() => s,
        _ => {
            return Err(PcpoError::Data(format!(
                "the product title `{title}` does not occur in its prompt"
            )))
        }
    };
    let end = start + title.len();
    let ids = tokenizer.encode(&text)?;
    let enc = tokenizer
        .inner()
        .encode(text.as_str(), false)
        .map_err(|e| PcpoError::Data(format!("cannot tokenise the prompt: {e}")))?;
    let shift = ids.len().saturating_sub(enc.len());
    let hits: Vec<usize> = enc
        .get_offsets()
        .iter()
        .enumerate()
        .filter(|(_, &(a, b))| a < end && b > start && b > a)
        .map(|(i, _)| i + shift)
        .collect();
    match (hits.first(), hits.last()) {
        (Some(&first), Some(&last)) => Ok(ProductPrompt {
            ids,
            title: first..last + 1,
        }),
        _ => Err(PcpoError::Data(format!(
            "no token of the prompt covers the title `{title}`"
        ))),
    }
}

/// The LLaVA form of [`product_prompt`]: the first user message starts
/// with the image placeholder `image_token` (text) on its own line, as the
/// multimodal model is prompted for suggestions, and the placeholder's id
/// `image_id` is expanded to `tokens` copies ([`expand_image_token`]).
pub fn image_product_prompt(
    tokenizer: &TextTokenizer,
    template: ChatTemplate,
    messages: &[ChatMessage],
    title: &str,
    (image_token, image_id, tokens): (&str, u32, usize),
) -> Result<ProductPrompt> {
    let mut with_image = messages.to_vec();
    let first_user = with_image
        .iter_mut()
        .find(|m| m.role == Role::User)
        .ok_or_else(|| PcpoError::Data("the chat has no user message".to_string()))?;
    first_user.content = format!("{image_token}\n{}", first_user.content);
    let prompt = product_prompt(tokenizer, template, &with_image, title)?;
    expand_image_token(prompt, image_id, tokens)
}

/// Replaces the single `image_id` token of `prompt` by `tokens` copies,
/// shifting the title span behind it; fails unless the prompt holds that
/// token exactly once, outside the title.
pub fn expand_image_token(
    prompt: ProductPrompt,
    image_id: u32,
    tokens: usize,
) -> Result<ProductPrompt> {
    let at: Vec<usize> = prompt
        .ids
        .iter()
        .enumerate()
        .filter(|(_, &id)| id == image_id)
        .map(|(p, _)| p)
        .collect();
    let p = match at.as_slice() {
        [p] if !prompt.title.contains(p) && tokens > 0 => *p,
        _ => {
            return Err(PcpoError::Data(format!(
                "the prompt holds the image token {image_id} {} times (once, outside the title, is needed)",
                at.len()
            )))
        }
    };
    let mut ids = prompt.ids[..p].to_vec();
    ids.extend(std::iter::repeat_n(image_id, tokens));
    ids.extend_from_slice(&prompt.ids[p + 1..]);
    let shift = |i: usize| if i > p { i + tokens - 1 } else { i };
    Ok(ProductPrompt {
        ids,
        title: shift(prompt.title.start)..shift(prompt.title.end),
    })
}

/// Token ids of an assistant answer followed by the first end-of-turn token
/// of the tokenizer (if it has one), as the model would emit it.
pub fn answer_ids(tokenizer: &TextTokenizer, answer: &str) -> Result<Vec<u32>> {
    let enc = tokenizer
        .inner()
        .encode(answer.trim(), false)
        .map_err(|e| PcpoError::Data(format!("cannot tokenise an answer: {e}")))?;
    let mut ids = enc.get_ids().to_vec();
    if ids.is_empty() {
        return Err(PcpoError::Data("an answer is empty".to_string()));
    }
    ids.extend(tokenizer.eos_ids().first());
    Ok(ids)
}
