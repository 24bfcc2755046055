//! The Online PCPO window's state: its settings (persisted), the estimate,
//! the running job's phase and the finished rounds for the live plots.

use serde::{Deserialize, Serialize};

use crate::jobs::JobId;
use crate::studio::online::{
    OnlineOutcome, OnlineProgress, OnlineSettings, Phase, RoundEstimate, RoundReport,
};

/// The window's settings (persisted in the UI prefs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnlinePrefs {
    /// Every stored product (true) or the open one.
    pub all_products: bool,
    /// Rounds, steps, seed and training settings.
    pub settings: OnlineSettings,
}

impl Default for OnlinePrefs {
    /// The open product, 3 rounds of 20-step renders.
    fn default() -> Self {
        Self {
            all_products: false,
            settings: OnlineSettings {
                rounds: 3,
                steps: 20,
                ..OnlineSettings::default()
            },
        }
    }
}

/// What the running job is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlinePhase {
    /// 1-based round (0 while calibrating).
    pub round: usize,
    /// The part of the round.
    pub phase: Phase,
    /// 0-based product index.
    pub product: usize,
    /// Products per round.
    pub products: usize,
}

/// The Online PCPO window's state (runtime; settings live in the prefs).
#[derive(Debug, Default)]
pub struct OnlineState {
    /// Whether the window is open.
    pub open: bool,
    /// The running job (an estimate or a run).
    pub job: Option<JobId>,
    /// Whether the running job is a run (false: an estimate only).
    pub running_rounds: bool,
    /// The latest estimate.
    pub estimate: Option<RoundEstimate>,
    /// The running job's phase.
    pub phase: Option<OnlinePhase>,
    /// Finished rounds of the current (or last) run.
    pub rounds: Vec<RoundReport>,
    /// The last result or error (and whether it is an error).
    pub message: Option<(String, bool)>,
}

impl OnlineState {
    /// Whether a job is queued or running.
    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// Job `id` was submitted: a run clears the plots.
    pub fn begin(&mut self, id: JobId, rounds: bool) {
        self.job = Some(id);
        self.running_rounds = rounds;
        self.phase = None;
        self.message = None;
        if rounds {
            self.rounds.clear();
        }
    }

    /// Progress of job `id`; returns whether it was this window's job.
    pub fn on_progress(&mut self, id: JobId, progress: OnlineProgress) -> bool {
        if self.job != Some(id) {
            return false;
        }
        match progress {
            OnlineProgress::Estimate(e) => self.estimate = Some(e),
            OnlineProgress::Phase {
                round,
                phase,
                product,
                products,
            } => {
                self.phase = Some(OnlinePhase {
                    round,
                    phase,
                    product,
                    products,
                })
            }
            OnlineProgress::Round(r) => self.rounds.push(r),
        }
        true
    }

    /// An estimate job finished.
    pub fn estimated(&mut self, id: JobId, estimate: RoundEstimate) {
        if self.job == Some(id) {
            self.job = None;
            self.phase = None;
            self.estimate = Some(estimate);
        }
    }

    /// A run finished (completed or cancelled with its finished rounds).
    pub fn finished(&mut self, id: JobId, outcome: &OnlineOutcome) {
        if self.job != Some(id) {
            return;
        }
        self.job = None;
        self.phase = None;
        let last = outcome
            .last_adapter
            .as_ref()
            .map_or_else(String::new, |(_, name)| format!("; last adapter {name:?}"));
        let text = if outcome.cancelled {
            format!(
                "Stopped after {} finished round(s){last}",
                outcome.rounds.len()
            )
        } else {
            format!("Finished {} round(s){last}", outcome.rounds.len())
        };
        self.message = Some((text, false));
    }

    /// The job failed (`Some(error)`) or was cancelled (`None`).
    pub fn ended(&mut self, id: JobId, error: Option<&str>) {
        if self.job != Some(id) {
            return;
        }
        self.job = None;
        self.phase = None;
        self.message = Some(match error {
            Some(e) => (e.to_string(), true),
            None => (
                "Cancelled; the finished rounds' adapters are kept".into(),
                false,
            ),
        });
    }

    /// One line about the running job, e.g. `round 2/3: rendering product 1/2`.
    pub fn phase_text(&self, rounds: usize) -> Option<String> {
        let p = self.phase?;
        let product = (p.product + 1).min(p.products);
        Some(match p.phase {
            Phase::Calibrating => "measuring costs for the estimate".to_string(),
            Phase::Training => format!("round {}/{rounds}: training", p.round),
            other => format!(
                "round {}/{rounds}: {} product {product}/{}",
                p.round,
                other.name(),
                p.products
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::studio::online::RoundTimings;

    fn report(round: usize) -> RoundReport {
        RoundReport {
            round,
            rounds: 2,
            pairs: 2,
            renders: 4,
            skipped: vec![],
            loss: 0.7,
            reward_margin: 0.01,
            accuracy: 0.5,
            matching_rate: None,
            timings: RoundTimings::default(),
            adapter: format!("x-r{round}"),
            adapter_id: round as i64,
        }
    }

    #[test]
    fn rounds_of_the_own_job_only_and_messages_on_end() {
        let mut s = OnlineState::default();
        s.begin(JobId(3), true);
        assert!(!s.on_progress(JobId(4), OnlineProgress::Round(report(1))));
        assert!(s.on_progress(JobId(3), OnlineProgress::Round(report(1))));
        s.on_progress(
            JobId(3),
            OnlineProgress::Phase {
                round: 2,
                phase: Phase::Rendering,
                product: 0,
                products: 2,
            },
        );
        assert_eq!(
            s.phase_text(2).as_deref(),
            Some("round 2/2: rendering product 1/2")
        );
        let outcome = OnlineOutcome {
            rounds: vec![report(1)],
            cancelled: true,
            estimate: None,
            last_adapter: Some((crate::store::AdapterId(1), "x-r1".into())),
        };
        s.finished(JobId(3), &outcome);
        assert!(!s.is_busy());
        assert_eq!(s.rounds.len(), 1);
        let (text, error) = s.message.clone().unwrap_or_default();
        assert!(
            !error && text.contains("Stopped after 1") && text.contains("x-r1"),
            "{text}"
        );
        s.begin(JobId(5), true);
        assert!(s.rounds.is_empty());
        s.ended(JobId(5), Some("no reward model"));
        assert_eq!(s.message, Some(("no reward model".into(), true)));
    }
}
