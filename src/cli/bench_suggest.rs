//! `adstudio bench suggestions`: the raw prompt model and the suggestion
//! pipeline side by side on a file of product titles: matching rate,
//! mean relevance, share of distinct suggestions, reject rate by reason,
//! seconds per product.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use candle_core::Device;

use crate::ml::prompt_model::matching::MATCH_THRESHOLD;
use crate::ml::prompt_model::screen::{word_jaccard, RejectReason};
use crate::ml::prompt_model::{
    suggest_backgrounds, GgufPrecision, LoadOptions, PromptModel, SuggestMode, SuggestReport,
    SuggestRequest,
};
use crate::ml::relevance::RelevanceModel;
use crate::studio::{registry_for, ModelRole};

/// One product title of the bench file.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchTitle {
    /// `tune` or `holdout` (any label; rows are grouped by it).
    pub split: String,
    /// Category words.
    pub category: String,
    /// The title.
    pub title: String,
}

/// Reads a tab-separated file with header `split category title` (or a
/// plain list, one title per line).
pub fn read_titles(path: &Path) -> anyhow::Result<Vec<BenchTitle>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading titles from {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    let tabular = lines.peek().is_some_and(|l| l.starts_with("split\t"));
    if tabular {
        lines.next();
    }
    let titles: Vec<BenchTitle> = lines
        .map(|line| {
            let mut cols = line.splitn(3, '\t');
            match (tabular, cols.next(), cols.next(), cols.next()) {
                (true, Some(split), Some(category), Some(title)) => BenchTitle {
                    split: split.to_string(),
                    category: category.to_string(),
                    title: title.trim().to_string(),
                },
                _ => BenchTitle {
                    split: "all".into(),
                    category: String::new(),
                    title: line.trim().to_string(),
                },
            }
        })
        .collect();
    if titles.is_empty() {
        anyhow::bail!("{} holds no titles", path.display());
    }
    Ok(titles)
}

/// Totals of one (mode, split) group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchTotals {
    /// Products run.
    pub products: usize,
    /// Suggestions returned.
    pub suggestions: usize,
    /// Suggestions with relevance >= the threshold.
    pub matching: usize,
    /// Sum of the suggestions' relevance.
    pub relevance_sum: f64,
    /// Suggestions that are not near-duplicates of an earlier one of the same product.
    pub distinct: usize,
    /// Candidates screened.
    pub candidates: usize,
    /// Rejected candidates per reason.
    pub rejected: BTreeMap<RejectReason, usize>,
    /// Suggestions returned that break a rule (raw mode; pipeline fallback).
    pub suggestions_breaking_rules: usize,
    /// Seconds spent.
    pub seconds: f64,
}

impl BenchTotals {
    fn add(&mut self, report: &SuggestReport, seconds: f64, threshold: f32) {
        self.products += 1;
        self.seconds += seconds;
        self.candidates += report.candidates.len();
        for c in &report.candidates {
            if let Some(r) = &c.rejected {
                *self.rejected.entry(r.clone()).or_default() += 1;
            }
        }
        // A suggestion breaks a rule when a candidate with its text was
        // rejected (a later copy rejected as a duplicate does not count).
        let raw_breaks = |text: &str| {
            report.candidates.iter().any(|c| {
                c.text == text
                    && c.rejected
                        .as_ref()
                        .is_some_and(|r| *r != RejectReason::Duplicate)
            })
        };
        for (i, s) in report.suggestions.iter().enumerate() {
            self.suggestions += 1;
            let relevance = s.relevance.unwrap_or(0.0);
            self.relevance_sum += f64::from(relevance);
            if relevance >= threshold {
                self.matching += 1;
            }
            let earlier = &report.suggestions[..i];
            if !earlier.iter().any(|e| word_jaccard(&e.text, &s.text) > 0.7) {
                self.distinct += 1;
            }
            if s.rejected.is_some() || raw_breaks(&s.text) {
                self.suggestions_breaking_rules += 1;
            }
        }
    }

    fn share(n: usize, of: usize) -> f64 {
        if of == 0 {
            0.0
        } else {
            n as f64 / of as f64
        }
    }
}

/// Options of the suggestions bench.
#[derive(Debug, Clone)]
pub struct SuggestBenchOptions {
    /// The titles file.
    pub titles: PathBuf,
    /// The prompt model (default: the `prompt-model` role).
    pub model: Option<PathBuf>,
    /// Suggestions per product.
    pub n: usize,
    /// Write every suggestion here (TSV) for reading.
    pub out: Option<PathBuf>,
    /// Sampling temperature (default: [`SuggestRequest::new`]'s).
    pub temperature: Option<f64>,
    /// Only these modes (`raw`, `pipeline`; empty: both).
    pub only: Vec<String>,
    /// How a GGUF model's linear layers are held.
    pub precision: GgufPrecision,
}

/// Runs both modes over every title and prints the table.
pub fn bench_suggestions(opts: &SuggestBenchOptions) -> anyhow::Result<()> {
    let titles = read_titles(&opts.titles)?;
    let registry = registry_for(None).with_explicit(ModelRole::PromptModel, opts.model.as_deref());
    let model_path = registry.locate(ModelRole::PromptModel)?.path;
    let relevance_path = registry
        .locate(ModelRole::Relevance)
        .context("the bench ranks and measures with all-MiniLM-L6-v2")?
        .path;
    let mut model = PromptModel::load(
        &model_path,
        &LoadOptions {
            precision: opts.precision,
            ..LoadOptions::default()
        },
    )
    .with_context(|| format!("loading {}", model_path.display()))?;
    let ranker = RelevanceModel::load(&relevance_path, &Device::Cpu)
        .with_context(|| format!("loading {}", relevance_path.display()))?;
    let counter = model.tokenizer().clone();
    let mut out = match &opts.out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    if let Some(out) = out.as_mut() {
        writeln!(
            out,
            "split\tcategory\ttitle\tmode\tindex\trelevance\trejected\ttext"
        )?;
    }
    let mut totals: BTreeMap<(String, String), BenchTotals> = BTreeMap::new();
    for (t, item) in titles.iter().enumerate() {
        for mode in modes(&opts.only)? {
            let mut req = SuggestRequest::new(item.title.clone());
            req.count = opts.n.max(1);
            req.mode = mode;
            req.sampling.seed = t as u64 * 1000;
            if let Some(temperature) = opts.temperature {
                req.sampling.temperature = temperature;
            }
            let start = Instant::now();
            let report =
                suggest_backgrounds(&mut model, &req, &counter, Some(&ranker), &mut |_| {
                    std::ops::ControlFlow::Continue(())
                })
                .with_context(|| format!("suggestions for \"{}\"", item.title))?;
            let seconds = start.elapsed().as_secs_f64();
            let name = mode_name(mode).to_string();
            for key in [
                (name.clone(), item.split.clone()),
                (name.clone(), "all".to_string()),
            ] {
                totals
                    .entry(key)
                    .or_default()
                    .add(&report, seconds, MATCH_THRESHOLD);
            }
            if let Some(out) = out.as_mut() {
                write_rows(out, item, &name, &report)?;
            }
        }
        eprintln!(
            "{}/{} {}",
            t + 1,
            titles.len(),
            item.title.chars().take(60).collect::<String>()
        );
    }
    print_table(&totals, &model_path, opts.n);
    Ok(())
}

fn modes(only: &[String]) -> anyhow::Result<Vec<SuggestMode>> {
    let all = [
        SuggestMode::Raw,
        SuggestMode::FreePlan,
        SuggestMode::Pipeline,
    ];
    if only.is_empty() {
        return Ok(all.to_vec());
    }
    only.iter()
        .map(|name| match name.trim() {
            "raw" => Ok(SuggestMode::Raw),
            "pipeline" => Ok(SuggestMode::Pipeline),
            "free-plan" => Ok(SuggestMode::FreePlan),
            other => anyhow::bail!("unknown mode `{other}` for --only (raw, free-plan, pipeline)"),
        })
        .collect()
}

fn mode_name(mode: SuggestMode) -> &'static str {
    match mode {
        SuggestMode::Raw => "raw model",
        SuggestMode::Pipeline => "pipeline",
        SuggestMode::FreePlan => "free plan",
    }
}

fn write_rows(
    out: &mut impl std::io::Write,
    item: &BenchTitle,
    mode: &str,
    report: &SuggestReport,
) -> anyhow::Result<()> {
    for (i, s) in report.suggestions.iter().enumerate() {
        writeln!(
            out,
            "{}\t{}\t{}\t{mode}\t{}\t{:.3}\t{}\t{}",
            item.split,
            item.category,
            item.title,
            i + 1,
            s.relevance.unwrap_or(0.0),
            s.rejected.as_ref().map_or("", |r| r.name()),
            s.text
        )?;
    }
    Ok(())
}

fn print_table(totals: &BTreeMap<(String, String), BenchTotals>, model: &Path, n: usize) {
    println!(
        "suggestions bench: {} , {n} per product, matching = MiniLM cosine >= {MATCH_THRESHOLD}, CANDLE_NUM_THREADS={}",
        model.display(),
        std::env::var("CANDLE_NUM_THREADS").unwrap_or_else(|_| "all".into())
    );
    println!("| mode | split | products | matching rate | mean relevance | distinct | breaking rules | candidates | rejected | s/product |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for ((mode, split), t) in totals {
        let rejected: usize = t.rejected.values().sum();
        println!(
            "| {mode} | {split} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.1} |",
            t.products,
            BenchTotals::share(t.matching, t.suggestions),
            t.relevance_sum / t.suggestions.max(1) as f64,
            BenchTotals::share(t.distinct, t.suggestions),
            BenchTotals::share(t.suggestions_breaking_rules, t.suggestions),
            t.candidates,
            BenchTotals::share(rejected, t.candidates),
            t.seconds / t.products.max(1) as f64,
        );
    }
    println!();
    println!("| mode | reject reason | candidates | share |");
    println!("|---|---|---|---|");
    for ((mode, split), t) in totals.iter().filter(|((_, s), _)| s == "all") {
        let _ = split;
        for (reason, n) in &t.rejected {
            println!(
                "| {mode} | {} | {n} | {:.3} |",
                reason.name(),
                BenchTotals::share(*n, t.candidates)
            );
        }
    }
}
