//! Preference data: statistics over the labels in the store (counts,
//! agreement between labelers, people against the reward model), and
//! export to / import from TRL and CAIG JSONL files.
//!
//! Headless: the CLI (`adstudio prefs`) and the studio's panel call the
//! same functions. Pure computations ([`agreement`], [`compute_stats`])
//! are kept apart from store reading ([`load_stats_input`]).

pub mod agreement;
mod error;
mod export;
mod import;
mod input;
mod orient;
mod raters;
mod records;
mod report;
mod reward;
mod source;
mod stats;
mod text_pairs;

#[cfg(test)]
mod stats_tests;

pub use agreement::{cohen_kappa, fleiss_kappa, wilson_interval, Accuracy, Z95};
pub use error::PrefsError;
pub use export::{export_prefs, instruction_for, prompt_of, ExportReport};
pub use import::{import_prefs, parse_row, ImportLine, ImportReport};
pub use input::{ProductRef, StatsInput};
pub use orient::{orient, PairKey, Rating};
pub use raters::{
    cohen_between_labelers, collect_ratings, fleiss_over_labelers, GroupAgreement,
    LabelerAgreement, RatingsByPair,
};
pub use records::{CaigRecord, ExportedSettings, PairExtras, PairFormat, PairRecord, TrlRecord};
pub use report::kappa_text;
pub use reward::{human_verdicts, reward_vs_people, PeopleVsModels, RewardAgreement};
pub use source::load_stats_input;
pub use stats::{bump, compute_stats, prefs_stats, LabelerStats, PrefStats, ProductStats};
pub use text_pairs::{text_pairs, TextPair, TextPairs};
