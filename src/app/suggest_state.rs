//! The suggestions panel's state: the editable list, filled live from the
//! suggestion job's typed progress ([`crate::studio::SuggestProgress`]),
//! the candidates being written, and every candidate of the last job with
//! its verdict (for the panel's "candidates" view).

use crate::jobs::JobId;
use crate::studio::{display_name, SuggestOutcome, SuggestSettings};

/// Relevance (cosine to the product) at or above which the panel shows a
/// suggestion as matching the product: the calibrated
/// [`MATCH_THRESHOLD`](crate::ml::prompt_model::matching::MATCH_THRESHOLD).
pub const MATCH_THRESHOLD_DISPLAY: f32 = crate::ml::prompt_model::matching::MATCH_THRESHOLD;

/// The mark of a candidate that passed the screening (a glyph of the
/// default fonts: they have no ✓).
pub const PASSED_MARK: &str = "√";
/// The mark of a rejected candidate (a glyph of the default fonts: they
/// have no ✗).
pub const REJECTED_MARK: &str = "×";

/// Whether `relevance` reaches [`MATCH_THRESHOLD_DISPLAY`].
fn matches_product(relevance: f32) -> bool {
    relevance >= MATCH_THRESHOLD_DISPLAY
}

/// One suggestion in the panel's list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestionEntry {
    /// The text (empty while generating, then cleaned, then editable).
    pub text: String,
    /// Whether the model is writing this entry now.
    pub generating: bool,
    /// Cosine similarity to the product (when a relevance model ranked it;
    /// dropped when the text is edited).
    pub relevance: Option<f32>,
    /// The screening rule it breaks, when it is a best rejected one shown
    /// because no candidate passed (dropped when the text is edited).
    pub rejected: Option<String>,
    /// The PCPO adapter of the prompt model that wrote it (`None`: the base
    /// model; kept through edits).
    pub adapter: Option<String>,
}

impl SuggestionEntry {
    /// Whether its relevance reaches [`MATCH_THRESHOLD_DISPLAY`] (`None`:
    /// not ranked).
    pub fn matches(&self) -> Option<bool> {
        self.relevance.map(matches_product)
    }
}

/// A candidate of the last job, for the candidates view.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    /// The cleaned text.
    pub text: String,
    /// The rule it breaks (`None`: passed).
    pub rejected: Option<String>,
    /// Its relevance, when ranked.
    pub relevance: Option<f32>,
}

impl CandidateView {
    /// Its verdict's mark: [`PASSED_MARK`] or [`REJECTED_MARK`].
    pub fn mark(&self) -> &'static str {
        if self.rejected.is_none() {
            PASSED_MARK
        } else {
            REJECTED_MARK
        }
    }

    /// Whether its relevance reaches [`MATCH_THRESHOLD_DISPLAY`] (`None`:
    /// not ranked).
    pub fn matches(&self) -> Option<bool> {
        self.relevance.map(matches_product)
    }
}

/// A candidate the running job is writing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftView {
    /// The raw text streamed so far; once screened, the cleaned text.
    pub text: String,
    /// Whether it was screened.
    pub screened: bool,
    /// The rule it breaks (screened and rejected).
    pub rejected: Option<String>,
}

impl DraftView {
    /// The line the panel shows: the streamed text on one line while it is
    /// written, then `√ text` or `× text [reason]` ([`PASSED_MARK`],
    /// [`REJECTED_MARK`]).
    pub fn line(&self) -> String {
        match (self.screened, &self.rejected) {
            (false, _) => self
                .text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            (true, None) => format!("{PASSED_MARK} {}", self.text),
            (true, Some(reason)) => format!("{REJECTED_MARK} {} [{reason}]", self.text),
        }
    }
}

#[derive(Debug, Clone)]
struct RunningSuggest {
    job: JobId,
    first_slot: usize,
    count: usize,
    /// The slots before the job, restored when it fails, is cancelled or
    /// leaves them unfilled.
    previous: Vec<SuggestionEntry>,
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
    /// Candidates being written by the running job, by candidate index.
    pub drafts: Vec<DraftView>,
    /// Every candidate of the last finished job, with its verdict (kept
    /// until a new product is opened).
    pub candidates: Vec<CandidateView>,
    /// Rejected candidates of the last finished job per reason, in rule
    /// order.
    pub rejected_counts: Vec<(String, usize)>,
    running: Option<RunningSuggest>,
    requests: u64,
}

impl SuggestState {
    /// The relevance at or above which a suggestion matches the product
    /// ([`MATCH_THRESHOLD_DISPLAY`]).
    pub fn match_threshold() -> f32 {
        MATCH_THRESHOLD_DISPLAY
    }

    /// Whether a suggestion job is queued or running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The running job, if any.
    pub fn job(&self) -> Option<JobId> {
        self.running.as_ref().map(|r| r.job)
    }

    /// How many suggestions job `id` writes, when it is the running
    /// suggestion job.
    pub fn running_count(&self, id: JobId) -> Option<usize> {
        self.running
            .as_ref()
            .filter(|r| r.job == id)
            .map(|r| r.count)
    }

    /// How many candidates of the last job passed the screening.
    pub fn passed_count(&self) -> usize {
        self.candidates
            .iter()
            .filter(|c| c.rejected.is_none())
            .count()
    }

    /// The candidates view's header, e.g. `Candidates: 9 of 12 passed · 3
    /// rejected` (`None` before the first finished job).
    pub fn candidates_summary(&self) -> Option<String> {
        if self.candidates.is_empty() {
            return None;
        }
        let of = self.candidates.len();
        let passed = self.passed_count();
        Some(format!(
            "Candidates: {passed} of {of} passed · {} rejected",
            of - passed
        ))
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

    /// Replaces entry `index`'s text (an edit in the panel); entries being
    /// written are left alone. The relevance and the rejection were measured
    /// on the model's text, so they go.
    pub fn edit(&mut self, index: usize, text: String) {
        if let Some(entry) = self.entries.get_mut(index).filter(|e| !e.generating) {
            if entry.text != text {
                entry.text = text;
                entry.relevance = None;
                entry.rejected = None;
            }
        }
    }

    /// Clears the list and the last job's candidates (a new product was
    /// opened).
    pub fn reset(&mut self) {
        *self = Self {
            requests: self.requests,
            ..Self::default()
        };
    }

    /// A job writing `count` suggestions from slot `first_slot` on was
    /// submitted; the list grows to hold them and they show as generating.
    /// With `replaces_list`, a successful job also drops the entries after
    /// its slots (a fresh set); until then the old entries stay restorable.
    pub fn begin(&mut self, job: JobId, first_slot: usize, count: usize, replaces_list: bool) {
        if self.entries.len() < first_slot + count {
            self.entries
                .resize(first_slot + count, SuggestionEntry::default());
        }
        let slots = first_slot..first_slot + count;
        let previous = self.entries[slots.clone()].to_vec();
        // The slots start empty (their old entries come back on cancel).
        for entry in &mut self.entries[slots] {
            *entry = SuggestionEntry {
                generating: true,
                ..SuggestionEntry::default()
            };
        }
        self.message = None;
        self.drafts.clear();
        self.running = Some(RunningSuggest {
            job,
            first_slot,
            count,
            previous,
            replaces_list,
        });
    }

    fn running_for(&mut self, id: JobId) -> Option<&mut RunningSuggest> {
        self.running.as_mut().filter(|r| r.job == id)
    }

    /// The draft of `candidate`, growing the list to hold it.
    fn draft(&mut self, candidate: usize) -> &mut DraftView {
        if self.drafts.len() <= candidate {
            self.drafts.resize(candidate + 1, DraftView::default());
        }
        &mut self.drafts[candidate]
    }

    /// A round of `candidates` candidates from index `first` started.
    /// Returns whether the event belonged to the suggestion job.
    pub fn on_round(&mut self, id: JobId, first: usize, candidates: usize) -> bool {
        if self.running_for(id).is_none() {
            return false;
        }
        if candidates > 0 {
            self.draft(first + candidates - 1);
        }
        true
    }

    /// A piece of candidate `candidate`'s raw text.
    /// Returns whether the event belonged to the suggestion job.
    pub fn on_token(&mut self, id: JobId, candidate: usize, piece: &str) -> bool {
        if self.running_for(id).is_none() {
            return false;
        }
        self.draft(candidate).text.push_str(piece);
        true
    }

    /// Candidate `candidate` was screened: its draft becomes the cleaned
    /// text with its verdict. Returns whether the event belonged to the
    /// suggestion job.
    pub fn on_screened(
        &mut self,
        id: JobId,
        candidate: usize,
        text: &str,
        rejected: Option<&str>,
    ) -> bool {
        if self.running_for(id).is_none() {
            return false;
        }
        *self.draft(candidate) = DraftView {
            text: text.to_string(),
            screened: true,
            rejected: rejected.map(str::to_string),
        };
        true
    }

    /// The job finished: its slots get the picked suggestions (marked when
    /// they are best rejected ones); slots it could not fill get their
    /// previous entry back (or are dropped when new). The candidates and
    /// rejection counts are kept for the candidates view.
    pub fn on_done(&mut self, id: JobId, outcome: SuggestOutcome) -> bool {
        let Some(running) = self.running.take_if(|r| r.job == id) else {
            return false;
        };
        self.drafts.clear();
        self.candidates = outcome
            .candidates
            .iter()
            .map(|c| CandidateView {
                text: c.text.clone(),
                rejected: c.rejected.as_ref().map(|r| r.name().to_string()),
                relevance: c.relevance,
            })
            .collect();
        self.rejected_counts = outcome
            .rejected_counts()
            .into_iter()
            .map(|(r, n)| (r.to_string(), n))
            .collect();
        let nothing_passed = outcome.nothing_passed();
        let mut picked = outcome.suggestions.into_iter();
        let mut missing = 0;
        for (i, previous) in running.previous.iter().enumerate() {
            let Some(entry) = self.entries.get_mut(running.first_slot + i) else {
                continue;
            };
            *entry = match picked.next() {
                Some(s) => SuggestionEntry {
                    text: s.text,
                    generating: false,
                    relevance: s.relevance,
                    rejected: s.rejected.map(|r| r.name().to_string()),
                    adapter: outcome.adapter.clone(),
                },
                None => {
                    missing += 1;
                    previous.clone()
                }
            };
        }
        if running.replaces_list {
            self.entries.truncate(running.first_slot + running.count);
        }
        self.entries
            .retain(|e| !e.text.trim().is_empty() || e.generating);
        let unranked = outcome.ranked_by.is_none();
        let (model, shortened) = (outcome.model, outcome.shortened_title);
        let by = match &outcome.adapter {
            Some(adapter) => format!("{} with adapter {adapter}", display_name(&model)),
            None => display_name(&model),
        };
        self.message = Some(if nothing_passed {
            (
                format!(
                    "None of the {} candidates passed the rules: the best rejected ones are \
                     shown, marked. Try again or raise the temperature",
                    self.candidates.len()
                ),
                true,
            )
        } else if missing > 0 {
            (
                format!(
                    "{missing} of {} suggestions had no usable answer; try again or raise the \
                     temperature",
                    running.count
                ),
                true,
            )
        } else {
            (
                self.done_message(&by, unranked, shortened.as_deref()),
                false,
            )
        });
        true
    }

    /// The message of a job whose suggestions all passed.
    fn done_message(&self, by: &str, unranked: bool, shortened_title: Option<&str>) -> String {
        let ranking = if unranked {
            "; not ranked: no relevance model installed"
        } else {
            ""
        };
        let title_note = shortened_title.map_or_else(String::new, |t| {
            format!(" (the long title was shortened for the model to \"{t}\")")
        });
        format!(
            "Suggestions by {by} ({} of {} candidates passed{ranking}){title_note}",
            self.passed_count(),
            self.candidates.len()
        )
    }

    /// The job failed or was cancelled: its slots get their previous
    /// entries back and the drafts go.
    pub fn on_ended(&mut self, id: JobId, error: Option<String>) -> bool {
        let Some(running) = self.running.take_if(|r| r.job == id) else {
            return false;
        };
        self.drafts.clear();
        for (i, previous) in running.previous.into_iter().enumerate() {
            if let Some(entry) = self.entries.get_mut(running.first_slot + i) {
                *entry = previous;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ml::prompt_model::screen::RejectReason;
    use crate::ml::prompt_model::{Candidate, Suggestion};

    fn candidate(text: &str, rejected: Option<RejectReason>, relevance: Option<f32>) -> Candidate {
        Candidate {
            text: text.to_string(),
            raw: text.to_string(),
            seed: 0,
            rejected,
            relevance,
        }
    }

    fn suggestion_of(c: &Candidate) -> Suggestion {
        Suggestion {
            text: c.text.clone(),
            raw: c.raw.clone(),
            seed: c.seed,
            tokens: 0,
            relevance: c.relevance,
            rejected: c.rejected.clone(),
        }
    }

    /// An outcome picking `picked` (indices into `candidates`), ranked when
    /// the candidates have a relevance.
    fn outcome_of(candidates: Vec<Candidate>, picked: &[usize]) -> SuggestOutcome {
        let ranked = candidates.iter().any(|c| c.relevance.is_some());
        SuggestOutcome {
            suggestions: picked
                .iter()
                .map(|&i| suggestion_of(&candidates[i]))
                .collect(),
            candidates,
            model: std::path::PathBuf::from("m.gguf"),
            ranked_by: ranked.then(|| std::path::PathBuf::from("minilm")),
            shortened_title: None,
            constrained: true,
            adapter: None,
        }
    }

    /// Unranked passing candidates, all picked.
    fn outcome(texts: &[&str]) -> SuggestOutcome {
        let candidates = texts.iter().map(|t| candidate(t, None, None)).collect();
        outcome_of(candidates, &(0..texts.len()).collect::<Vec<_>>())
    }

    #[test]
    fn streamed_drafts_are_screened_and_done_fills_the_slots() {
        let mut state = SuggestState::default();
        let job = JobId(7);
        state.begin(job, 0, 2, true);
        assert_eq!(state.entries.len(), 2);
        assert!(state.entries.iter().all(|e| e.generating));
        assert!(state.on_round(job, 0, 3));
        assert_eq!(state.drafts.len(), 3);
        assert!(state.on_token(job, 1, "Setting: misty "));
        state.on_token(job, 1, "forest\nSurface: moss");
        state.on_token(job, 0, "Setting: beach");
        assert_eq!(
            state.drafts[1].line(),
            "Setting: misty forest · Surface: moss"
        );
        assert!(!state.on_token(JobId(8), 0, "other job"));
        assert_eq!(state.drafts[0].text, "Setting: beach");
        assert!(state.on_screened(job, 1, "misty forest, moss", None));
        state.on_screened(job, 0, "beach", Some("too short"));
        assert_eq!(state.drafts[1].line(), "√ misty forest, moss");
        assert_eq!(state.drafts[0].line(), "× beach [too short]");
        // A second round grows the drafts.
        state.on_round(job, 3, 3);
        assert_eq!(state.drafts.len(), 6);
        assert!(state.on_done(job, outcome(&["sunny beach", "misty forest"])));
        assert_eq!(state.entries[0].text, "sunny beach");
        assert_eq!(state.entries[1].text, "misty forest");
        assert!(state.entries.iter().all(|e| !e.generating));
        assert!(state.drafts.is_empty());
        assert!(!state.is_running());
    }

    #[test]
    fn relevance_and_verdicts_are_stored_on_done() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        let candidates = vec![
            candidate("a sunlit kitchen counter with herbs", None, Some(0.47)),
            candidate("w1 w2", Some(RejectReason::TooShort), Some(0.05)),
            candidate("a wooden shelf in a quiet study", None, Some(0.21)),
        ];
        state.on_done(JobId(1), outcome_of(candidates, &[0, 2]));
        let entries = &state.entries;
        assert_eq!(entries[0].relevance, Some(0.47));
        assert_eq!(entries[0].matches(), Some(true));
        assert_eq!(entries[1].relevance, Some(0.21));
        assert_eq!(entries[1].matches(), Some(false));
        assert!(entries.iter().all(|e| e.rejected.is_none()));
        assert_eq!(state.candidates.len(), 3);
        assert_eq!(state.candidates[1].rejected.as_deref(), Some("too short"));
        assert_eq!(state.candidates[1].relevance, Some(0.05));
        assert_eq!(
            state.candidates_summary().as_deref(),
            Some("Candidates: 2 of 3 passed · 1 rejected")
        );
        let (message, is_error) = state.message.clone().unwrap();
        assert!(!is_error);
        assert!(message.contains("2 of 3 candidates passed"), "{message}");
        assert!(!message.contains("not ranked"), "{message}");
    }

    #[test]
    fn when_nothing_passed_the_best_rejected_ones_are_marked_and_said() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        let candidates = vec![
            candidate("w4 w5 w6", Some(RejectReason::NotEnglish), None),
            candidate("w7", Some(RejectReason::TooShort), None),
            candidate(
                "see the image above for it",
                Some(RejectReason::MetaText),
                None,
            ),
        ];
        state.on_done(JobId(1), outcome_of(candidates, &[0, 2]));
        let rejected: Vec<_> = state.entries.iter().map(|e| e.rejected.clone()).collect();
        assert_eq!(
            rejected,
            [
                Some("not English".to_string()),
                Some("meta-text".to_string())
            ]
        );
        assert_eq!(state.entries[1].text, "see the image above for it");
        let (message, is_error) = state.message.clone().unwrap();
        assert!(is_error);
        assert!(
            message.starts_with("None of the 3 candidates passed"),
            "{message}"
        );
        assert!(message.contains("best rejected"), "{message}");
        assert_eq!(state.passed_count(), 0);
    }

    #[test]
    fn rejected_counts_stay_after_the_job_and_go_on_reset() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 1, true);
        let candidates = vec![
            candidate("w1", Some(RejectReason::TooShort), None),
            candidate("a marble plinth in soft window light", None, None),
            candidate("w2 w3", Some(RejectReason::TooShort), None),
            candidate(
                "#sale on a table by the sea",
                Some(RejectReason::Hashtag),
                None,
            ),
        ];
        state.on_done(JobId(1), outcome_of(candidates, &[1]));
        let counts = vec![("too short".to_string(), 2), ("hashtag".to_string(), 1)];
        assert_eq!(state.rejected_counts, counts);
        // Still there after an edit and after a cancelled job.
        state.edit(0, "a marble plinth".into());
        state.begin(JobId(2), 0, 1, false);
        state.on_ended(JobId(2), None);
        assert_eq!(state.rejected_counts, counts);
        assert_eq!(state.candidates.len(), 4);
        state.reset();
        assert!(state.rejected_counts.is_empty());
        assert!(state.candidates.is_empty());
        assert!(state.entries.is_empty());
        assert_eq!(state.candidates_summary(), None);
    }

    #[test]
    fn unranked_suggestions_say_so() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 1, true);
        state.on_done(JobId(1), outcome(&["a pale stone plinth at dawn"]));
        assert_eq!(state.entries[0].relevance, None);
        assert_eq!(state.entries[0].matches(), None);
        let (message, _) = state.message.clone().unwrap();
        assert!(message.contains("not ranked"), "{message}");
    }

    #[test]
    fn a_shortened_title_is_named_in_the_message() {
        let mut state = SuggestState::default();
        state.begin(JobId(3), 0, 1, true);
        let mut done = outcome(&["pale stone plinth"]);
        done.shortened_title = Some("Lumora Shower Gel".into());
        state.on_done(JobId(3), done);
        let (message, is_error) = state.message.clone().unwrap();
        assert!(!is_error);
        assert!(message.contains("\"Lumora Shower Gel\""), "{message}");
        assert!(message.contains("shortened"), "{message}");
    }

    #[test]
    fn cancel_restores_the_previous_entries() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        let candidates = vec![
            candidate("a b c d e f", None, Some(0.4)),
            candidate("c d e f g h", None, Some(0.2)),
        ];
        state.on_done(JobId(1), outcome_of(candidates, &[0, 1]));
        let before = state.entries.clone();
        // Regenerating one entry, cancelled mid-way.
        state.begin(JobId(2), 1, 1, false);
        assert_eq!(state.entries[1].text, "");
        assert_eq!(state.entries[1].relevance, None);
        state.on_round(JobId(2), 0, 3);
        state.on_token(JobId(2), 0, "half writ");
        state.on_ended(JobId(2), None);
        assert_eq!(state.entries, before);
        assert!(state.drafts.is_empty());
        assert_eq!(
            state.message,
            Some(("Suggestions cancelled".to_string(), false))
        );
        // A whole new set, failed: the list as it was, the error said.
        state.begin(JobId(3), 0, 4, true);
        assert_eq!(state.entries.len(), 4);
        state.on_ended(JobId(3), Some("no model".into()));
        assert_eq!(state.entries, before);
        assert_eq!(state.message, Some(("no model".to_string(), true)));
        assert!(!state.is_running());
    }

    #[test]
    fn regenerating_one_replaces_only_its_slot_and_keeps_edits() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 3, true);
        state.on_done(JobId(1), outcome(&["one", "two", "three"]));
        state.edit(0, "one, edited".into());
        state.begin(JobId(2), 1, 1, false);
        let candidates = vec![
            candidate("w1", Some(RejectReason::TooShort), Some(0.1)),
            candidate("a new second one", None, Some(0.35)),
            candidate("another", None, Some(0.3)),
        ];
        state.on_done(JobId(2), outcome_of(candidates, &[1]));
        let texts: Vec<_> = state.entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["one, edited", "a new second one", "three"]);
        assert_eq!(state.entries[1].relevance, Some(0.35));
        assert_eq!(state.candidates.len(), 3);
    }

    #[test]
    fn an_edit_drops_the_relevance_and_the_mark() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 1, true);
        let candidates = vec![candidate(
            "w4 w5",
            Some(RejectReason::NotEnglish),
            Some(0.1),
        )];
        state.on_done(JobId(1), outcome_of(candidates, &[0]));
        state.edit(0, "w4 w5".into());
        assert_eq!(state.entries[0].rejected.as_deref(), Some("not English"));
        state.edit(0, "a quiet harbour at dusk, wet stones".into());
        assert_eq!(state.entries[0].relevance, None);
        assert_eq!(state.entries[0].rejected, None);
    }

    #[test]
    fn entries_carry_the_adapter_that_wrote_them_through_edits() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        let mut by_adapter = outcome(&["a sunny beach", "a marble slab"]);
        by_adapter.adapter = Some("warm".into());
        state.on_done(JobId(1), by_adapter);
        assert!(state
            .entries
            .iter()
            .all(|e| e.adapter.as_deref() == Some("warm")));
        let (message, _) = state.message.clone().unwrap();
        assert!(message.contains("m.gguf with adapter warm"), "{message}");
        state.edit(0, "a sunny beach at noon".into());
        assert_eq!(state.entries[0].adapter.as_deref(), Some("warm"));

        state.begin(JobId(2), 1, 1, false);
        state.on_done(JobId(2), outcome(&["a base model line"]));
        assert_eq!(state.entries[1].adapter, None);
        assert_eq!(state.entries[0].adapter.as_deref(), Some("warm"));
    }
}
