//! The Online PCPO window's commands: estimate, start and cancel a run on
//! the model worker (the core's [`run_online`] / [`estimate_online`]), and
//! its progress and results routed to the window's state.

use crate::jobs::JobId;
use crate::store::ProductId;
use crate::studio::online::{
    estimate_online, run_online, OnlineJob, OnlineOutcome, OnlineProgress, Phase,
};

use super::online_state::OnlinePrefs;
use super::output::AppOutput;
use super::studio_app::StudioApp;

impl StudioApp {
    /// The job the window's settings describe: every stored product or
    /// the open one, starting from the adapter chosen for suggestions.
    fn online_job(&self) -> Result<OnlineJob, String> {
        let prefs = &self.prefs.online;
        let products: Vec<ProductId> = if prefs.all_products {
            let mut ids: Vec<ProductId> = self.products.iter().map(|p| p.id).collect();
            ids.sort();
            ids
        } else {
            self.session.iter().map(|s| s.product.id).collect()
        };
        if products.is_empty() {
            return Err(if prefs.all_products {
                "No stored products yet".into()
            } else {
                "Open a product first (or choose all products)".into()
            });
        }
        Ok(OnlineJob {
            products,
            settings: prefs.settings.clone(),
            start: self.prefs.prompt_adapter.clone(),
            name: None,
            data_root: self.data_root.clone(),
        })
    }

    pub(super) fn set_online_prefs(&mut self, prefs: &OnlinePrefs) {
        if self.prefs.online != *prefs {
            self.prefs.online = prefs.clone();
            self.online.estimate = None;
        }
    }

    /// Measures the costs and shows the estimate (no round is run).
    pub(super) fn estimate_online(&mut self) {
        if self.online.is_busy() {
            return;
        }
        let job = match self.online_job() {
            Ok(job) => job,
            Err(e) => return self.online.message = Some((e, true)),
        };
        let id = self.submit_model("Estimating online rounds", move |studio, ctx| {
            estimate_online(studio, ctx, &job).map(|e| AppOutput::OnlineEstimate(Box::new(e)))
        });
        if let Some(id) = id {
            self.online.begin(id, false);
        }
    }

    /// Starts the rounds (the estimate comes first, as progress).
    pub(super) fn start_online(&mut self) {
        if self.online.is_busy() {
            return;
        }
        let job = match self.online_job() {
            Ok(job) => job,
            Err(e) => return self.online.message = Some((e, true)),
        };
        let id = self.submit_model("Online PCPO rounds", move |studio, ctx| {
            run_online(studio, ctx, &job).map(|o| AppOutput::Online(Box::new(o)))
        });
        if let Some(id) = id {
            self.online.begin(id, true);
        }
    }

    pub(super) fn cancel_online(&mut self) {
        if let Some(id) = self.online.job {
            self.cancel_model_job(id);
        }
    }

    /// Online progress: the window's state, and a status-bar line.
    pub(super) fn on_online_progress(
        &mut self,
        id: JobId,
        progress: OnlineProgress,
    ) -> Option<(u64, u64, String)> {
        let rounds = self.prefs.online.settings.rounds;
        let line = match &progress {
            OnlineProgress::Phase {
                round,
                phase: Phase::Calibrating,
                ..
            } => Some((*round as u64, rounds as u64, "calibrating".to_string())),
            OnlineProgress::Phase { round, phase, .. } => Some((
                round.saturating_sub(1) as u64,
                rounds as u64,
                format!("round {round}: {}", phase.name()),
            )),
            OnlineProgress::Round(r) => Some((
                r.round as u64,
                r.rounds as u64,
                format!("round {} done: loss {:.3}", r.round, r.loss),
            )),
            OnlineProgress::Estimate(_) => None,
        };
        self.online.on_progress(id, progress).then_some(line)?
    }

    /// A run ended: its result, the new adapters listed and the open
    /// product's new renders in the gallery.
    pub(super) fn show_online(&mut self, id: JobId, outcome: &OnlineOutcome) {
        self.online.finished(id, outcome);
        self.refresh_adapters();
        self.load_gallery();
    }
}
