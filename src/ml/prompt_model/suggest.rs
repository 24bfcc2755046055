//! Product-aware background suggestions.
//!
//! The pipeline ([`SuggestMode::Pipeline`], the default): the model writes
//! `count * candidates_per_suggestion` scene plans for the product in one
//! batch (see [`super::scene`]); each is assembled into a prompt, cleaned
//! for Stable Diffusion and screened ([`super::screen`], every rejection
//! named); the ones that pass are ranked by relevance to the product (a
//! [`TextEmbedder`], when there is one) and `count` are picked with
//! maximal marginal relevance. When fewer than `count` pass the rules, or
//! some but fewer than `count` of those match the product (relevance at
//! least [`MATCH_THRESHOLD`](super::matching::MATCH_THRESHOLD)), one more
//! round is written (smaller and sampled warmer); when none passes, the
//! best rejected ones are returned, marked.
//!
//! [`SuggestMode::Raw`] is the model on its own, for comparison: one free
//! answer per suggestion to a plain instruction, cleaned, nothing rejected.

use std::ops::ControlFlow;

use super::clean::TokenCounter;
use super::error::{PromptModelError, Result};
use super::generate::SamplingParams;
use super::instructions::ImageFacts;
use super::multimodal::ChatModel;
use super::screen::RejectReason;

pub use super::pipeline::suggest_backgrounds;

/// Turns texts into embeddings for ranking (the relevance model).
pub trait TextEmbedder {
    /// One L2-normalised embedding per text.
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

impl TextEmbedder for crate::ml::relevance::RelevanceModel {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed(texts)
            .map_err(|e| PromptModelError::Input(format!("relevance model: {e}")))
    }
}

/// How suggestions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SuggestMode {
    /// Over-generate scene plans whose phrases are constrained to the
    /// scene library, screen, rank, pick with diversity.
    #[default]
    Pipeline,
    /// The same pipeline with free-text plan lines (no phrase library):
    /// kept to measure what the constraint brings.
    FreePlan,
    /// One free answer per suggestion, unscreened (the baseline).
    Raw,
}

/// A request for background suggestions.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestRequest {
    /// Product title (non-empty; long titles are shortened by
    /// [`super::prompt_title`] before they go into the prompt).
    pub title: String,
    /// The text suggestions are compared with for relevance (default: the
    /// whole title and its category, guessed by the relevance model; see
    /// [`super::matching`]).
    pub relevance_target: Option<String>,
    /// Facts about the product image (used by the raw mode's instruction).
    pub facts: Option<ImageFacts>,
    /// Number of suggestions wanted (default 4).
    pub count: usize,
    /// Sampling settings; candidate `i` of a request uses seed `sampling.seed + i`.
    pub sampling: SamplingParams,
    /// Candidates written per wanted suggestion in the first round (default
    /// 3; a later round writes at most 2 per suggestion, sampled warmer).
    pub candidates_per_suggestion: usize,
    /// Most rounds of candidates when too few pass and match (default 2).
    pub max_rounds: usize,
    /// Pipeline or raw.
    pub mode: SuggestMode,
}

impl SuggestRequest {
    /// Four suggestions for `title` from 12 candidates (at most two rounds),
    /// temperature 0.8, top-p 0.9, seed 0, at most 56 new tokens per plan.
    /// (CAIG samples its 7B model at 1.0; a 135M model drifts into unrelated
    /// text at 1.0, so the default is lower.)
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            relevance_target: None,
            facts: None,
            count: 4,
            sampling: SamplingParams {
                temperature: 0.8,
                top_p: Some(0.9),
                max_new_tokens: 56,
                ..SamplingParams::default()
            },
            candidates_per_suggestion: 3,
            max_rounds: 2,
            mode: SuggestMode::Pipeline,
        }
    }
}

/// A candidate answer and what the screening made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The cleaned prompt text.
    pub text: String,
    /// The model's raw answer.
    pub raw: String,
    /// Sampling seed used.
    pub seed: u64,
    /// The rule it breaks (`None`: it passed).
    pub rejected: Option<RejectReason>,
    /// Cosine similarity to the product text (when ranked).
    pub relevance: Option<f32>,
}

/// One background description.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The cleaned text, ready to be the Stable Diffusion prompt.
    pub text: String,
    /// The model's raw answer.
    pub raw: String,
    /// Sampling seed used.
    pub seed: u64,
    /// Token count of `text` by the counter given to [`suggest_backgrounds`].
    pub tokens: usize,
    /// Cosine similarity to the product text (`None` without a relevance model).
    pub relevance: Option<f32>,
    /// Set when no candidate passed the screening and this is one of the
    /// best rejected ones, shown marked: the rule it breaks.
    pub rejected: Option<RejectReason>,
}

/// What [`suggest_backgrounds`] returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuggestReport {
    /// The picked suggestions, most relevant first.
    pub suggestions: Vec<Suggestion>,
    /// Every candidate written, in order, with its verdict.
    pub candidates: Vec<Candidate>,
    /// The text relevance was measured against (`None`: not ranked).
    pub relevance_target: Option<String>,
    /// Whether the plans were constrained to the scene library (false in
    /// the raw and free-plan modes, and when the model's tokenizer cannot
    /// write the library's phrases exactly).
    pub constrained: bool,
}

impl SuggestReport {
    /// Rejected candidates per reason, in rule order (reasons with none left out).
    pub fn rejected_counts(&self) -> Vec<(RejectReason, usize)> {
        RejectReason::ALL
            .iter()
            .map(|r| {
                let n = self
                    .candidates
                    .iter()
                    .filter(|c| c.rejected.as_ref() == Some(r))
                    .count();
                (r.clone(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Whether the suggestions are rejected ones shown because none passed.
    pub fn nothing_passed(&self) -> bool {
        self.suggestions.iter().any(|s| s.rejected.is_some())
    }
}

/// Progress of [`suggest_backgrounds`], for streaming to a UI.
#[derive(Debug, Clone, PartialEq)]
pub enum SuggestEvent<'a> {
    /// A round of candidates `first .. first + candidates` starts.
    Round {
        /// Round number (0-based).
        round: usize,
        /// Index of the round's first candidate.
        first: usize,
        /// Candidates in this round.
        candidates: usize,
    },
    /// A piece of raw text of a candidate.
    Token {
        /// Candidate index.
        candidate: usize,
        /// Decoded text piece.
        piece: &'a str,
    },
    /// A candidate was cleaned and screened.
    Screened {
        /// Candidate index.
        candidate: usize,
        /// Its cleaned text.
        text: &'a str,
        /// The rule it breaks (`None`: it passed).
        rejected: Option<&'a RejectReason>,
    },
    /// Candidates are being ranked.
    Ranking {
        /// How many passed the screening.
        passed: usize,
    },
}

/// Forwards an event; `Break` becomes [`PromptModelError::Cancelled`].
pub(super) fn emit(
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
    event: SuggestEvent<'_>,
) -> Result<()> {
    match on_event(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(PromptModelError::Cancelled),
    }
}

/// Arguments shared by the pipeline's steps.
pub(super) struct Env<'a> {
    pub model: &'a mut dyn ChatModel,
    pub counter: &'a dyn TokenCounter,
    pub embedder: Option<&'a dyn TextEmbedder>,
}
