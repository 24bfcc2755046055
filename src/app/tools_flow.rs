//! The app's suggestion, scoring and training side: commands that start
//! model-worker jobs, and what their outputs change.

use std::sync::Arc;

use crate::jobs::JobId;
use crate::ml::prompt_model::SuggestMode;
use crate::studio::adapters::active_adapter;
use crate::studio::score::{load_scores, score_variants};
use crate::studio::suggest::suggest;
use crate::studio::train::train_reward_model;
use crate::studio::{ModelRole, ScoreJob, SuggestJob, TrainJob, VariantRef, VariantScores};

use super::gallery::TileState;
use super::output::AppOutput;
use super::studio_app::StudioApp;

/// The checkpoint file the studio's training writes in the reward-model
/// folder.
const REWARD_CHECKPOINT: &str = crate::studio::roles::REWARD_CHECKPOINT_FILE;

impl StudioApp {
    pub(super) fn suggest(&mut self) {
        let count = self.prefs.suggest.count.max(1);
        self.submit_suggest(0, count, true);
    }

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
            title: session.product.title.clone(),
            image: Arc::clone(&session.product.image),
            mask: session.mask.clone(),
            count,
            temperature: f64::from(settings.temperature),
            top_p: f64::from(settings.top_p),
            seed: self.suggest.next_seed(&settings),
            max_new_tokens: None,
            mode: SuggestMode::Pipeline,
            adapter: None,
        };
        let adapter = self.prefs.prompt_adapter.clone();
        let data_root = self.data_root.clone();
        let label = if count == 1 {
            format!("Rewriting suggestion {}", first_slot + 1)
        } else {
            format!("Writing {count} suggestions")
        };
        let id = self.submit_model(label, move |studio, ctx| {
            let mut job = job;
            job.adapter = adapter
                .map(|name| active_adapter(&studio.store, &data_root, &name))
                .transpose()?;
            suggest(&studio.models, ctx, &job).map(AppOutput::Suggested)
        });
        if let Some(id) = id {
            self.suggest.begin(id, first_slot, count, replaces_list);
        }
    }

    pub(super) fn use_suggestion(&mut self, index: usize) {
        let Some((text, adapter)) = self
            .suggest
            .entries
            .get(index)
            .map(|e| (e.text.trim().to_string(), e.adapter.clone()))
            .filter(|(t, _)| !t.is_empty())
        else {
            return;
        };
        self.prefs.render.prompt = text;
        self.prefs.render.prompt_adapter = adapter;
        self.suggest.message = Some((
            format!("Suggestion {} is the render prompt", index + 1),
            false,
        ));
    }

    pub(super) fn cancel_suggestions(&mut self) {
        if let Some(id) = self.suggest.job() {
            self.cancel_model_job(id);
        }
    }

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

    /// How many stored renders the gallery shows (what scoring scores).
    pub fn stored_variant_count(&self) -> usize {
        self.stored_variants().len()
    }

    pub(super) fn score_variants(&mut self) {
        if self.scores.is_running() {
            return;
        }
        let Some(product) = self.session.as_ref().map(|s| s.product.id) else {
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
        self.scores.job = self.submit_model(label, move |studio, ctx| {
            let scored = score_variants(&studio.models, &studio.store, ctx, &job)?;
            Ok(AppOutput::Scored(Some(Box::new(scored))))
        });
    }

    pub(super) fn load_stored_scores(&mut self) {
        let Some(product) = self.session.as_ref().map(|s| s.product.id) else {
            return;
        };
        if self.scores.for_product(product).is_some() || self.scores.is_running() {
            return;
        }
        let renders: Vec<_> = self.stored_variants().iter().map(|v| v.render).collect();
        if renders.len() < 2 {
            return;
        }
        self.scores.job = self.submit_model("Reading stored scores", move |studio, _| {
            load_scores(&studio.store, product, &renders)
                .map(|found| AppOutput::Scored(found.map(Box::new)))
        });
    }

    pub(super) fn start_training(&mut self) {
        if self.training.is_running() {
            return;
        }
        let job = TrainJob {
            settings: self.prefs.training,
            checkpoint: self
                .models
                .registry()
                .install_dir(ModelRole::RewardModel)
                .join(REWARD_CHECKPOINT),
        };
        let id = self.submit_model("Training the reward model", move |_, ctx| {
            train_reward_model(ctx, &job).map(AppOutput::Trained)
        });
        if let Some(id) = id {
            self.training.begin(id);
        }
    }

    pub(super) fn cancel_training(&mut self) {
        if let Some(id) = self.training.job {
            self.cancel_model_job(id);
        }
    }

    pub(super) fn reset_tools(&mut self) {
        self.cancel_suggestions();
        self.suggest.reset();
        self.scores.current = None;
        self.scores.message = None;
    }

    /// A failed or cancelled model job: the tool that owned it shows why
    /// (`None` = cancelled).
    pub(super) fn end_tool_job(&mut self, id: JobId, error: Option<&str>) {
        self.suggest.on_ended(id, error.map(str::to_string));
        self.end_adapters_job(id, error);
        if self.scores.job == Some(id) {
            self.scores.job = None;
            self.scores.message = Some(match error {
                Some(e) => (e.to_string(), true),
                None => ("Scoring cancelled".into(), false),
            });
        }
        self.training.finish(id, error.map(|e| Err(e.to_string())));
        self.online.ended(id, error);
        self.catalog.ended(id, error);
        self.queue.ended(id, error);
    }

    pub(super) fn show_scores(&mut self, id: JobId, found: Option<Box<VariantScores>>) {
        if self.scores.job == Some(id) {
            self.scores.job = None;
        }
        let shown = self.session.as_ref().map(|s| s.product.id);
        if let Some(found) = found.filter(|s| Some(s.product) == shown) {
            self.scores.message = None;
            self.scores.current = Some(*found);
        }
    }
}
