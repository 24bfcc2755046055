//! `adstudio suggest`: background ideas for a product from the prompt model
//! (GGUF or Hugging Face folder; LLaVA folders see the product image,
//! text-only models get facts measured on it).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::jobs::InlineReporter;
use crate::ml::prompt_model::{prompt_title, SuggestMode, Suggestion};
use crate::product::{CanvasSettings, MaskSettings};
use crate::studio::product::prepare_file;
use crate::studio::suggest::suggest;
use crate::studio::{
    ModelHub, ModelRegistry, ModelRole, Progress, SuggestJob, SuggestOutcome, SuggestProgress,
};

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
    /// Hugging Face folder (Llama/Qwen2, or LLaVA with a vision tower);
    /// default: the `prompt-model` role (`ADSTUDIO_PROMPT_MODEL`,
    /// `<data dir>/models/prompt-model`, `./models/prompt-model`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Sampling seed (candidate i uses seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f64,
    /// Nucleus sampling threshold.
    #[arg(long, default_value_t = 0.9)]
    pub top_p: f64,
    /// Longest answer in tokens.
    #[arg(long, default_value_t = 56)]
    pub max_tokens: usize,
    /// Do not print the candidates and their verdicts to stderr.
    #[arg(long)]
    pub quiet: bool,
    /// The raw model, for comparison: one free answer per suggestion, no
    /// screening, ranking or over-generation.
    #[arg(long)]
    pub raw: bool,
}

/// Generates the suggestions; `on_piece` receives streamed text.
pub fn run_suggest_with(
    args: &SuggestArgs,
    registry: ModelRegistry,
    on_piece: &mut dyn FnMut(&str),
) -> anyhow::Result<SuggestOutcome> {
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
    let hub = ModelHub::new(registry.with_explicit(ModelRole::PromptModel, args.model.as_deref()));
    hub.locate(ModelRole::PromptModel)?;
    let prepared = prepare_file(
        &hub,
        &args.product,
        &MaskSettings::default(),
        &CanvasSettings::default(),
    );
    let (image, mask) = match prepared {
        Ok(p) => (p.image, Some(Arc::new(p.mask.mask))),
        Err(e) => {
            log::warn!("no product mask ({e:#}); using every pixel");
            let image = crate::product::load_product_file(&args.product)?;
            (image, None)
        }
    };
    let job = SuggestJob {
        title: args.title.clone(),
        image: Arc::new(image),
        mask,
        count: args.n,
        temperature: args.temperature,
        top_p: args.top_p,
        seed: args.seed,
        max_new_tokens: Some(args.max_tokens),
        mode: if args.raw {
            SuggestMode::Raw
        } else {
            SuggestMode::Pipeline
        },
        adapter: None,
    };
    let pieces = std::cell::RefCell::new(on_piece);
    let reporter = InlineReporter::new(|p: Progress| {
        let mut on_piece = pieces.borrow_mut();
        match p {
            Progress::Suggest(SuggestProgress::Screened {
                candidate,
                text,
                rejected,
            }) => on_piece(&match rejected {
                Some(reason) => format!(
                    "candidate {}: {text}  [rejected: {reason}]\n",
                    candidate + 1
                ),
                None => format!("candidate {}: {text}  [ok]\n", candidate + 1),
            }),
            Progress::Suggest(SuggestProgress::Ranking { passed }) => {
                on_piece(&format!("{passed} candidates passed the rules\n"))
            }
            _ => {}
        }
    });
    let outcome = suggest(&hub, &reporter, &job)?;
    if outcome.ranked_by.is_none() && !args.raw {
        log::warn!("no relevance model (role minilm): suggestions are not ranked");
    }
    if !outcome.constrained && !args.raw {
        eprintln!(
            "note: free-text scene plans: the model's tokenizer cannot write the scene library's phrases exactly"
        );
    }
    Ok(outcome)
}

/// One output line: the text, or `[rejected: reason] text` for a best
/// rejected one shown because none passed.
fn line_of(s: &Suggestion) -> String {
    match &s.rejected {
        Some(reason) => format!("[rejected: {reason}] {}", s.text),
        None => s.text.clone(),
    }
}

/// Runs `adstudio suggest`: each candidate and its verdict go to stderr,
/// the picked suggestions to stdout, one per line. When no candidate
/// passes the rules, the best rejected ones are printed marked
/// (`[rejected: reason] text`) and the command fails. A long title is shortened for
/// the prompt model, with a note on stderr giving the title used.
pub fn run_suggest(args: &SuggestArgs, registry: ModelRegistry) -> anyhow::Result<()> {
    let title = prompt_title(&args.title)?;
    if title.shortened {
        eprintln!(
            "note: title shortened for the prompt model: \"{}\"",
            title.text
        );
    }
    let quiet = args.quiet;
    let mut stderr = std::io::stderr();
    let outcome = run_suggest_with(args, registry, &mut |piece| {
        if !quiet {
            // Streaming is best effort: a closed stderr must not stop the work.
            let _ = stderr.write_all(piece.as_bytes());
            let _ = stderr.flush();
        }
    })?;
    for s in &outcome.suggestions {
        println!("{}", line_of(s));
    }
    if outcome.nothing_passed() {
        anyhow::bail!(
            "none of the {} candidates passed the rules (try another --seed or a higher --temperature); the lines above are the best rejected ones, marked",
            outcome.candidates.len()
        );
    }
    if outcome.suggestions.len() < args.n {
        anyhow::bail!(
            "the model gave only {} usable suggestions of {} (try another --seed or a higher --temperature)",
            outcome.suggestions.len(),
            args.n
        );
    }
    Ok(())
}
