//! The app's suggestion, scoring and training side: commands that start
//! model-worker jobs, and the routing of their events. (An `impl StudioApp`
//! block kept apart from the studio and render sides.)

use std::sync::Arc;

use crate::jobs::{JobEvent, JobId};

use super::models::ModelOutput;
use super::scores::{self, ScoreJob, VariantRef, VariantScores};
use super::suggest::{self, SuggestJob};
use super::training::{self, TrainJob};
use super::{StudioApp, TileState};

impl StudioApp {
    /// Asks for K new suggestions (replacing the list).
    pub(super) fn suggest(&mut self) {
        let count = self.prefs.suggest.count.max(1);
        self.submit_suggest(0, count, true);
    }

    /// Writes suggestion `index` again, leaving the others alone.
    pub(super) fn regenerate_suggestion(&mut self, index: usize) {
        if index < self.suggest.entries.len() {
            self.submit_suggest(index, 1, false);
        }
    }

    fn submit_suggest(&mut self, first_slot: usize, count: usize, replaces_list: bool) {
        if self.suggest.is_running() {
            return;
        }
        let Some(session) = &self.session else {
            self.suggest.message = Some(("Open a product first".into(), true));
            return;
        };
        let settings = self.prefs.suggest;
        let job = SuggestJob {
            title: session.title.clone(),
            image: Arc::clone(&session.image),
            mask: session.mask.clone(),
            count,
            settings,
            seed: self.suggest.next_seed(&settings),
        };
        let label = if count == 1 {
            format!("Rewriting suggestion {}", first_slot + 1)
        } else {
            format!("Writing {count} suggestions")
        };
        let id = self.submit_model(label, move |res, ctx| {
            suggest::run_suggest(&mut res.prompt_model, ctx, &job).map(ModelOutput::Suggested)
        });
        if let Some(id) = id {
            self.suggest.begin(id, first_slot, count, replaces_list);
        }
    }

    /// Puts suggestion `index` (as edited) into the render prompt.
    pub(super) fn use_suggestion(&mut self, index: usize) {
        let Some(text) = self
            .suggest
            .entries
            .get(index)
            .map(|e| e.text.trim().to_string())
            .filter(|t| !t.is_empty())
        else {
            return;
        };
        self.prefs.render.prompt = text;
        self.suggest.message = Some((
            format!("Suggestion {} is the render prompt", index + 1),
            false,
        ));
    }

    /// Stops the suggestion job.
    pub(super) fn cancel_suggestions(&mut self) {
        if let Some(id) = self.suggest.job() {
            self.cancel_model_job(id);
        }
    }

    /// The open product's finished, stored variants.
    fn stored_variants(&self) -> Vec<VariantRef> {
        self.gallery
            .tiles
            .iter()
            .filter_map(|tile| match &tile.state {
                TileState::Done(done) => done.render_id.map(|render| VariantRef {
                    render,
                    path: done.path.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// How many stored variants the open product has.
    pub(super) fn stored_variant_count(&self) -> usize {
        self.stored_variants().len()
    }

    /// Scores every pair of the open product's variants (and saves them).
    pub(super) fn score_variants(&mut self) {
        if self.scores.is_running() {
            return;
        }
        let Some(product) = self.session.as_ref().map(|s| s.id) else {
            return;
        };
        let job = ScoreJob {
            product,
            variants: self.stored_variants(),
        };
        if job.variants.len() < 2 {
            self.scores.message = Some(("Render at least two variants first".into(), true));
            return;
        }
        let label = format!("Scoring {} variants", job.variants.len());
        self.scores.message = None;
        self.scores.job = self.submit_model(label, move |res, ctx| {
            let scored = scores::run_scoring(&mut res.reward_model, ctx, &job)?;
            scores::save_scores(&res.store, &scored)?;
            Ok(ModelOutput::Scored(Some(Box::new(scored))))
        });
    }

    /// Reads the open product's stored scores (after its gallery loaded).
    pub(super) fn load_stored_scores(&mut self) {
        let Some(product) = self.session.as_ref().map(|s| s.id) else {
            return;
        };
        if self.scores.for_product(product).is_some() || self.scores.is_running() {
            return;
        }
        let renders: Vec<_> = self.stored_variants().iter().map(|v| v.render).collect();
        if renders.len() < 2 {
            return;
        }
        self.scores.job = self.submit_model("Reading stored scores", move |res, _| {
            scores::load_scores(&res.store, product, &renders)
                .map(|found| ModelOutput::Scored(found.map(Box::new)))
        });
    }

    /// Starts training the reward model with the Training window's settings.
    pub(super) fn start_training(&mut self) {
        if self.training.is_running() {
            return;
        }
        let reports = self.training.begin();
        let job = TrainJob {
            settings: self.prefs.training,
            checkpoint: self.reward_checkpoint_target(),
            reports,
        };
        self.training.job = self.submit_model("Training the reward model", move |res, ctx| {
            let outcome = training::run_training(ctx, &job)?;
            res.reward_model.invalidate();
            Ok(ModelOutput::Trained(outcome))
        });
    }

    /// Stops the training job.
    pub(super) fn cancel_training(&mut self) {
        if let Some(id) = self.training.job {
            self.cancel_model_job(id);
        }
    }

    /// Forgets suggestions and scores of the previous product.
    pub(super) fn reset_tools(&mut self) {
        self.cancel_suggestions();
        self.suggest.reset();
        self.scores.current = None;
        self.scores.message = None;
    }

    /// Lets suggestion, scoring and training jobs see a model-worker event
    /// before the render side does.
    pub(super) fn route_tool_event(&mut self, event: &JobEvent<ModelOutput>) {
        let id = event.id();
        match event {
            JobEvent::Progress { done, .. } => {
                self.suggest.on_progress(id, *done);
            }
            JobEvent::Token { text, .. } => {
                self.suggest.on_token(id, text);
            }
            JobEvent::Failed { error, .. } => {
                self.suggest.on_ended(id, Some(error.clone()));
                if self.scores.job == Some(id) {
                    self.scores.job = None;
                    self.scores.message = Some((error.clone(), true));
                }
                self.training.finish(id, Some(Err(error.clone())));
            }
            JobEvent::Cancelled { .. } => {
                self.suggest.on_ended(id, None);
                if self.scores.job == Some(id) {
                    self.scores.job = None;
                    self.scores.message = Some(("Scoring cancelled".into(), false));
                }
                self.training.finish(id, None);
            }
            JobEvent::Started { .. } | JobEvent::Preview { .. } | JobEvent::Done { .. } => {}
        }
    }

    /// Shows the scores a scoring (or stored-scores) job returned, if they
    /// belong to the open product.
    pub(super) fn show_scores(&mut self, id: JobId, found: Option<Box<VariantScores>>) {
        if self.scores.job == Some(id) {
            self.scores.job = None;
        }
        let shown = self.session.as_ref().map(|s| s.id);
        if let Some(found) = found.filter(|s| Some(s.product) == shown) {
            self.scores.message = None;
            self.scores.current = Some(*found);
        }
    }

    /// Where training writes the reward model.
    fn reward_checkpoint_target(&self) -> std::path::PathBuf {
        scores::reward_folder(&self.model_dirs).join(scores::REWARD_CHECKPOINT_FILE)
    }
}
