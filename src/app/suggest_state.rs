//! The suggestions panel's state: the editable list, filled live from the
//! suggestion job's typed progress ([`SuggestProgress`]).

use crate::jobs::JobId;
use crate::studio::{display_name, SuggestOutcome, SuggestSettings};

/// One suggestion in the panel's list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestionEntry {
    /// The text (streamed while generating, then cleaned, then editable).
    pub text: String,
    /// Whether the model is writing this entry now.
    pub generating: bool,
    /// Cosine similarity to the product (when a relevance model ranked it).
    pub relevance: Option<f32>,
    /// The screening rule it breaks, when it is a best rejected one shown
    /// because no candidate passed.
    pub rejected: Option<String>,
}

/// A candidate of the last job, for the "rejected" view.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    /// The cleaned text.
    pub text: String,
    /// The rule it breaks (`None`: passed).
    pub rejected: Option<String>,
    /// Its relevance, when ranked.
    pub relevance: Option<f32>,
}

#[derive(Debug, Clone)]
struct RunningSuggest {
    job: JobId,
    first_slot: usize,
    count: usize,
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
    /// Candidates being written by the running job (streamed raw text).
    pub drafts: Vec<String>,
    /// Every candidate of the last finished job, with its verdict.
    pub candidates: Vec<CandidateView>,
    /// Rejected candidates of the last job per reason.
    pub rejected_counts: Vec<(String, usize)>,
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

    /// How many suggestions job `id` writes, when it is the running
    /// suggestion job.
    pub fn running_count(&self, id: JobId) -> Option<usize> {
        self.running
            .as_ref()
            .filter(|r| r.job == id)
            .map(|r| r.count)
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
    /// written are left alone.
    pub fn edit(&mut self, index: usize, text: String) {
        if let Some(entry) = self.entries.get_mut(index).filter(|e| !e.generating) {
            entry.text = text;
        }
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

    /// A round of `candidates` candidates from index `first` started.
    /// Returns whether the event belonged to the suggestion job.
    pub fn on_round(&mut self, id: JobId, first: usize, candidates: usize) -> bool {
        if self.running_for(id).is_none() {
            return false;
        }
        if self.drafts.len() < first + candidates {
            self.drafts.resize(first + candidates, String::new());
        }
        true
    }

    /// A piece of candidate `candidate`'s raw text.
    /// Returns whether the event belonged to the suggestion job.
    pub fn on_token(&mut self, id: JobId, candidate: usize, piece: &str) -> bool {
        if self.running_for(id).is_none() {
            return false;
        }
        if self.drafts.len() <= candidate {
            self.drafts.resize(candidate + 1, String::new());
        }
        self.drafts[candidate].push_str(piece);
        true
    }

    /// Candidate `candidate` was screened: its draft becomes the cleaned
    /// text, marked when rejected.
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
        if let Some(draft) = self.drafts.get_mut(candidate) {
            *draft = match rejected {
                Some(reason) => format!("✗ {text} [{reason}]"),
                None => format!("✓ {text}"),
            };
        }
        true
    }

    /// The job finished: its slots get the cleaned suggestions; slots it
    /// could not fill keep their previous text (or are dropped when new).
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
        let unranked = outcome.ranked_by.is_none();
        let mut texts = outcome.suggestions.into_iter();
        let mut missing = 0;
        for (i, previous) in running.previous.iter().enumerate() {
            let Some(entry) = self.entries.get_mut(running.first_slot + i) else {
                continue;
            };
            entry.generating = false;
            match texts.next() {
                Some(s) => {
                    entry.text = s.text;
                    entry.relevance = s.relevance;
                    entry.rejected = s.rejected.map(|r| r.name().to_string());
                }
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
        let title_note = outcome
            .shortened_title
            .as_ref()
            .map_or_else(String::new, |t| {
                format!(" (the long title was shortened for the model to \"{t}\")")
            });
        let passed = self
            .candidates
            .iter()
            .filter(|c| c.rejected.is_none())
            .count();
        let of = self.candidates.len();
        self.message = Some(if nothing_passed {
            (
                format!("None of {of} candidates passed the rules; showing the best rejected ones, marked. Try again or raise the temperature"),
                true,
            )
        } else if missing == 0 {
            (
                format!(
                    "Suggestions by {} ({passed} of {of} candidates passed{}){title_note}",
                    display_name(&outcome.model),
                    if unranked {
                        "; not ranked: no relevance model installed"
                    } else {
                        ""
                    }
                ),
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
        self.drafts.clear();
        for (i, previous) in running.previous.iter().enumerate() {
            let slot = running.first_slot + i;
            let Some(entry) = self.entries.get_mut(slot) else {
                continue;
            };
            entry.generating = false;
            entry.text = previous.clone();
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
    use crate::ml::prompt_model::Suggestion;

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
            model: std::path::PathBuf::from("m.gguf"),
            shortened_title: None,
        }
    }

    #[test]
    fn streamed_tokens_fill_slots_in_order_and_done_replaces_them() {
        let mut state = SuggestState::default();
        let job = JobId(7);
        state.begin(job, 0, 2, true);
        assert_eq!(state.entries.len(), 2);
        assert!(state.on_attempt(job, 0));
        state.on_token(job, "red ");
        state.on_token(job, "wall");
        assert_eq!(state.entries[0].text, "red wall");
        // A rejected attempt restarts the same slot.
        state.on_attempt(job, 0);
        assert_eq!(state.entries[0].text, "");
        state.on_token(job, "sunny beach.");
        state.on_attempt(job, 1);
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
    fn cancelled_regeneration_restores_the_previous_text() {
        let mut state = SuggestState::default();
        state.begin(JobId(1), 0, 2, true);
        state.on_done(JobId(1), outcome(&["a b", "c d"]));
        state.begin(JobId(2), 1, 1, false);
        state.on_attempt(JobId(2), 0);
        state.on_token(JobId(2), "half writ");
        state.on_ended(JobId(2), None);
        assert_eq!(state.entries[0].text, "a b");
        assert_eq!(state.entries[1].text, "c d");
        assert!(!state.is_running());
    }
}
