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
    image_facts, prompt_title, suggest_backgrounds, ChatModel, PromptModelError, SuggestEvent,
    SuggestRequest, Suggestion,
};
use crate::product::ProductImage;

use super::engines::PromptBackend;
use super::hub::ModelHub;
use super::product::masked_rgba;
use super::progress::{Progress, SuggestProgress};

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
}

/// What a suggestion job returns.
#[derive(Debug, Clone)]
pub struct SuggestOutcome {
    /// The accepted suggestions (may be fewer than asked for).
    pub suggestions: Vec<Suggestion>,
    /// The model that wrote them.
    pub model: PathBuf,
    /// The title the model was given, when the product's title was too
    /// long and was shortened for it.
    pub shortened_title: Option<String>,
}

/// Writes suggestions with the hub's prompt model (loaded on first use).
/// Text-only models get facts measured on the masked product; LLaVA models
/// see the image. Cancel stops at the next token.
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
    let mut outcome = models.with_prompt_model(|engine| {
        let request = request_for(job, count);
        run_with(engine, rep, job, request)
    })??;
    outcome.shortened_title = title.shortened.then_some(title.text);
    Ok(outcome)
}

fn request_for(job: &SuggestJob, count: usize) -> SuggestRequest {
    let mut request = SuggestRequest::new(job.title.clone());
    request.count = count;
    request.sampling.temperature = job.temperature.max(0.0);
    request.sampling.top_p = Some(job.top_p.clamp(0.0, 1.0));
    request.sampling.seed = job.seed;
    if let Some(max) = job.max_new_tokens {
        request.sampling.max_new_tokens = max;
    }
    request
}

fn run_with(
    engine: &mut super::engines::PromptEngine,
    rep: &dyn Reporter<Progress>,
    job: &SuggestJob,
    mut request: SuggestRequest,
) -> anyhow::Result<SuggestOutcome> {
    let mut slot = 0usize;
    let mut on_event = |event: SuggestEvent<'_>| {
        let progress = match event {
            SuggestEvent::Started { attempt, .. } => {
                Some(SuggestProgress::Attempt { slot, attempt })
            }
            SuggestEvent::Token { piece, .. } => Some(SuggestProgress::Token {
                slot,
                text: piece.to_string(),
            }),
            SuggestEvent::Accepted { .. } => {
                slot += 1;
                None
            }
            SuggestEvent::Rejected { reason, .. } => Some(SuggestProgress::Rejected {
                slot,
                reason: reason.to_string(),
            }),
        };
        if let Some(progress) = progress {
            rep.report(Progress::Suggest(progress));
        }
        if rep.cancel_token().is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let counter = engine.counter.as_ref();
    let result = match &mut engine.backend {
        PromptBackend::Text(model) => {
            let rgba = masked_rgba(&job.image, job.mask.as_deref());
            request.facts = Some(image_facts(&rgba).context("measuring the product image")?);
            suggest_backgrounds(
                model.as_mut() as &mut dyn ChatModel,
                &request,
                counter,
                &mut on_event,
            )
        }
        PromptBackend::Image(model) => {
            let pixels = model
                .pixels(&job.image.rgba)
                .context("preparing the product image for the prompt model")?;
            let mut chat = model.with_image(pixels);
            suggest_backgrounds(&mut chat, &request, counter, &mut on_event)
        }
    };
    match result {
        Ok(suggestions) => Ok(SuggestOutcome {
            suggestions,
            model: engine.path.clone(),
            shortened_title: None,
        }),
        Err(PromptModelError::Cancelled) => Err(Cancelled.into()),
        Err(err) => Err(anyhow::Error::new(err).context("writing suggestions")),
    }
}
