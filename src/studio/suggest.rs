//! Background suggestions: the prompt model from the hub writes K
//! descriptions for a product, streaming typed progress (attempt and token
//! per slot). The studio's Suggest button and `adstudio suggest` both run
//! [`suggest`].

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use image::GrayImage;
use serde::{Deserialize, Serialize};

use crate::jobs::{Cancelled, Reporter};
use crate::ml::prompt_model::{
    image_facts, prompt_title, suggest_backgrounds, Candidate, ChatModel, PromptModelError,
    SuggestEvent, SuggestMode, SuggestRequest, Suggestion, TextEmbedder,
};
use crate::ml::relevance::RelevanceModel;
use crate::product::ProductImage;

use super::adapters::ActiveAdapter;
use super::engines::PromptBackend;
use super::hub::ModelHub;
use super::product::masked_rgba;
use super::progress::{Progress, SuggestProgress};
use super::registry::ModelRole;

/// Sampling settings of a suggestion request (the studio persists them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestSettings {
    /// Suggestions per request (K).
    pub count: usize,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus (top-p) threshold.
    pub top_p: f32,
    /// Base seed; each request offsets it so regenerating gives new text.
    pub seed: u64,
}

impl Default for SuggestSettings {
    /// Four suggestions, temperature 0.8, top-p 0.9, seed 0 (the prompt
    /// model's defaults for a small model).
    fn default() -> Self {
        Self {
            count: 4,
            temperature: 0.8,
            top_p: 0.9,
            seed: 0,
        }
    }
}

/// One suggestion job: the product and the sampling settings.
#[derive(Clone)]
pub struct SuggestJob {
    /// The product title.
    pub title: String,
    /// The product image (RGBA, alpha = product).
    pub image: Arc<ProductImage>,
    /// The product mask (255 = product), used instead of the alpha channel
    /// of opaque photos when measuring image facts.
    pub mask: Option<Arc<GrayImage>>,
    /// Number of suggestions.
    pub count: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Nucleus threshold.
    pub top_p: f64,
    /// The seed of this request.
    pub seed: u64,
    /// Most new tokens per answer (`None`: the model's default).
    pub max_new_tokens: Option<usize>,
    /// Pipeline (default) or the raw model, for comparison.
    pub mode: SuggestMode,
    /// The PCPO adapter to apply to the prompt model (`None`: the base
    /// model alone).
    pub adapter: Option<ActiveAdapter>,
}

/// What a suggestion job returns.
#[derive(Debug, Clone)]
pub struct SuggestOutcome {
    /// The picked suggestions, most relevant first (may be fewer than asked
    /// for; when none passed the screening, the best rejected ones, marked).
    pub suggestions: Vec<Suggestion>,
    /// Every candidate written, with its verdict and relevance.
    pub candidates: Vec<Candidate>,
    /// The model that wrote them.
    pub model: PathBuf,
    /// The relevance model that ranked them (`None`: none is installed, the
    /// suggestions are in the order they were written).
    pub ranked_by: Option<PathBuf>,
    /// The title the model was given, when the product's title was too
    /// long and was shortened for it.
    pub shortened_title: Option<String>,
    /// Whether the plans were constrained to the scene library (false for
    /// the raw model, and for a model whose tokenizer cannot write the
    /// library's phrases: its plans are free text).
    pub constrained: bool,
    /// The name of the adapter applied to the model (`None`: the base
    /// model alone).
    pub adapter: Option<String>,
}

impl SuggestOutcome {
    /// Rejected candidates per reason name, in rule order.
    pub fn rejected_counts(&self) -> Vec<(&'static str, usize)> {
        crate::ml::prompt_model::screen::RejectReason::ALL
            .iter()
            .map(|r| {
                let n = self
                    .candidates
                    .iter()
                    .filter(|c| c.rejected.as_ref() == Some(r))
                    .count();
                (r.name(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Whether no candidate passed and the suggestions are rejected ones.
    pub fn nothing_passed(&self) -> bool {
        self.suggestions.iter().any(|s| s.rejected.is_some())
    }
}

/// Writes suggestions with the hub's prompt model (loaded on first use),
/// ranked by the hub's relevance model when one is installed, with the
/// job's adapter applied (reloaded only when it changes; one made for
/// another base model fails the job, no suggestion is written). Text-only
/// models get facts measured on the masked product; LLaVA models see the
/// image. Cancel stops at the next token.
pub fn suggest(
    models: &ModelHub,
    rep: &dyn Reporter<Progress>,
    job: &SuggestJob,
) -> anyhow::Result<SuggestOutcome> {
    let count = job.count.max(1);
    // An unusable title fails before the model is loaded.
    let title = prompt_title(&job.title).context("the product title")?;
    rep.report(Progress::Suggest(SuggestProgress::Loading));
    rep.checkpoint()?;
    let relevance = models.locate(ModelRole::Relevance).ok();
    let mut outcome = models.with_prompt_model(|engine| {
        engine.use_adapter(job.adapter.as_ref())?;
        let request = request_for(job, count);
        match &relevance {
            Some(located) => models
                .with_relevance(|ranker| run_with(engine, rep, job, request, Some(ranker)))?
                .map(|mut o| {
                    o.ranked_by = Some(located.path.clone());
                    o
                }),
            None => run_with(engine, rep, job, request, None),
        }
    })??;
    outcome.shortened_title = title.shortened.then_some(title.text);
    outcome.adapter = job.adapter.as_ref().map(|a| a.name.clone());
    Ok(outcome)
}

fn request_for(job: &SuggestJob, count: usize) -> SuggestRequest {
    let mut request = SuggestRequest::new(job.title.clone());
    request.count = count;
    request.mode = job.mode;
    request.sampling.temperature = job.temperature.max(0.0);
    request.sampling.top_p = Some(job.top_p.clamp(0.0, 1.0));
    request.sampling.seed = job.seed;
    if let Some(max) = job.max_new_tokens {
        request.sampling.max_new_tokens = max;
    }
    request
}

/// The job's progress as a suggestion-event callback that also cancels.
fn progress_of(event: SuggestEvent<'_>) -> SuggestProgress {
    match event {
        SuggestEvent::Round {
            round,
            first,
            candidates,
        } => SuggestProgress::Round {
            round,
            first,
            candidates,
        },
        SuggestEvent::Token { candidate, piece } => SuggestProgress::Token {
            candidate,
            text: piece.to_string(),
        },
        SuggestEvent::Screened {
            candidate,
            text,
            rejected,
        } => SuggestProgress::Screened {
            candidate,
            text: text.to_string(),
            rejected: rejected.map(|r| r.name().to_string()),
        },
        SuggestEvent::Ranking { passed } => SuggestProgress::Ranking { passed },
    }
}

fn run_with(
    engine: &mut super::engines::PromptEngine,
    rep: &dyn Reporter<Progress>,
    job: &SuggestJob,
    mut request: SuggestRequest,
    ranker: Option<&RelevanceModel>,
) -> anyhow::Result<SuggestOutcome> {
    let mut on_event = |event: SuggestEvent<'_>| {
        rep.report(Progress::Suggest(progress_of(event)));
        if rep.cancel_token().is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let counter = engine.counter.as_ref();
    let embedder = ranker.map(|r| r as &dyn TextEmbedder);
    let result = match &mut engine.backend {
        PromptBackend::Text(model) => {
            let rgba = masked_rgba(&job.image, job.mask.as_deref());
            request.facts = Some(image_facts(&rgba).context("measuring the product image")?);
            suggest_backgrounds(
                model.as_mut() as &mut dyn ChatModel,
                &request,
                counter,
                embedder,
                &mut on_event,
            )
        }
        PromptBackend::Image(model) => {
            let pixels = model
                .pixels(&job.image.rgba)
                .context("preparing the product image for the prompt model")?;
            let mut chat = model.with_image(pixels);
            suggest_backgrounds(&mut chat, &request, counter, embedder, &mut on_event)
        }
    };
    match result {
        Ok(report) => Ok(SuggestOutcome {
            suggestions: report.suggestions,
            candidates: report.candidates,
            model: engine.path.clone(),
            ranked_by: None,
            shortened_title: None,
            constrained: report.constrained,
            adapter: None,
        }),
        Err(PromptModelError::Cancelled) => Err(Cancelled.into()),
        Err(err) => Err(anyhow::Error::new(err).context("writing suggestions")),
    }
}
