//! The suggestion pipeline's steps: write candidates in batches, screen
//! them, rank by relevance, pick with diversity (see [`super::suggest`]).

use std::ops::ControlFlow;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::batch::RowFlow;
use super::category_kinds::{best_category, guess_scores};
use super::chat::{ChatMessage, Role};
use super::clean::{clean_for_sd, TokenCounter};
use super::error::{PromptModelError, Result};
use super::generate::{SamplingParams, StopReason};
use super::instructions::{instruction, EXAMPLES, PHRASINGS, SYSTEM_PROMPT};
use super::matching::{guess_text, product_text, CATEGORIES, MATCH_THRESHOLD};
use super::multimodal::ChatModel;
use super::scene::{
    assemble, check_plan, example_answer, parse_plan, plan_complete, plan_messages, plan_request,
};
use super::scene_choice::scene_choices;
use super::scene_examples::{SceneExample, SCENE_EXAMPLES, SHOWN_EXAMPLES};
use super::scene_grammar::SceneGrammar;
use super::screen::{screen, RejectReason, ScreenContext};
use super::select::{cosine, mmr, rank_by_cosine, DEFAULT_LAMBDA};
use super::suggest::{
    emit, Candidate, Env, SuggestEvent, SuggestMode, SuggestReport, SuggestRequest, Suggestion,
    TextEmbedder,
};
use super::title::prompt_title;

/// Rows of a constrained batch per group of settings they choose within.
const ROWS_PER_SETTING_GROUP: usize = 3;

/// Token budget of a constrained plan (five lines of library phrases).
const CONSTRAINED_MAX_TOKENS: usize = 96;

/// Candidates per wanted suggestion in a round after the first (at most
/// the request's own). With [`RETRY_TEMPERATURE`], 2 gave the best matching
/// rate tried on `fresh4.tsv` (0.794, against 0.781 for 3 at the request's
/// temperature), at the same time per product (16.1 s when every product
/// short of 4 matching got a second round: 8 rows cost about as much as 12).
const RETRY_CANDIDATES_PER_SUGGESTION: usize = 2;

/// The least sampling temperature of a round after the first. At the
/// request's 0.8, a second round mostly repeated the first's plans (42% of
/// the candidates of `fresh4.tsv` were near-duplicates); constrained plans
/// stay within the library's phrases at any temperature.
const RETRY_TEMPERATURE: f64 = 1.0;

/// Writes `req.count` background suggestions for a product (see
/// [`super::suggest`] for the pipeline). `embedder` ranks candidates by
/// relevance; without it they keep the order they were written in.
/// `on_event` returning `Break` cancels ([`PromptModelError::Cancelled`]).
pub fn suggest_backgrounds(
    model: &mut dyn ChatModel,
    req: &SuggestRequest,
    counter: &dyn TokenCounter,
    embedder: Option<&dyn TextEmbedder>,
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
) -> Result<SuggestReport> {
    let title = prompt_title(&req.title)?.text;
    if req.count == 0 {
        return Err(PromptModelError::Input(
            "zero suggestions requested".to_string(),
        ));
    }
    let mut env = Env {
        model,
        counter,
        embedder,
    };
    let target = match embedder {
        Some(embedder) => Some(relevance_target(req, embedder)?),
        None => None,
    };
    let grammar = match req.mode {
        SuggestMode::Pipeline => SceneGrammar::new(
            env.model.text_tokenizer(),
            &scene_choices(&req.title, target.as_deref(), env.embedder)?,
        )?,
        _ => None,
    };
    let mut candidates = match req.mode {
        SuggestMode::Pipeline | SuggestMode::FreePlan => {
            let plan = (grammar.as_ref(), target.as_deref());
            write_candidates(&mut env, req, &title, plan, on_event)?
        }
        SuggestMode::Raw => write_raw(&mut env, req, &title, on_event)?,
    };
    let passed = candidates.iter().filter(|c| c.rejected.is_none()).count();
    emit(on_event, SuggestEvent::Ranking { passed })?;
    if let Some(target) = &target {
        score(&env, target, &mut candidates)?;
    }
    let suggestions = match req.mode {
        // The raw model's answers are returned as they are (their verdicts
        // stay in `candidates`, for the record).
        SuggestMode::Raw => candidates
            .iter()
            .map(|c| {
                suggestion(c, &env).map(|s| Suggestion {
                    rejected: None,
                    ..s
                })
            })
            .collect::<Result<_>>()?,
        SuggestMode::Pipeline | SuggestMode::FreePlan => pick(&env, &candidates, req.count)?,
    };
    Ok(SuggestReport {
        suggestions,
        candidates,
        relevance_target: target,
        constrained: grammar.is_some(),
    })
}

/// The examples shown for `title`: the closest by relevance, else the first.
fn examples_for(
    title: &str,
    embedder: Option<&dyn TextEmbedder>,
) -> Result<Vec<&'static SceneExample>> {
    let Some(embedder) = embedder else {
        return Ok(SCENE_EXAMPLES.iter().take(SHOWN_EXAMPLES).collect());
    };
    let mut texts: Vec<&str> = SCENE_EXAMPLES.iter().map(|e| e.product).collect();
    texts.push(title);
    let embeddings = embedder.embed_texts(&texts)?;
    let (query, bank) = embeddings
        .split_last()
        .ok_or_else(|| PromptModelError::Input("the relevance model returned nothing".into()))?;
    let order = rank_by_cosine(query, bank);
    // Most similar last: nearest to the real request.
    let mut picked: Vec<&SceneExample> = order
        .iter()
        .take(SHOWN_EXAMPLES)
        .map(|&(i, _)| &SCENE_EXAMPLES[i])
        .collect();
    picked.reverse();
    Ok(picked)
}

/// Rounds of batched scene plans until [`enough`] candidates pass (and
/// match), or the rounds run out. With `grammar` the plan lines are
/// constrained to its phrases.
fn write_candidates(
    env: &mut Env<'_>,
    req: &SuggestRequest,
    title: &str,
    (grammar, target): (Option<&SceneGrammar>, Option<&str>),
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<Candidate>> {
    let examples = examples_for(title, env.embedder)?;
    let messages = plan_messages(title, &examples);
    let request = plan_request(title);
    let example_texts: Vec<String> = examples
        .iter()
        .map(|e| {
            assemble(
                &parse_plan(&example_answer(e)).unwrap_or_default(),
                e.product,
            )
        })
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    for round in 0..req.max_rounds.max(1) {
        let first = candidates.len();
        let (per_round, params) = round_plan(req, grammar.is_some(), round, first);
        emit(
            on_event,
            SuggestEvent::Round {
                round,
                first,
                candidates: per_round,
            },
        )?;
        let batch = (&messages[..], &params, per_round, first);
        let raws = write_batch(env, batch, grammar, on_event)?;
        for (row, (raw, cut)) in raws.into_iter().enumerate() {
            let (text, plan_verdict) = candidate_text(&raw, cut, title, env.counter)?;
            let kept: Vec<String> = passed_texts(&candidates);
            let examples: Vec<&str> = example_texts.iter().map(String::as_str).collect();
            let ctx = ScreenContext {
                title,
                instruction: &request,
                examples: &examples,
                kept: &kept,
            };
            let rejected = plan_verdict.or_else(|| screen(&text, &ctx));
            emit(
                on_event,
                SuggestEvent::Screened {
                    candidate: first + row,
                    text: &text,
                    rejected: rejected.as_ref(),
                },
            )?;
            candidates.push(Candidate {
                text,
                raw,
                seed: params.seed.wrapping_add(row as u64),
                rejected,
                relevance: None,
            });
        }
        if let Some(target) = target {
            score(env, target, &mut candidates[first..])?;
        }
        if enough(&candidates, req.count, target.is_some()) {
            break;
        }
    }
    Ok(candidates)
}

/// How many plans round `round` writes, from candidate `first` on, and how
/// they are sampled: the request's settings with seed `seed + first`, a
/// token budget that fits a `constrained` plan, and, after the first round,
/// fewer rows ([`RETRY_CANDIDATES_PER_SUGGESTION`]) sampled warmer
/// ([`RETRY_TEMPERATURE`], unless the request samples greedily).
fn round_plan(
    req: &SuggestRequest,
    constrained: bool,
    round: usize,
    first: usize,
) -> (usize, SamplingParams) {
    let sampling = &req.sampling;
    let per_suggestion = req.candidates_per_suggestion.max(1);
    let retry = round > 0;
    let rows = match retry {
        false => req.count * per_suggestion,
        true => req.count * per_suggestion.min(RETRY_CANDIDATES_PER_SUGGESTION),
    };
    let params = SamplingParams {
        seed: sampling.seed.wrapping_add(first as u64),
        // A constrained plan's length is bounded by its phrases.
        max_new_tokens: match constrained {
            true => sampling.max_new_tokens.max(CONSTRAINED_MAX_TOKENS),
            false => sampling.max_new_tokens,
        },
        temperature: match retry && sampling.temperature > 0.0 {
            true => sampling.temperature.max(RETRY_TEMPERATURE),
            false => sampling.temperature,
        },
        ..sampling.clone()
    };
    (rows, params)
}

/// Whether the candidates so far are enough: `count` pass the rules and,
/// when they are `ranked`, match the product ([`MATCH_THRESHOLD`]) too, or
/// none of those that pass matches. Another round of plans from the same
/// shortlist helps when the first found some matching scenes, not when it
/// found none: on the 40 `fresh4.tsv` titles, a second round raised the
/// matching picks of 10 of the 12 products with 1 to 3 matching, and of 1
/// of the 6 with none (where the shortlist has no fitting setting).
fn enough(candidates: &[Candidate], count: usize, ranked: bool) -> bool {
    let passed: Vec<&Candidate> = candidates.iter().filter(|c| c.rejected.is_none()).collect();
    if passed.len() < count {
        return false;
    }
    if !ranked {
        return true;
    }
    let matching = passed
        .iter()
        .filter(|c| relevance_of(c) >= MATCH_THRESHOLD)
        .count();
    matching >= count || matching == 0
}

fn passed_texts(candidates: &[Candidate]) -> Vec<String> {
    candidates
        .iter()
        .filter(|c| c.rejected.is_none())
        .map(|c| c.text.clone())
        .collect()
}

/// One batch of `rows` answers, streamed as candidates `first..`; a row
/// stops when its plan is complete. Each answer comes with whether it was
/// cut off by the token limit.
fn write_batch(
    env: &mut Env<'_>,
    (messages, params, rows, first): (&[ChatMessage], &SamplingParams, usize, usize),
    grammar: Option<&SceneGrammar>,
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<(String, bool)>> {
    let mut texts = vec![String::new(); rows];
    // Settings in groups of about two per three rows: a batch covers
    // several settings, the model choosing within each group.
    let mut constraint = grammar.map(|g| {
        let groups = (rows / ROWS_PER_SETTING_GROUP).clamp(1, g.settings().max(1));
        g.constraint().with_setting_groups(groups)
    });
    let rule = constraint
        .as_mut()
        .map(|c| c as &mut dyn super::constraint::TokenConstraint);
    let generations = env
        .model
        .chat_batch(messages, params, rows, rule, &mut |row, piece| {
            let flow = on_event(SuggestEvent::Token {
                candidate: first + row,
                piece,
            });
            if flow.is_break() {
                return RowFlow::Cancel;
            }
            if let Some(text) = texts.get_mut(row) {
                text.push_str(piece);
                if plan_complete(text) {
                    return RowFlow::Finish;
                }
            }
            RowFlow::Continue
        })?;
    if generations.iter().any(|g| g.stop == StopReason::Cancelled) {
        return Err(PromptModelError::Cancelled);
    }
    Ok(generations
        .into_iter()
        .map(|g| {
            let cut = g.stop == StopReason::MaxTokens;
            (g.text, cut)
        })
        .collect())
}

/// The prompt text of an answer: an assembled plan (with the rule the plan
/// breaks, if any), or (free text) its first non-empty line; cleaned and
/// cut to CLIP's length. A plan `cut` off by the token limit loses its
/// unfinished last line.
fn candidate_text(
    raw: &str,
    cut: bool,
    title: &str,
    counter: &dyn TokenCounter,
) -> Result<(String, Option<RejectReason>)> {
    let whole = if !cut || plan_complete(raw) || raw.ends_with('\n') {
        raw
    } else {
        raw.rfind('\n').map_or(raw, |end| &raw[..end])
    };
    let (text, verdict) = match parse_plan(whole) {
        Some(plan) => (assemble(&plan, title), check_plan(&plan, title)),
        None => {
            let line = raw.lines().map(str::trim).find(|l| !l.is_empty());
            (line.unwrap_or("").to_string(), None)
        }
    };
    Ok((clean_for_sd(&text, counter)?, verdict))
}

/// The baseline: one free answer per suggestion to a randomly phrased
/// instruction (with the image facts), screened for the record only.
fn write_raw(
    env: &mut Env<'_>,
    req: &SuggestRequest,
    title: &str,
    on_event: &mut dyn FnMut(SuggestEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<Candidate>> {
    let mut rng = StdRng::seed_from_u64(req.sampling.seed ^ 0x5eed_ba5e);
    let examples: Vec<&str> = EXAMPLES.iter().map(|(_, a)| *a).collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    emit(
        on_event,
        SuggestEvent::Round {
            round: 0,
            first: 0,
            candidates: req.count,
        },
    )?;
    for index in 0..req.count {
        let phrasing = rng.random_range(0..PHRASINGS.len());
        let request = instruction(phrasing, title, req.facts.as_ref());
        let mut messages = vec![ChatMessage::new(Role::System, SYSTEM_PROMPT)];
        for (example_title, answer) in EXAMPLES {
            messages.push(ChatMessage::new(
                Role::User,
                instruction(0, example_title, None),
            ));
            messages.push(ChatMessage::new(Role::Assistant, answer));
        }
        messages.push(ChatMessage::new(Role::User, request.clone()));
        let params = SamplingParams {
            seed: req.sampling.seed.wrapping_add(index as u64),
            ..req.sampling.clone()
        };
        let generation = env.model.chat(&messages, &params, &mut |piece| {
            on_event(SuggestEvent::Token {
                candidate: index,
                piece,
            })
        })?;
        if generation.stop == StopReason::Cancelled {
            return Err(PromptModelError::Cancelled);
        }
        let text = clean_for_sd(&generation.text, env.counter)?;
        let kept = passed_texts(&candidates);
        let ctx = ScreenContext {
            title,
            instruction: &request,
            examples: &examples,
            kept: &kept,
        };
        let rejected = screen(&text, &ctx);
        emit(
            on_event,
            SuggestEvent::Screened {
                candidate: index,
                text: &text,
                rejected: rejected.as_ref(),
            },
        )?;
        candidates.push(Candidate {
            text,
            raw: generation.text,
            seed: params.seed,
            rejected,
            relevance: None,
        });
    }
    Ok(candidates)
}

/// The text suggestions are ranked against: the request's, else the whole
/// title with the category guessed by the embedder (how
/// [`MATCH_THRESHOLD`](super::matching::MATCH_THRESHOLD) was calibrated).
fn relevance_target(req: &SuggestRequest, embedder: &dyn TextEmbedder) -> Result<String> {
    if let Some(target) = &req.relevance_target {
        return Ok(target.clone());
    }
    let scores = guess_scores(&guess_text(&req.title), |texts| embedder.embed_texts(texts))?;
    let category = (!scores.is_empty()).then(|| CATEGORIES[best_category(&scores)].name);
    Ok(product_text(&req.title, category))
}

/// Fills in the relevance to `target` of each candidate with text that has
/// none yet (when there is an embedder).
fn score(env: &Env<'_>, target: &str, candidates: &mut [Candidate]) -> Result<()> {
    let Some(embedder) = env.embedder else {
        return Ok(());
    };
    let scored: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].relevance.is_none() && !candidates[i].text.trim().is_empty())
        .collect();
    if scored.is_empty() {
        return Ok(());
    }
    let mut texts: Vec<&str> = scored
        .iter()
        .map(|&i| candidates[i].text.as_str())
        .collect();
    texts.push(target);
    let embeddings = embedder.embed_texts(&texts)?;
    let Some((query, rest)) = embeddings.split_last() else {
        return Ok(());
    };
    for (&i, embedding) in scored.iter().zip(rest) {
        candidates[i].relevance = Some(cosine(embedding, query));
    }
    Ok(())
}

/// `count` of the passing candidates by maximal marginal relevance (or in
/// order without relevance); when none passes, the most relevant rejected
/// ones with distinct texts, marked.
fn pick(env: &Env<'_>, candidates: &[Candidate], count: usize) -> Result<Vec<Suggestion>> {
    let passing: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].rejected.is_none())
        .collect();
    let pool: Vec<usize> = if passing.is_empty() {
        let mut rejected: Vec<usize> = (0..candidates.len())
            .filter(|&i| !candidates[i].text.trim().is_empty())
            .collect();
        rejected.sort_by(|&a, &b| {
            relevance_of(&candidates[b]).total_cmp(&relevance_of(&candidates[a]))
        });
        // Distinct texts only: rows of a batch can write the same answer.
        let mut seen: Vec<&str> = Vec::new();
        rejected.retain(|&i| {
            let text = candidates[i].text.trim();
            let new = !seen.contains(&text);
            seen.push(text);
            new
        });
        rejected.truncate(count);
        return rejected
            .iter()
            .map(|&i| suggestion(&candidates[i], env))
            .collect();
    } else {
        passing
    };
    // Those that match the product first (with diversity among them), then
    // the rest when too few match.
    let (matching, rest): (Vec<usize>, Vec<usize>) = pool
        .iter()
        .partition(|&&i| relevance_of(&candidates[i]) >= MATCH_THRESHOLD);
    let mut picked = diverse(env, candidates, &matching, count)?;
    let more = diverse(env, candidates, &rest, count.saturating_sub(picked.len()))?;
    picked.extend(more);
    picked
        .iter()
        .map(|&i| suggestion(&candidates[i], env))
        .collect()
}

/// Up to `count` of `pool` (candidate indices) by maximal marginal
/// relevance; without a relevance model, the first ones.
fn diverse(
    env: &Env<'_>,
    candidates: &[Candidate],
    pool: &[usize],
    count: usize,
) -> Result<Vec<usize>> {
    if count == 0 || pool.is_empty() {
        return Ok(Vec::new());
    }
    let order = match env.embedder {
        Some(embedder) => {
            let texts: Vec<&str> = pool.iter().map(|&i| candidates[i].text.as_str()).collect();
            let embeddings = embedder.embed_texts(&texts)?;
            let relevance: Vec<f32> = pool.iter().map(|&i| relevance_of(&candidates[i])).collect();
            mmr(&relevance, &embeddings, count, DEFAULT_LAMBDA)
        }
        None => (0..pool.len().min(count)).collect(),
    };
    Ok(order.iter().map(|&j| pool[j]).collect())
}

fn relevance_of(candidate: &Candidate) -> f32 {
    candidate.relevance.unwrap_or(f32::NEG_INFINITY)
}

fn suggestion(candidate: &Candidate, env: &Env<'_>) -> Result<Suggestion> {
    Ok(Suggestion {
        tokens: env.counter.count_tokens(&candidate.text)?,
        text: candidate.text.clone(),
        raw: candidate.raw.clone(),
        seed: candidate.seed,
        relevance: candidate.relevance,
        rejected: candidate.rejected.clone(),
    })
}
