//! The PCPO-versus-DPO experiment (issue 15, point 6), headless: does plain
//! DPO on a product-agnostic "attractive style" preference drift away from
//! the product while PCPO keeps suggestions about it?
//!
//! - [`run`]: writing the on-policy candidates, forming the luxury-word
//!   pairs ([`crate::ml::pcpo::luxury`]), training both methods from the same
//!   start and measuring fresh suggestions after every epoch;
//! - this module: the settings, the figures and the report (JSON through
//!   serde, markdown through [`ExperimentReport::markdown`]).

pub mod run;

use std::fmt::Write as _;

use serde::Serialize;

use crate::ml::pcpo::luxury_count;
use crate::ml::prompt_model::{SuggestMode, Suggestion};

pub use run::{run_experiment, ExperimentInput};

/// How the experiment is run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentSettings {
    /// Training epochs of each method.
    pub epochs: usize,
    /// Most preference pairs formed per title.
    pub pairs_per_title: usize,
    /// Suggestions per title and mode (candidates written and fresh
    /// suggestions measured).
    pub suggestions: usize,
    /// Seed of the adapters, shuffles, corruptions, pair draws and sampling.
    pub seed: u64,
    /// Suggestion modes written and measured (`pipeline`, `raw`, `free-plan`).
    pub modes: Vec<String>,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Pairs per update.
    pub batch_size: usize,
    /// `b` of the losses.
    pub beta: f64,
    /// Weight `w` of the PCPO term for the PCPO run (DPO uses 0).
    pub pcpo_weight: f64,
}

/// The name a mode goes by in flags and reports.
pub fn mode_name(mode: SuggestMode) -> &'static str {
    match mode {
        SuggestMode::Pipeline => "pipeline",
        SuggestMode::FreePlan => "free-plan",
        SuggestMode::Raw => "raw",
    }
}

/// The mode named `name` (see [`mode_name`]).
pub fn parse_mode(name: &str) -> Option<SuggestMode> {
    [
        SuggestMode::Pipeline,
        SuggestMode::FreePlan,
        SuggestMode::Raw,
    ]
    .into_iter()
    .find(|m| mode_name(*m) == name.trim())
}

/// Figures of fresh suggestions of one mode, over the evaluation titles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeFigures {
    /// The mode.
    pub mode: String,
    /// Suggestions measured.
    pub suggestions: usize,
    /// Share with relevance at or above the threshold.
    pub matching_rate: f64,
    /// Mean relevance (cosine to the product text).
    pub mean_relevance: f64,
    /// Share with at least one luxury word.
    pub luxury_share: f64,
    /// Mean number of luxury words per suggestion.
    pub mean_luxury_words: f64,
}

impl ModeFigures {
    /// Measures `suggestions` (a missing relevance counts as 0) against
    /// `threshold`.
    pub fn measure(mode: &str, suggestions: &[Suggestion], threshold: f32) -> Self {
        let n = suggestions.len();
        let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        let relevance: Vec<f32> = suggestions
            .iter()
            .map(|s| s.relevance.unwrap_or(0.0))
            .collect();
        let luxury: Vec<usize> = suggestions.iter().map(|s| luxury_count(&s.text)).collect();
        Self {
            mode: mode.to_string(),
            suggestions: n,
            matching_rate: share(relevance.iter().filter(|&&r| r >= threshold).count()),
            mean_relevance: if n == 0 {
                0.0
            } else {
                relevance.iter().map(|&r| f64::from(r)).sum::<f64>() / n as f64
            },
            luxury_share: share(luxury.iter().filter(|&&k| k > 0).count()),
            mean_luxury_words: share(luxury.iter().sum()),
        }
    }
}

/// What one method looked like after an epoch (epoch 0: before training).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochFigures {
    /// Epochs trained (0 = the base model).
    pub epoch: usize,
    /// Preference accuracy on the held-out pairs (`None`: no held-out pair).
    pub preference_accuracy: Option<f64>,
    /// Mean reward margin on the held-out pairs.
    pub reward_margin: Option<f64>,
    /// Mean training loss of the epoch (`None` for epoch 0).
    pub train_loss: Option<f64>,
    /// Fresh suggestions for the evaluation titles, per mode.
    pub modes: Vec<ModeFigures>,
    /// Seconds spent training this epoch.
    pub train_seconds: f64,
    /// Seconds spent measuring after it.
    pub eval_seconds: f64,
}

/// A fresh suggestion kept in the report for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSuggestion {
    /// Evaluation title.
    pub title: String,
    /// Mode.
    pub mode: String,
    /// The suggestion.
    pub text: String,
    /// Its relevance.
    pub relevance: f32,
}

/// One method's curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodCurve {
    /// `dpo` or `pcpo`.
    pub method: String,
    /// Weight of the PCPO term.
    pub weight: f64,
    /// Figures of epoch 0 (base model) to the last.
    pub epochs: Vec<EpochFigures>,
    /// Wall time of the method (training and measuring), in seconds.
    pub seconds: f64,
    /// Suggestions after the last epoch for the first evaluation titles.
    pub samples: Vec<SampleSuggestion>,
}

/// A preference pair kept in the report for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplePair {
    /// Title.
    pub title: String,
    /// Preferred text.
    pub chosen: String,
    /// Other text.
    pub rejected: String,
}

/// The on-policy data both methods train on.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DataSummary {
    /// Training titles (as given).
    pub train_titles: Vec<String>,
    /// Evaluation titles (held out).
    pub eval_titles: Vec<String>,
    /// Distinct candidate texts written by the base model.
    pub candidates: usize,
    /// Share of those candidates with at least one luxury word.
    pub candidate_luxury_share: f64,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out pairs (from the evaluation titles).
    pub eval_pairs: usize,
    /// Titles whose candidates gave no pair (all tied).
    pub titles_without_pairs: usize,
    /// The first few training pairs.
    pub examples: Vec<SamplePair>,
    /// Seconds spent writing candidates.
    pub seconds: f64,
}

/// Everything the experiment measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// The prompt model file or folder.
    pub model: String,
    /// The relevance model folder.
    pub relevance_model: String,
    /// Relevance at or above which a suggestion matches the product.
    pub match_threshold: f32,
    /// The words the preference source counts.
    pub luxury_words: Vec<String>,
    /// `CANDLE_NUM_THREADS` (or `all`).
    pub threads: String,
    /// The settings.
    pub settings: ExperimentSettings,
    /// The training and held-out data.
    pub data: DataSummary,
    /// DPO then PCPO.
    pub methods: Vec<MethodCurve>,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// One printed line of an epoch's figures.
pub fn epoch_line(method: &str, e: &EpochFigures) -> String {
    let mut line = format!(
        "{method} epoch {}: pref acc {} margin {} loss {}",
        e.epoch,
        opt(e.preference_accuracy),
        opt(e.reward_margin),
        opt(e.train_loss)
    );
    for m in &e.modes {
        let _ = write!(
            line,
            " | {}: match {:.3} rel {:.3} luxury {:.3}",
            m.mode, m.matching_rate, m.mean_relevance, m.luxury_share
        );
    }
    let _ = write!(
        line,
        " [train {:.0} s, eval {:.0} s]",
        e.train_seconds, e.eval_seconds
    );
    line
}

impl ExperimentReport {
    /// The report as markdown: set-up, data, one table per mode with both
    /// methods' curves, sample suggestions.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.settings;
        let _ = writeln!(md, "# PCPO vs DPO on a luxury-word preference\n");
        let _ = writeln!(
            md,
            "Model `{}`, relevance `{}` (match: cosine >= {}), CANDLE_NUM_THREADS={}; {} epochs, lr {}, batch {}, b {}, PCPO w {}; seed {}; modes {}; total {:.0} s ({:.1} min).\n",
            self.model, self.relevance_model, self.match_threshold, self.threads,
            s.epochs, s.learning_rate, s.batch_size, s.beta, s.pcpo_weight, s.seed,
            s.modes.join(", "), self.seconds, self.seconds / 60.0
        );
        let _ = writeln!(md, "Luxury words: {}.\n", self.luxury_words.join(", "));
        let d = &self.data;
        let _ = writeln!(
            md,
            "Data: {} training titles, {} evaluation titles; {} distinct candidates from the base model ({:.3} with a luxury word); {} training pairs, {} held-out pairs; {} titles gave no pair; {:.0} s.\n",
            d.train_titles.len(), d.eval_titles.len(), d.candidates, d.candidate_luxury_share,
            d.train_pairs, d.eval_pairs, d.titles_without_pairs, d.seconds
        );
        for mode in &s.modes {
            self.mode_table(&mut md, mode);
        }
        for m in &self.methods {
            let _ = writeln!(
                md,
                "{} ({:.0} s). Suggestions after the last epoch:\n",
                m.method, m.seconds
            );
            for x in &m.samples {
                let _ = writeln!(
                    md,
                    "- [{}] {:.3} `{}` — {}",
                    x.mode, x.relevance, x.title, x.text
                );
            }
            md.push('\n');
        }
        if !d.examples.is_empty() {
            let _ = writeln!(md, "Example training pairs (chosen > rejected):\n");
            for p in &d.examples {
                let _ = writeln!(md, "- `{}`: {} > {}", p.title, p.chosen, p.rejected);
            }
        }
        md
    }

    fn mode_table(&self, md: &mut String, mode: &str) {
        let _ = writeln!(md, "## Fresh suggestions, mode `{mode}`\n");
        let _ = writeln!(md, "| method | epoch | pref acc (held out) | reward margin | train loss | matching rate | mean relevance | luxury share | luxury words | train s | eval s |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
        for m in &self.methods {
            for e in &m.epochs {
                let Some(f) = e.modes.iter().find(|f| f.mode == mode) else {
                    continue;
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} | {:.0} | {:.0} |",
                    m.method,
                    e.epoch,
                    opt(e.preference_accuracy),
                    opt(e.reward_margin),
                    opt(e.train_loss),
                    f.matching_rate,
                    f.mean_relevance,
                    f.luxury_share,
                    f.mean_luxury_words,
                    e.train_seconds,
                    e.eval_seconds
                );
            }
        }
        md.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(text: &str, relevance: Option<f32>) -> Suggestion {
        Suggestion {
            text: text.to_string(),
            raw: text.to_string(),
            seed: 0,
            tokens: 0,
            relevance,
            rejected: None,
        }
    }

    #[test]
    fn mode_figures_count_matches_relevance_and_luxury() {
        let s = [
            suggestion("golden marble hall", Some(0.5)),
            suggestion("a pine forest", Some(0.1)),
            suggestion("velvet sofa", None),
            suggestion("a kitchen counter", Some(0.3)),
        ];
        let f = ModeFigures::measure("raw", &s, 0.25);
        assert_eq!(f.suggestions, 4);
        assert!((f.matching_rate - 0.5).abs() < 1e-12);
        assert!((f.mean_relevance - 0.9 / 4.0).abs() < 1e-6);
        assert!((f.luxury_share - 0.5).abs() < 1e-12);
        assert!((f.mean_luxury_words - 0.75).abs() < 1e-12);
        let empty = ModeFigures::measure("raw", &[], 0.25);
        assert_eq!(empty.matching_rate, 0.0);
    }

    #[test]
    fn modes_round_trip_by_name() {
        for m in [
            SuggestMode::Pipeline,
            SuggestMode::FreePlan,
            SuggestMode::Raw,
        ] {
            assert_eq!(parse_mode(mode_name(m)), Some(m));
        }
        assert_eq!(parse_mode("fancy"), None);
    }
}
