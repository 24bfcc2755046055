//! A product's suggestions and renders in a batch, each reused from the
//! store when the same work was done before: suggestions by product and
//! settings (`batch_suggestions`), renders by product, seed and the exact
//! parameters a new render would record (prompt, steps, canvas, models,
//! adapter).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::jobs::{Cancelled, Reporter};
use crate::ml::prompt_model::SuggestMode;
use crate::render::{ModelIds, PngParams, RenderParams, RenderRequest};
use crate::store::{NewBatchSuggestions, RenderId};

use super::super::adapters::ActiveAdapter;
use super::super::progress::Progress;
use super::super::render::{render_variant, save_variant};
use super::super::suggest::{suggest, SuggestJob};
use super::super::Studio;
use super::item::PreparedRow;
use super::BatchSettings;

/// A seed derived from the batch seed, the product id, what it is for and
/// an index: the same catalog and `--seed` give the same seeds on every
/// run, whatever the order of the rows.
pub fn derive_seed(base: u64, product_id: &str, what: &str, index: usize) -> u64 {
    let mut h = Sha256::new();
    h.update(base.to_le_bytes());
    h.update(product_id.as_bytes());
    h.update([0]);
    h.update(what.as_bytes());
    h.update((index as u64).to_le_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Kept below 2^53 so the seed survives JSON readers that use doubles.
    u64::from_le_bytes(bytes) >> 11
}

/// The prompt model's text for a row: the title, with the category in
/// parentheses when there is one.
pub fn prompt_text(title: &str, category: Option<&str>) -> String {
    match category {
        Some(c) => format!("{title} ({c})"),
        None => title.to_string(),
    }
}

/// A product's suggestions, and whether they came from the store.
pub struct Suggestions {
    /// Distinct, non-empty suggestions (at most K).
    pub texts: Vec<String>,
    /// The prompt model that wrote them (file or folder name).
    pub model: String,
    /// Reused from an earlier run.
    pub reused: bool,
    /// Seconds in the prompt model (0 when reused).
    pub seconds: f64,
}

/// What suggestions for a row are: the product's text, K, seed, sampling,
/// prompt model and adapter (the key of `batch_suggestions`).
#[allow(clippy::too_many_arguments)]
pub fn suggestions(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedRow,
    text: &str,
    k: usize,
    seed: u64,
    settings: &BatchSettings,
    adapter: Option<&ActiveAdapter>,
) -> anyhow::Result<Suggestions> {
    let model_path = studio
        .models
        .locate(super::super::ModelRole::PromptModel)?
        .path;
    let model = super::super::display_name(&model_path);
    let key = json!({
        "text": text,
        "k": k,
        "seed": seed,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_new_tokens": settings.max_new_tokens,
        "prompt_model": model,
        "adapter": adapter.map(|a| a.name.clone()),
    });
    let stored = studio.store.batch_suggestions(item.product, &key)?;
    if !stored.is_empty() {
        return Ok(Suggestions {
            texts: stored.into_iter().map(|r| r.text).collect(),
            model,
            reused: true,
            seconds: 0.0,
        });
    }
    let job = SuggestJob {
        title: text.to_string(),
        image: Arc::clone(&item.image),
        mask: Some(Arc::clone(&item.mask)),
        count: k,
        temperature: settings.temperature,
        top_p: settings.top_p,
        seed,
        max_new_tokens: settings.max_new_tokens,
        mode: SuggestMode::Pipeline,
        adapter: adapter.cloned(),
    };
    let started = Instant::now();
    let outcome = suggest(&studio.models, rep, &job)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut texts: Vec<String> = Vec::new();
    for s in outcome.suggestions {
        let t = s.text.trim().to_string();
        if !t.is_empty() && !texts.contains(&t) {
            texts.push(t);
        }
    }
    texts.truncate(k);
    if texts.is_empty() {
        anyhow::bail!("the prompt model wrote no usable suggestion");
    }
    studio
        .store
        .insert_batch_suggestions(&NewBatchSuggestions {
            product_id: item.product,
            settings_json: &key,
            texts: &texts,
            prompt_model: &model,
            adapter: adapter.map(|a| a.name.as_str()),
        })
        .context("saving the suggestions")?;
    Ok(Suggestions {
        texts,
        model,
        reused: false,
        seconds,
    })
}

/// One render of a product: which suggestion, which seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderSpec {
    /// The prompt (a suggestion).
    pub prompt: String,
    /// The sampler seed.
    pub seed: u64,
    /// Denoising steps.
    pub steps: usize,
}

/// A finished render of a product.
#[derive(Debug, Clone)]
pub struct DoneRender {
    /// Its row.
    pub id: RenderId,
    /// Its PNG in the image store.
    pub path: PathBuf,
    /// What it rendered.
    pub spec: RenderSpec,
    /// Reused from an earlier run.
    pub reused: bool,
    /// Time in the diffusion models (zero when reused).
    pub model_time: Duration,
}

/// The request a render of `spec` is made with.
pub fn request_for(
    item: &PreparedRow,
    spec: &RenderSpec,
    models: &ModelIds,
    adapter: Option<&str>,
) -> RenderRequest {
    RenderRequest {
        params: RenderParams {
            prompt: spec.prompt.clone(),
            seed: spec.seed,
            steps: spec.steps,
            n_variants: 1,
            prompt_adapter: adapter.map(str::to_string),
            ..RenderParams::default()
        },
        canvas: item.canvas_settings,
        models: models.clone(),
    }
}

/// A stored render made exactly as `request` would make it, whose file is
/// still there.
pub fn find_render(
    studio: &Studio,
    item: &PreparedRow,
    request: &RenderRequest,
) -> anyhow::Result<Option<(RenderId, PathBuf)>> {
    let expected = serde_json::to_value(PngParams {
        request: request.for_variant(0),
        variant: 0,
        batch_seed: request.params.seed,
    })?;
    // The stored text parses back to the same value only through the
    // same serialisation: compare like with like.
    let expected: serde_json::Value = serde_json::from_str(&expected.to_string())?;
    let (w, h) = item.canvas.placed.rgba.dimensions();
    let rows = studio
        .store
        .renders_with_seed(item.product, request.params.seed)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.width == w && r.height == h && r.params_json == expected)
        .find_map(|r| {
            let path = studio.images.file_of(&r.image_path, &r.image_hash).ok()?;
            path.is_file().then_some((r.id, path))
        }))
}

/// Renders `request` and saves it (PNG with parameters and a `renders`
/// row); cancel stops within one diffusion step and saves nothing.
pub fn render_new(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedRow,
    request: &RenderRequest,
) -> anyhow::Result<(RenderId, PathBuf, Duration)> {
    let started = Instant::now();
    let (variant, rendered) = render_variant(&studio.models, rep, &item.canvas, request, 0)?;
    let model_time = started.elapsed();
    rep.checkpoint().map_err(|_| Cancelled)?;
    let saved = save_variant(
        &studio.store,
        &studio.images,
        item.product,
        &rendered,
        &variant,
    )
    .context("saving a render")?;
    Ok((saved.id, saved.image.path, model_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_every_input_and_are_stable() {
        let s = derive_seed(7, "mug", "render", 0);
        assert_eq!(s, derive_seed(7, "mug", "render", 0));
        let others = [
            derive_seed(8, "mug", "render", 0),
            derive_seed(7, "cup", "render", 0),
            derive_seed(7, "mug", "suggest", 0),
            derive_seed(7, "mug", "render", 1),
        ];
        assert!(others.iter().all(|o| *o != s));
        assert!(s < 1 << 53);
        assert_eq!(prompt_text("Mug", Some("kitchen")), "Mug (kitchen)");
        assert_eq!(prompt_text("Mug", None), "Mug");
    }
}
