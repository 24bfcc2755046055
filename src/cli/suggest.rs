//! `adstudio suggest`: background ideas for a product from the prompt model
//! (GGUF or Hugging Face folder; LLaVA folders see the product image,
//! text-only models get facts measured on it).

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::Device;
use clap::Args;
use image::RgbaImage;

use crate::ml::prompt_model::{
    image_facts, prompt_title, suggest_backgrounds, LoadOptions, MultimodalPromptModel,
    PromptModel, SuggestEvent, SuggestRequest, Suggestion,
};
use crate::product::{build_mask, load_product_file, MaskEdits, MaskSettings};

/// Arguments of `adstudio suggest`.
#[derive(Debug, Clone, Args)]
pub struct SuggestArgs {
    /// The product image.
    #[arg(long)]
    pub product: PathBuf,
    /// The product title.
    #[arg(long)]
    pub title: String,
    /// Number of suggestions.
    #[arg(long, default_value_t = 4)]
    pub n: usize,
    /// The prompt model: a .gguf file (e.g. SmolLM2-135M-Instruct) or a
    /// Hugging Face folder (Llama/Qwen2, or LLaVA with a vision tower).
    #[arg(long)]
    pub model: PathBuf,
    /// Sampling seed (attempt i uses seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f64,
    /// Nucleus sampling threshold.
    #[arg(long, default_value_t = 0.9)]
    pub top_p: f64,
    /// Longest answer in tokens.
    #[arg(long, default_value_t = 60)]
    pub max_tokens: usize,
    /// Do not stream the model's tokens to stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Whether `path` is a LLaVA model folder (its config.json says `llava`).
fn is_llava_folder(path: &Path) -> bool {
    path.is_dir()
        && std::fs::read_to_string(path.join("config.json"))
            .map(|t| t.contains("\"llava\""))
            .unwrap_or(false)
}

/// The product with its mask as alpha (so image facts describe the product,
/// not its backdrop); the plain image when no mask can be found.
fn product_rgba(path: &Path) -> anyhow::Result<RgbaImage> {
    let product =
        load_product_file(path).with_context(|| format!("reading product {}", path.display()))?;
    let mut rgba = product.rgba.clone();
    match build_mask(&product, &MaskSettings::default(), &MaskEdits::default()) {
        Ok(built) => {
            for (p, m) in rgba.pixels_mut().zip(built.mask.pixels()) {
                p.0[3] = m.0[0];
            }
        }
        Err(e) => log::warn!(
            "no product mask for {} ({e}); using every pixel",
            path.display()
        ),
    }
    Ok(rgba)
}

/// Generates the suggestions; `on_piece` receives streamed text.
pub fn run_suggest_with(
    args: &SuggestArgs,
    on_piece: &mut dyn FnMut(&str),
) -> anyhow::Result<Vec<Suggestion>> {
    if args.n == 0 {
        anyhow::bail!("--n must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.top_p) || args.temperature < 0.0 {
        anyhow::bail!(
            "need 0 <= --top-p <= 1 and --temperature >= 0, got {} and {}",
            args.top_p,
            args.temperature
        );
    }
    // An unusable title fails before the model is loaded.
    prompt_title(&args.title)?;
    let image = product_rgba(&args.product)?;
    let mut request = SuggestRequest::new(args.title.clone());
    request.count = args.n;
    request.sampling.seed = args.seed;
    request.sampling.temperature = args.temperature;
    request.sampling.top_p = Some(args.top_p);
    request.sampling.max_new_tokens = args.max_tokens;
    let mut on_event = |event: SuggestEvent<'_>| {
        match event {
            SuggestEvent::Started { attempt, .. } if attempt > 0 => on_piece("\n"),
            SuggestEvent::Token { piece, .. } => on_piece(piece),
            SuggestEvent::Rejected { reason, .. } => on_piece(&format!("  [discarded: {reason}]")),
            _ => {}
        }
        ControlFlow::Continue(())
    };
    let model_err = || format!("loading prompt model {}", args.model.display());
    let suggestions = if is_llava_folder(&args.model) {
        let mut model =
            MultimodalPromptModel::load(&args.model, &Device::Cpu).with_context(model_err)?;
        let counter = model.tokenizer().clone();
        let pixels = model.pixels(&image)?;
        let mut chat = model.with_image(pixels);
        suggest_backgrounds(&mut chat, &request, &counter, &mut on_event)?
    } else {
        let mut model =
            PromptModel::load(&args.model, &LoadOptions::default()).with_context(model_err)?;
        request.facts = Some(image_facts(&image)?);
        let counter = model.tokenizer().clone();
        suggest_backgrounds(&mut model, &request, &counter, &mut on_event)?
    };
    on_piece("\n");
    if suggestions.len() < args.n {
        anyhow::bail!(
            "the model gave only {} usable suggestions of {} (try another --seed or a higher --temperature)",
            suggestions.len(),
            args.n
        );
    }
    Ok(suggestions)
}

/// Runs `adstudio suggest`: tokens stream to stderr, the cleaned
/// suggestions go to stdout, one per line. A long title is shortened for
/// the prompt model, with a note on stderr giving the title used.
pub fn run_suggest(args: &SuggestArgs) -> anyhow::Result<()> {
    let title = prompt_title(&args.title)?;
    if title.shortened {
        eprintln!(
            "note: title shortened for the prompt model: \"{}\"",
            title.text
        );
    }
    let quiet = args.quiet;
    let mut stderr = std::io::stderr();
    let suggestions = run_suggest_with(args, &mut |piece| {
        if !quiet {
            // Streaming is best effort: a closed stderr must not stop the work.
            let _ = stderr.write_all(piece.as_bytes());
            let _ = stderr.flush();
        }
    })?;
    for s in suggestions {
        println!("{}", s.text);
    }
    Ok(())
}
