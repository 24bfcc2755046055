//! Product-aware background suggestions: K distinct, cleaned background
//! descriptions for a product title (plus image facts in text-only mode).

use std::ops::ControlFlow;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::chat::{ChatMessage, Role};
use super::clean::{clean_for_sd, TokenCounter};
use super::error::{PromptModelError, Result};
use super::generate::{SamplingParams, StopReason};
use super::instructions::{instruction, ImageFacts, EXAMPLES, PHRASINGS, SYSTEM_PROMPT};
use super::multimodal::ChatModel;
use super::screen::{word_jaccard, words};
use super::title::prompt_title;

/// A request for background suggestions.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestRequest {
    /// Product title (non-empty; long titles are shortened by
    /// [`prompt_title`] before they go into the instruction).
    pub title: String,
    /// Facts about the product image (text-only models).
    pub facts: Option<ImageFacts>,
    /// Number of suggestions wanted (default 4).
    pub count: usize,
    /// Sampling settings; attempt `i` uses seed `sampling.seed + i`.
    pub sampling: SamplingParams,
    /// Generations tried per wanted suggestion before giving up (default 4).
    pub attempts_per_suggestion: usize,
}

impl SuggestRequest {
    /// Four suggestions for `title`, temperature 0.8, top-p 0.9, seed 0, at
    /// most 60 new tokens. (CAIG samples its 7B model at 1.0; a 135M model
    /// drifts into unrelated text at 1.0, so the default is lower.)
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            facts: None,
            count: 4,
            sampling: SamplingParams {
                temperature: 0.8,
                top_p: Some(0.9),
                max_new_tokens: 60,
                ..SamplingParams::default()
            },
            attempts_per_suggestion: 4,
        }
    }
}

/// One background description.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The cleaned text, ready to be the Stable Diffusion prompt.
    pub text: String,
    /// The model's raw answer.
    pub raw: String,
    /// Index of the instruction phrasing used.
    pub phrasing: usize,
    /// Sampling seed used.
    pub seed: u64,
    /// Token count of `text` by the counter given to [`suggest_backgrounds`].
    pub tokens: usize,
}

/// Progress of [`suggest_backgrounds`], for streaming to a UI.
#[derive(Debug, Clone, PartialEq)]
pub enum SuggestEvent<'a> {
    /// Attempt `attempt` started with the given phrasing and seed.
    Started {
        /// Attempt number (0-based).
        attempt: usize,
        /// Phrasing index.
        phrasing: usize,
        /// Sampling seed.
        seed: u64,
    },
    /// A piece of raw text of the current attempt.
    Token {
        /// Attempt number.
        attempt: usize,
        /// Decoded text piece.
        piece: &'a str,
    },
    /// An attempt produced an accepted suggestion.
    Accepted {
        /// Attempt number.
        attempt: usize,
        /// The suggestion.
        suggestion: &'a Suggestion,
    },
    /// An attempt's answer was discarded.
    Rejected {
        /// Attempt number.
        attempt: usize,
        /// Why (empty, copy of the title or an example, echo of the instruction, duplicate).
        reason: &'a str,
    },
}

/// Why a cleaned answer cannot be used, if it cannot.
fn rejection(
    text: &str,
    title: &str,
    request: &str,
    accepted: &[Suggestion],
) -> Option<&'static str> {
    let w = words(text);
    if w.len() < 2 {
        return Some("empty or too short");
    }
    let joined = w.join(" ");
    let title_joined = words(title).join(" ");
    if joined == title_joined || title_joined.contains(&joined) {
        return Some("copy of the title");
    }
    if word_jaccard(text, request) > 0.5 {
        return Some("echo of the instruction");
    }
    if EXAMPLES
        .iter()
        .any(|(_, answer)| word_jaccard(text, answer) > 0.6)
    {
        return Some("copy of a worked example");
    }
    if accepted.iter().any(|s| word_jaccard(&s.text, text) > 0.8) {
        return Some("duplicate of an earlier suggestion");
    }
    None
}

/// Generates `req.count` distinct background descriptions for a product.
///
/// Each attempt picks one of the instruction phrasings at random (seeded by
/// `req.sampling.seed`), samples an answer, cleans it for Stable Diffusion
/// (quotes, newlines, periods removed, at most 77 tokens by `counter`) and
/// keeps it unless it is too short, a copy of the title, or a near-duplicate
/// (word-set Jaccard > 0.8) of an earlier one. Returns fewer suggestions only
/// if `count * attempts_per_suggestion` attempts were not enough. `on_event`
/// returning `Break` cancels (the error is [`PromptModelError::Cancelled`]).
pub fn suggest_backgrounds(
    model: &mut dyn ChatModel,
    req: &SuggestRequest,
    counter: &dyn TokenCounter,
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<Suggestion>> {
    let title = prompt_title(&req.title)?.text;
    if req.count == 0 {
        return Err(PromptModelError::Input(
            "zero suggestions requested".to_string(),
        ));
    }
    let mut rng = StdRng::seed_from_u64(req.sampling.seed ^ 0x5eed_ba5e);
    let mut accepted: Vec<Suggestion> = Vec::new();
    let attempts = req.count * req.attempts_per_suggestion.max(1);
    for attempt in 0..attempts {
        if accepted.len() == req.count {
            break;
        }
        let phrasing = rng.random_range(0..PHRASINGS.len());
        let seed = req.sampling.seed.wrapping_add(attempt as u64);
        if on_event(SuggestEvent::Started {
            attempt,
            phrasing,
            seed,
        })
        .is_break()
        {
            return Err(PromptModelError::Cancelled);
        }
        let request = instruction(phrasing, &title, req.facts.as_ref());
        let mut messages = vec![ChatMessage::new(Role::System, SYSTEM_PROMPT)];
        for (example_title, answer) in EXAMPLES {
            // Examples always use the first phrasing so that the system message
            // and examples form a prefix shared by every request (KV reuse).
            messages.push(ChatMessage::new(
                Role::User,
                instruction(0, example_title, None),
            ));
            messages.push(ChatMessage::new(Role::Assistant, answer));
        }
        messages.push(ChatMessage::new(Role::User, request.clone()));
        let params = SamplingParams {
            seed,
            ..req.sampling.clone()
        };
        let generation = model.chat(&messages, &params, &mut |piece| {
            on_event(SuggestEvent::Token { attempt, piece })
        })?;
        if generation.stop == StopReason::Cancelled {
            return Err(PromptModelError::Cancelled);
        }
        let text = clean_for_sd(&generation.text, counter)?;
        match rejection(&text, &title, &request, &accepted) {
            Some(reason) => {
                if on_event(SuggestEvent::Rejected { attempt, reason }).is_break() {
                    return Err(PromptModelError::Cancelled);
                }
            }
            None => {
                let suggestion = Suggestion {
                    tokens: counter.count_tokens(&text)?,
                    text,
                    raw: generation.text,
                    phrasing,
                    seed,
                };
                let flow = on_event(SuggestEvent::Accepted {
                    attempt,
                    suggestion: &suggestion,
                });
                accepted.push(suggestion);
                if flow.is_break() {
                    return Err(PromptModelError::Cancelled);
                }
            }
        }
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Suggestion {
        Suggestion {
            text: text.to_string(),
            raw: text.to_string(),
            phrasing: 0,
            seed: 0,
            tokens: 0,
        }
    }

    #[test]
    fn rejects_copies_duplicates_and_empty_answers() {
        let title = "Ceramic coffee mug, 350 ml";
        assert_eq!(rejection("", title, "", &[]), Some("empty or too short"));
        assert_eq!(
            rejection("ceramic coffee mug", title, "", &[]),
            Some("copy of the title")
        );
        assert_eq!(
            rejection(
                "describe a backdrop for the mug",
                title,
                "Describe a backdrop for the mug",
                &[]
            ),
            Some("echo of the instruction")
        );
        let first = s("wooden kitchen table with morning light");
        assert_eq!(
            rejection(
                "Wooden kitchen table, with morning light",
                title,
                "",
                std::slice::from_ref(&first)
            ),
            Some("duplicate of an earlier suggestion")
        );
        assert_eq!(
            rejection("cozy cafe counter at dusk", title, "", &[first]),
            None
        );
    }
}
