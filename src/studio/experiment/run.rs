//! Running the PCPO-versus-DPO experiment.
//!
//! 1. Data, on-policy: for every training and evaluation title the base
//!    model writes candidates the way the studio writes suggestions
//!    ([`suggest_backgrounds`], each requested mode, ranked by the relevance
//!    model); every distinct non-empty candidate text joins the title's
//!    pool (rejected ones too: the source judges style, not the rules), and
//!    up to `pairs_per_title` pairs are drawn from it by the luxury-word
//!    source ([`luxury_pairs`]). A pair is encoded like the studio's stored
//!    labels for `pcpo train`: the instruction for the (shortened) title as
//!    the prompt, the suggestion text as the answer.
//! 2. Training: plain DPO (`w = 0`) and PCPO (`w = pcpo_weight`) start
//!    from the same decoder with the same settings and seed, so they draw
//!    the same adapter initialisation, shuffles and corruptions.
//! 3. After every epoch (and at epoch 0, the base model): preference
//!    accuracy and reward margin on the evaluation titles' pairs, and fresh
//!    suggestions for the evaluation titles (fixed seeds per title, so only
//!    the weights differ between epochs) measured by matching rate, mean
//!    relevance and luxury words.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context as _;
use candle_core::Tensor;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{
    epoch_line, mode_name, DataSummary, EpochFigures, ExperimentReport, ExperimentSettings,
    MethodCurve, ModeFigures, SamplePair, SampleSuggestion,
};
use crate::ml::pcpo::{
    answer_ids, luxury_count, luxury_pairs, product_prompt, PcpoConfig, PcpoTrainer,
    PreferencePair, TrainControl, TrainingSet, LUXURY_WORDS,
};
use crate::ml::prompt_model::instructions::instruction;
use crate::ml::prompt_model::matching::MATCH_THRESHOLD;
use crate::ml::prompt_model::{
    prompt_title, suggest_backgrounds, ChatMessage, PromptModel, Role, SuggestMode, SuggestRequest,
    Suggestion,
};
use crate::ml::relevance::RelevanceModel;

/// Evaluation titles whose last-epoch suggestions the report keeps.
const SAMPLE_TITLES: usize = 2;

/// Training pairs the report shows.
const EXAMPLE_PAIRS: usize = 6;

/// What the experiment runs on.
pub struct ExperimentInput<'a> {
    /// The prompt model with dense f32 weights (trainable).
    pub model: &'a PromptModel,
    /// How the prompt model is named in the report.
    pub model_name: String,
    /// The relevance model (ranking and matching).
    pub ranker: &'a RelevanceModel,
    /// How the relevance model is named in the report.
    pub relevance_name: String,
    /// Titles the pairs are trained on.
    pub train_titles: Vec<String>,
    /// Held-out titles: their pairs measure preference accuracy, their
    /// fresh suggestions the matching rate.
    pub eval_titles: Vec<String>,
    /// The settings (`modes` must name known modes).
    pub settings: ExperimentSettings,
}

/// Runs the experiment, reporting each line of progress (data, every
/// epoch of every method) to `on_line`.
pub fn run_experiment(
    input: &ExperimentInput<'_>,
    on_line: &mut dyn FnMut(&str),
) -> anyhow::Result<ExperimentReport> {
    let started = Instant::now();
    let modes = modes_of(&input.settings)?;
    anyhow::ensure!(
        input.settings.epochs > 0,
        "the experiment needs at least 1 epoch"
    );
    anyhow::ensure!(
        !input.eval_titles.is_empty(),
        "the experiment needs at least 1 evaluation title"
    );
    let mut base = clone_model(input.model);
    let data_started = Instant::now();
    let train = build_set(&mut base, input, &input.train_titles, 0, &modes, on_line)?;
    let offset = input.train_titles.len();
    let eval = build_set(
        &mut base,
        input,
        &input.eval_titles,
        offset,
        &modes,
        on_line,
    )?;
    anyhow::ensure!(
        train.set.pairs.len() >= 2,
        "too few luxury pairs to train: {} from {} training titles (every title's candidates tied on luxury words; try more titles or --pairs-per-title)",
        train.set.pairs.len(),
        input.train_titles.len()
    );
    let candidates = train.candidates + eval.candidates;
    let data = DataSummary {
        train_titles: input.train_titles.clone(),
        eval_titles: input.eval_titles.clone(),
        candidates,
        candidate_luxury_share: share(train.luxury + eval.luxury, candidates),
        train_pairs: train.set.pairs.len(),
        eval_pairs: eval.set.pairs.len(),
        titles_without_pairs: train.without_pairs + eval.without_pairs,
        examples: train.examples.clone(),
        seconds: data_started.elapsed().as_secs_f64(),
    };
    on_line(&format!(
        "data: {} candidates, {} training pairs, {} held-out pairs, {} titles without pairs [{:.0} s]",
        data.candidates, data.train_pairs, data.eval_pairs, data.titles_without_pairs, data.seconds
    ));
    let mut methods = Vec::new();
    for (name, weight) in [("dpo", 0.0), ("pcpo", input.settings.pcpo_weight)] {
        let sets = (&train.set, &eval.set);
        methods.push(run_method(input, &modes, (name, weight), sets, on_line)?);
    }
    Ok(ExperimentReport {
        model: input.model_name.clone(),
        relevance_model: input.relevance_name.clone(),
        match_threshold: MATCH_THRESHOLD,
        luxury_words: LUXURY_WORDS.iter().map(|w| w.to_string()).collect(),
        threads: std::env::var("CANDLE_NUM_THREADS").unwrap_or_else(|_| "all".into()),
        settings: input.settings.clone(),
        data,
        methods,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn modes_of(settings: &ExperimentSettings) -> anyhow::Result<Vec<SuggestMode>> {
    anyhow::ensure!(!settings.modes.is_empty(), "no suggestion mode to measure");
    settings
        .modes
        .iter()
        .map(|m| {
            super::parse_mode(m).with_context(|| {
                format!("unknown suggestion mode `{m}` (pipeline, free-plan, raw)")
            })
        })
        .collect()
}

fn share(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

/// A copy of `model` (weights shared) for writing suggestions.
fn clone_model(model: &PromptModel) -> PromptModel {
    PromptModel::from_parts(
        model.decoder().clone(),
        model.tokenizer().clone(),
        model.template(),
    )
}

/// The trainer's current policy as a model for writing suggestions: the
/// base decoder with the adapters' current values attached as fixed
/// (detached) factors, as the studio applies a saved adapter. Generating
/// with the trainable variables themselves would record every step in
/// the autograd graph and keep all of it alive.
fn policy_model(base: &PromptModel, trainer: &PcpoTrainer) -> anyhow::Result<PromptModel> {
    let mut decoder = base.decoder().clone();
    decoder.remove_lora();
    let factors: HashMap<String, Tensor> = trainer
        .adapter_tensors()?
        .into_iter()
        .map(|(name, t)| (name, t.detach()))
        .collect();
    decoder
        .load_lora(&factors, "", trainer.config().lora_alpha)
        .context("attaching the trained adapters")?;
    Ok(PromptModel::from_parts(
        decoder,
        base.tokenizer().clone(),
        base.template(),
    ))
}

/// Seed of the candidates written for title `index` (training titles
/// first, then evaluation titles) and of the fresh suggestions for
/// evaluation title `index`.
fn pool_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_mul(7919)
        .wrapping_add(1_000_000 + 1000 * index as u64)
}

fn fresh_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_mul(7919).wrapping_add(1000 * index as u64)
}

/// Suggestions for `title` in `mode` with the studio's default sampling.
fn suggestions(
    model: &mut PromptModel,
    ranker: &RelevanceModel,
    (title, mode, count, seed): (&str, SuggestMode, usize, u64),
) -> anyhow::Result<crate::ml::prompt_model::SuggestReport> {
    let mut req = SuggestRequest::new(title.to_string());
    req.count = count.max(1);
    req.mode = mode;
    req.sampling.seed = seed;
    let counter = model.tokenizer().clone();
    suggest_backgrounds(model, &req, &counter, Some(ranker), &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .with_context(|| format!("suggestions ({}) for \"{title}\"", mode_name(mode)))
}

/// The distinct non-empty candidate texts the model writes for `title`.
fn write_pool(
    model: &mut PromptModel,
    input: &ExperimentInput<'_>,
    modes: &[SuggestMode],
    (title, index): (&str, usize),
) -> anyhow::Result<Vec<String>> {
    let mut pool: Vec<String> = Vec::new();
    for &mode in modes {
        let seed = pool_seed(input.settings.seed, index);
        let count = input.settings.suggestions;
        let report = suggestions(model, input.ranker, (title, mode, count, seed))?;
        for c in report.candidates {
            let text = c.text.trim().to_string();
            if !text.is_empty() && !pool.contains(&text) {
                pool.push(text);
            }
        }
    }
    Ok(pool)
}

/// A tokenised set of luxury pairs and what went into it.
struct BuiltSet {
    set: TrainingSet,
    candidates: usize,
    luxury: usize,
    without_pairs: usize,
    examples: Vec<SamplePair>,
}

/// Writes the pools of `titles` (indices from `offset`) and forms and
/// tokenises their pairs.
fn build_set(
    model: &mut PromptModel,
    input: &ExperimentInput<'_>,
    titles: &[String],
    offset: usize,
    modes: &[SuggestMode],
    on_line: &mut dyn FnMut(&str),
) -> anyhow::Result<BuiltSet> {
    let mut built = BuiltSet {
        set: TrainingSet::default(),
        candidates: 0,
        luxury: 0,
        without_pairs: 0,
        examples: Vec::new(),
    };
    for (i, title) in titles.iter().enumerate() {
        let index = offset + i;
        let pool = write_pool(model, input, modes, (title, index))?;
        built.candidates += pool.len();
        built.luxury += pool.iter().filter(|t| luxury_count(t) > 0).count();
        let mut rng = StdRng::seed_from_u64(pool_seed(input.settings.seed, index) ^ 0x9a12);
        let pairs = luxury_pairs(&pool, input.settings.pairs_per_title, &mut rng);
        on_line(&format!(
            "title {}/{}: {} candidates, {} pairs: {}",
            index + 1,
            input.train_titles.len() + input.eval_titles.len(),
            pool.len(),
            pairs.len(),
            title.chars().take(50).collect::<String>()
        ));
        if pairs.is_empty() {
            built.without_pairs += 1;
            continue;
        }
        let tok = model.tokenizer();
        let short = prompt_title(title)?.text;
        let messages = [ChatMessage::new(Role::User, instruction(0, &short, None))];
        let prompt = product_prompt(tok, model.template(), &messages, &short)
            .with_context(|| format!("the prompt of \"{short}\""))?;
        built.set.products.push(prompt);
        let product = built.set.products.len() - 1;
        for p in pairs {
            let (chosen, rejected) = (&pool[p.chosen], &pool[p.rejected]);
            if built.examples.len() < EXAMPLE_PAIRS {
                built.examples.push(SamplePair {
                    title: short.clone(),
                    chosen: chosen.clone(),
                    rejected: rejected.clone(),
                });
            }
            built.set.pairs.push(PreferencePair {
                product,
                chosen: answer_ids(tok, chosen)?,
                rejected: answer_ids(tok, rejected)?,
            });
        }
    }
    Ok(built)
}

/// Fresh suggestions of `model` for the evaluation titles: figures per
/// mode and the first titles' suggestions.
fn measure_fresh(
    model: &mut PromptModel,
    input: &ExperimentInput<'_>,
    modes: &[SuggestMode],
) -> anyhow::Result<(Vec<ModeFigures>, Vec<SampleSuggestion>)> {
    let mut figures = Vec::new();
    let mut samples = Vec::new();
    for &mode in modes {
        let mut all: Vec<Suggestion> = Vec::new();
        for (i, title) in input.eval_titles.iter().enumerate() {
            let seed = fresh_seed(input.settings.seed, i);
            let count = input.settings.suggestions;
            let report = suggestions(model, input.ranker, (title, mode, count, seed))?;
            if i < SAMPLE_TITLES {
                samples.extend(report.suggestions.iter().map(|s| SampleSuggestion {
                    title: title.chars().take(60).collect(),
                    mode: mode_name(mode).to_string(),
                    text: s.text.clone(),
                    relevance: s.relevance.unwrap_or(0.0),
                }));
            }
            all.extend(report.suggestions);
        }
        figures.push(ModeFigures::measure(mode_name(mode), &all, MATCH_THRESHOLD));
    }
    Ok((figures, samples))
}

fn config_for(input: &ExperimentInput<'_>, weight: f64) -> PcpoConfig {
    let s = &input.settings;
    let tok = input.model.tokenizer();
    PcpoConfig {
        beta: s.beta,
        weight,
        learning_rate: s.learning_rate,
        epochs: s.epochs,
        batch_size: s.batch_size,
        seed: s.seed,
        mask_token_id: ["<|endoftext|>", "<unk>"]
            .iter()
            .find_map(|t| tok.token_id(t))
            .unwrap_or(0),
        ..PcpoConfig::default()
    }
}

/// Figures of the trainer's current policy after `epoch` epochs.
fn measure(
    trainer: &mut PcpoTrainer,
    input: &ExperimentInput<'_>,
    modes: &[SuggestMode],
    (epoch, eval, train_seconds): (usize, &TrainingSet, f64),
) -> anyhow::Result<(EpochFigures, Vec<SampleSuggestion>)> {
    let started = Instant::now();
    let held_out = if eval.pairs.is_empty() {
        None
    } else {
        Some(
            trainer
                .evaluate(eval)
                .context("scoring the held-out pairs")?,
        )
    };
    let mut model = policy_model(input.model, trainer)?;
    let (figures, samples) = measure_fresh(&mut model, input, modes)?;
    let figures = EpochFigures {
        epoch,
        preference_accuracy: held_out.map(|m| m.accuracy),
        reward_margin: held_out.map(|m| m.reward_margin),
        train_loss: trainer
            .history()
            .last()
            .filter(|_| epoch > 0)
            .map(|r| r.train.loss),
        modes: figures,
        train_seconds,
        eval_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((figures, samples))
}

/// Trains one method epoch by epoch, measuring before and after each.
fn run_method(
    input: &ExperimentInput<'_>,
    modes: &[SuggestMode],
    (name, weight): (&str, f64),
    (train, eval): (&TrainingSet, &TrainingSet),
    on_line: &mut dyn FnMut(&str),
) -> anyhow::Result<MethodCurve> {
    let started = Instant::now();
    let config = config_for(input, weight);
    let mut trainer = PcpoTrainer::new(input.model.decoder().clone(), config)
        .with_context(|| format!("attaching the {name} adapters"))?;
    let (first, mut samples) = measure(&mut trainer, input, modes, (0, eval, 0.0))?;
    on_line(&epoch_line(name, &first));
    let mut epochs = vec![first];
    for epoch in 1..=input.settings.epochs {
        let t = Instant::now();
        trainer
            .train_until(epoch, train, None, TrainControl::default(), &mut |_| {})
            .with_context(|| format!("{name} epoch {epoch}"))?;
        let train_seconds = t.elapsed().as_secs_f64();
        let (figures, last) = measure(&mut trainer, input, modes, (epoch, eval, train_seconds))?;
        on_line(&epoch_line(name, &figures));
        epochs.push(figures);
        samples = last;
    }
    Ok(MethodCurve {
        method: name.to_string(),
        weight,
        epochs,
        seconds: started.elapsed().as_secs_f64(),
        samples,
    })
}
