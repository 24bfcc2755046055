//! Background suggestions in the studio.
//!
//! - Model-worker side: [`PromptModelSlot`] finds and lazily loads the
//!   prompt model from `<models>/prompt-model` (a `.gguf` file or a Hugging
//!   Face folder, LLaVA folders with image input) and keeps it loaded;
//!   [`run_suggest`] is the job: it streams every generated piece as a
//!   `Token` event and marks the start of each attempt with a `Progress`
//!   event whose `done` is the index (within the job) of the suggestion
//!   being written.
//! - UI side: [`SuggestState`] holds the editable list and turns those
//!   events into live text.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use candle_core::Device;
use image::{GrayImage, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::jobs::{Cancelled, JobContext, JobId};
use crate::ml::prompt_model::{
    clean_answer, image_facts, suggest_backgrounds, ChatModel, LoadOptions, MultimodalPromptModel,
    PromptModel, PromptModelError, SuggestEvent, SuggestRequest, Suggestion, TokenCounter,
};
use crate::product::ProductImage;

/// The prompt model's folder inside the models dir.
pub const PROMPT_MODEL_DIR: &str = "prompt-model";

/// Sampling settings of the Suggest button (persisted with the UI prefs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestSettings {
    /// Suggestions per click (K).
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

/// Where a prompt model was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptModelLocation {
    /// A `.gguf` file (text-only).
    Gguf(PathBuf),
    /// A Hugging Face folder with a text-only decoder.
    TextFolder(PathBuf),
    /// A LLaVA folder (image + text).
    LlavaFolder(PathBuf),
}

impl PromptModelLocation {
    /// The file or folder.
    pub fn path(&self) -> &Path {
        match self {
            Self::Gguf(p) | Self::TextFolder(p) | Self::LlavaFolder(p) => p,
        }
    }
}

/// Finds the prompt model in `<dir>/prompt-model` for the first of
/// `model_dirs` that has one: the folder itself when it holds a
/// `config.json`, else the first `.gguf` file in it (by name). The error
/// names the expected folder and what belongs there.
pub fn locate_prompt_model(model_dirs: &[PathBuf]) -> anyhow::Result<PromptModelLocation> {
    for dir in model_dirs {
        if let Some(found) = prompt_model_in(&dir.join(PROMPT_MODEL_DIR))? {
            return Ok(found);
        }
    }
    let expected = model_dirs
        .first()
        .map_or_else(|| PathBuf::from("models"), Clone::clone)
        .join(PROMPT_MODEL_DIR);
    anyhow::bail!(
        "no prompt model in {}: put a .gguf file (e.g. SmolLM2-135M-Instruct) or a Hugging Face \
         model folder (config.json, tokenizer.json, *.safetensors) there",
        expected.display()
    )
}

fn prompt_model_in(folder: &Path) -> anyhow::Result<Option<PromptModelLocation>> {
    let config = folder.join("config.json");
    if config.is_file() {
        let text = std::fs::read_to_string(&config)
            .with_context(|| format!("reading {}", config.display()))?;
        return Ok(Some(if text.contains("\"llava\"") {
            PromptModelLocation::LlavaFolder(folder.to_path_buf())
        } else {
            PromptModelLocation::TextFolder(folder.to_path_buf())
        }));
    }
    Ok(super::models::first_file_with_extension(folder, "gguf").map(PromptModelLocation::Gguf))
}

enum ChatBackend {
    Text(Box<PromptModel>),
    Image(Box<MultimodalPromptModel>),
}

struct LoadedPromptModel {
    location: PromptModelLocation,
    backend: ChatBackend,
    counter: Box<dyn TokenCounter + Send>,
}

/// The prompt model as the model worker holds it: found and loaded on first
/// use, then kept (reloaded only when the file or folder changes).
pub struct PromptModelSlot {
    model_dirs: Vec<PathBuf>,
    loaded: Option<LoadedPromptModel>,
}

impl PromptModelSlot {
    /// A slot that looks for the model in `model_dirs`, in order.
    pub fn new(model_dirs: Vec<PathBuf>) -> Self {
        Self {
            model_dirs,
            loaded: None,
        }
    }

    /// Whether a model is loaded.
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }

    fn get(&mut self) -> anyhow::Result<&mut LoadedPromptModel> {
        let location = locate_prompt_model(&self.model_dirs)?;
        if self.loaded.as_ref().is_some_and(|l| l.location != location) {
            self.loaded = None;
        }
        match &mut self.loaded {
            Some(loaded) => Ok(loaded),
            slot @ None => Ok(slot.insert(load_prompt_model(&self.model_dirs, location)?)),
        }
    }
}

/// The CLIP tokenizer of an installed SD checkpoint, if any (it counts
/// prompt tokens exactly as the renderer will).
fn clip_counter(model_dirs: &[PathBuf]) -> Option<tokenizers::Tokenizer> {
    model_dirs.iter().find_map(|dir| {
        let path = dir.join("sd15/tokenizer/tokenizer.json");
        tokenizers::Tokenizer::from_file(&path).ok()
    })
}

fn load_prompt_model(
    model_dirs: &[PathBuf],
    location: PromptModelLocation,
) -> anyhow::Result<LoadedPromptModel> {
    let loading = || format!("loading the prompt model {}", location.path().display());
    let (backend, own): (ChatBackend, Box<dyn TokenCounter + Send>) = match &location {
        PromptModelLocation::LlavaFolder(dir) => {
            let model = MultimodalPromptModel::load(dir, &Device::Cpu).with_context(loading)?;
            let tokenizer = model.tokenizer().clone();
            (ChatBackend::Image(Box::new(model)), Box::new(tokenizer))
        }
        PromptModelLocation::Gguf(path) | PromptModelLocation::TextFolder(path) => {
            let model = PromptModel::load(path, &LoadOptions::default()).with_context(loading)?;
            let tokenizer = model.tokenizer().clone();
            (ChatBackend::Text(Box::new(model)), Box::new(tokenizer))
        }
    };
    let counter = match clip_counter(model_dirs) {
        Some(clip) => Box::new(clip) as Box<dyn TokenCounter + Send>,
        None => own,
    };
    Ok(LoadedPromptModel {
        location,
        backend,
        counter,
    })
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
    /// Sampling settings.
    pub settings: SuggestSettings,
    /// The seed of this request.
    pub seed: u64,
}

/// What a suggestion job returns.
#[derive(Debug, Clone)]
pub struct SuggestOutcome {
    /// The accepted suggestions (may be fewer than asked for).
    pub suggestions: Vec<Suggestion>,
    /// The model that wrote them.
    pub model: PathBuf,
}

/// Runs a suggestion job on the model worker (see the module docs for the
/// events it sends). Cancel stops it at the next token.
pub fn run_suggest<O>(
    slot: &mut PromptModelSlot,
    ctx: &JobContext<'_, O>,
    job: &SuggestJob,
) -> anyhow::Result<SuggestOutcome> {
    let count = job.count.max(1);
    ctx.progress(0, count as u64, "loading the prompt model");
    let loaded = slot.get()?;
    ctx.checkpoint()?;
    let mut request = SuggestRequest::new(job.title.clone());
    request.count = count;
    request.sampling.temperature = f64::from(job.settings.temperature.max(0.0));
    request.sampling.top_p = Some(f64::from(job.settings.top_p.clamp(0.0, 1.0)));
    request.sampling.seed = job.seed;
    let mut accepted = 0usize;
    let mut on_event = |event: SuggestEvent<'_>| {
        match event {
            SuggestEvent::Started { attempt, .. } => ctx.progress(
                accepted as u64,
                count as u64,
                format!("suggestion {} (attempt {})", accepted + 1, attempt + 1),
            ),
            SuggestEvent::Token { piece, .. } => ctx.token(piece),
            SuggestEvent::Accepted { .. } => accepted += 1,
            SuggestEvent::Rejected { reason, .. } => log::debug!("suggestion rejected: {reason}"),
        }
        if ctx.cancel_token().is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let counter = loaded.counter.as_ref();
    let result = match &mut loaded.backend {
        ChatBackend::Text(model) => {
            request.facts =
                Some(image_facts(&masked_product(job)).context("measuring the product image")?);
            suggest_backgrounds(
                model.as_mut() as &mut dyn ChatModel,
                &request,
                counter,
                &mut on_event,
            )
        }
        ChatBackend::Image(model) => {
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
            model: loaded.location.path().to_path_buf(),
        }),
        Err(PromptModelError::Cancelled) => Err(Cancelled.into()),
        Err(err) => Err(anyhow::Error::new(err).context("writing suggestions")),
    }
}

/// The product image with the mask as alpha when the photo is opaque and
/// a mask of the same size exists (so facts describe the product, not its
/// backdrop).
fn masked_product(job: &SuggestJob) -> RgbaImage {
    let mut rgba = job.image.rgba.clone();
    if let Some(mask) = job
        .mask
        .as_deref()
        .filter(|m| !job.image.has_transparency && m.dimensions() == rgba.dimensions())
    {
        for (pixel, m) in rgba.pixels_mut().zip(mask.pixels()) {
            pixel.0[3] = m.0[0];
        }
    }
    rgba
}

/// One suggestion in the panel's list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestionEntry {
    /// The text (streamed while generating, then cleaned, then editable).
    pub text: String,
    /// Whether the model is writing this entry now.
    pub generating: bool,
}

#[derive(Debug, Clone)]
struct RunningSuggest {
    job: JobId,
    first_slot: usize,
    count: usize,
    /// The slot tokens go to, once the first attempt started.
    current: Option<usize>,
    /// Texts of the slots before the job, restored when it fails or is
    /// cancelled before writing them.
    previous: Vec<String>,
    /// The job replaces the whole list (entries past its slots go when it
    /// succeeds).
    replaces_list: bool,
}

/// The suggestions panel's state (runtime only).
#[derive(Debug, Clone, Default)]
pub struct SuggestState {
    /// The editable list.
    pub entries: Vec<SuggestionEntry>,
    /// The last message (and whether it is an error).
    pub message: Option<(String, bool)>,
    running: Option<RunningSuggest>,
    requests: u64,
}

impl SuggestState {
    /// Whether a suggestion job is queued or running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The running job, if any.
    pub fn job(&self) -> Option<JobId> {
        self.running.as_ref().map(|r| r.job)
    }

    /// A fresh seed for the next request (base seed plus a request counter,
    /// so "regenerate" never repeats the same answer).
    pub fn next_seed(&mut self, settings: &SuggestSettings) -> u64 {
        let seed = settings
            .seed
            .wrapping_add(self.requests.wrapping_mul(1_000_003));
        self.requests += 1;
        seed
    }

    /// Clears the list (a new product was opened).
    pub fn reset(&mut self) {
        *self = Self {
            requests: self.requests,
            ..Self::default()
        };
    }

    /// A job writing `count` suggestions from slot `first_slot` on was
    /// submitted; the list grows to hold them and they show as generating.
    /// With `replaces_list`, a successful job also drops the entries after
    /// its slots (a fresh set); until then the old texts stay restorable.
    pub fn begin(&mut self, job: JobId, first_slot: usize, count: usize, replaces_list: bool) {
        if self.entries.len() < first_slot + count {
            self.entries
                .resize(first_slot + count, SuggestionEntry::default());
        }
        let slots = first_slot..first_slot + count;
        let previous = self.entries[slots.clone()]
            .iter()
            .map(|e| e.text.clone())
            .collect();
        // The slots start empty (their old texts come back on cancel).
        for entry in &mut self.entries[slots] {
            entry.generating = true;
            entry.text.clear();
        }
        self.message = None;
        self.running = Some(RunningSuggest {
            job,
            first_slot,
            count,
            current: None,
            previous,
            replaces_list,
        });
    }

    fn running_for(&mut self, id: JobId) -> Option<&mut RunningSuggest> {
        self.running.as_mut().filter(|r| r.job == id)
    }

    /// A `Progress` event: an attempt for suggestion `done` (within the
    /// job) started, so that slot's draft starts over. Returns whether the
    /// event belonged to the suggestion job.
    pub fn on_progress(&mut self, id: JobId, done: u64) -> bool {
        let Some(running) = self.running_for(id) else {
            return false;
        };
        let index = usize::try_from(done).unwrap_or(usize::MAX);
        if index >= running.count {
            return true;
        }
        let slot = running.first_slot + index;
        running.current = Some(slot);
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.text.clear();
        }
        true
    }

    /// A `Token` event: appends the piece to the slot being written.
    /// Returns whether the event belonged to the suggestion job.
    pub fn on_token(&mut self, id: JobId, piece: &str) -> bool {
        let Some(running) = self.running_for(id) else {
            return false;
        };
        if let Some(entry) = running.current.and_then(|slot| self.entries.get_mut(slot)) {
            entry.text.push_str(piece);
        }
        true
    }

    /// The job finished: its slots get the cleaned suggestions; slots it
    /// could not fill keep their previous text (or are dropped when new).
    pub fn on_done(&mut self, id: JobId, outcome: SuggestOutcome) -> bool {
        let Some(running) = self.running.take_if(|r| r.job == id) else {
            return false;
        };
        let mut texts = outcome.suggestions.into_iter().map(|s| s.text);
        let mut missing = 0;
        for (i, previous) in running.previous.iter().enumerate() {
            let Some(entry) = self.entries.get_mut(running.first_slot + i) else {
                continue;
            };
            entry.generating = false;
            match texts.next() {
                Some(text) => entry.text = text,
                None => {
                    missing += 1;
                    entry.text = previous.clone();
                }
            }
        }
        if running.replaces_list {
            self.entries.truncate(running.first_slot + running.count);
        }
        self.entries
            .retain(|e| !e.text.trim().is_empty() || e.generating);
        self.message = Some(if missing == 0 {
            (
                format!("Suggestions by {}", display_name(&outcome.model)),
                false,
            )
        } else {
            (
                format!(
                    "{missing} of {} suggestions had no usable answer; try again or raise the temperature",
                    running.count
                ),
                true,
            )
        });
        true
    }

    /// The job failed or was cancelled: finished slots keep their streamed
    /// text (cleaned), the others get their previous text back.
    pub fn on_ended(&mut self, id: JobId, error: Option<String>) -> bool {
        let Some(running) = self.running.take_if(|r| r.job == id) else {
            return false;
        };
        let current = running.current.unwrap_or(running.first_slot);
        for (i, previous) in running.previous.iter().enumerate() {
            let slot = running.first_slot + i;
            let Some(entry) = self.entries.get_mut(slot) else {
                continue;
            };
            entry.generating = false;
            if slot < current {
                entry.text = clean_answer(&entry.text);
            } else {
                entry.text = previous.clone();
            }
        }
        self.entries.retain(|e| !e.text.trim().is_empty());
        self.message = Some(match error {
            Some(error) => (error, true),
            None => ("Suggestions cancelled".to_string(), false),
        });
        true
    }
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn outcome(texts: &[&str]) -> SuggestOutcome {
        SuggestOutcome {
            suggestions: texts
                .iter()
                .map(|t| Suggestion {
                    text: t.to_string(),
                    raw: t.to_string(),
                    phrasing: 0,
                    seed: 0,
                    tokens: 0,
                })
                .collect(),
            model: PathBuf::from("m.gguf"),
        }
    }

    #[test]
    fn streamed_tokens_fill_slots_in_order_and_done_replaces_them() {
        let mut state = SuggestState::default();
        let job = JobId(7);
        state.begin(job, 0, 2, true);
        assert_eq!(state.entries.len(), 2);
        assert!(state.on_progress(job, 0));
        state.on_token(job, "red ");
        state.on_token(job, "wall");
        assert_eq!(state.entries[0].text, "red wall");
        // A rejected attempt restarts the same slot.
        state.on_progress(job, 0);
        assert_eq!(state.entries[0].text, "");
        state.on_token(job, "sunny beach.");
        state.on_progress(job, 1);
        state.on_token(job, "forest");
        assert_eq!(state.entries[1].text, "forest");
        assert!(!state.on_token(JobId(8), "other job"));
        assert!(state.on_done(job, outcome(&["sunny beach", "misty forest"])));
        assert_eq!(state.entries[0].text, "sunny beach");
        assert_eq!(state.entries[1].text, "misty forest");
        assert!(state.entries.iter().all(|e| !e.generating));
        assert!(!state.is_running());
    }

    #[test]
    fn cancelled_regeneration_restores_the_previous_text() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        state.on_done(JobId(1), outcome(&["a b", "c d"]));
        state.begin(JobId(2), 1, 1, false);
        state.on_progress(JobId(2), 0);
        state.on_token(JobId(2), "half writ");
        state.on_ended(JobId(2), None);
        assert_eq!(state.entries[0].text, "a b");
        assert_eq!(state.entries[1].text, "c d");
        assert!(!state.is_running());
    }

    #[test]
    fn missing_model_names_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = [dir.path().to_path_buf()];
        let err = locate_prompt_model(&dirs).unwrap_err().to_string();
        assert!(err.contains("prompt-model"), "{err}");
        std::fs::create_dir_all(dir.path().join(PROMPT_MODEL_DIR)).unwrap();
        std::fs::write(dir.path().join("prompt-model/b.gguf"), b"x").unwrap();
        std::fs::write(dir.path().join("prompt-model/a.gguf"), b"x").unwrap();
        assert_eq!(
            locate_prompt_model(&dirs).unwrap(),
            PromptModelLocation::Gguf(dir.path().join("prompt-model/a.gguf"))
        );
    }
}
