//! The labelling mode's commands and the labelling worker's replies.
//!
//! The [`LabelSession`](crate::studio::labelling::LabelSession) lives on a
//! worker of its own ([`LabelDesk`], with its own store connection), so no
//! store or image work happens on the UI thread and labelling never waits
//! behind a mask build or a render. Commands become jobs; replies carry the
//! screen (display images as pixels, uploaded here as textures).

use crate::jobs::{JobEvent, JobId};
use crate::studio::labelling::{Answer, GroupKey, Scope};

use super::command::Command;
use super::label_desk::LabelDesk;
use super::label_keys::{take_label_keys, take_mode_toggle, LabelKey};
use super::label_output::{LabelOutcome, LabelReply, LabelScreen, SideImage};
use super::label_state::{LabelScope, LabelScreenView, PairView, RevealView, SideView};
use super::studio_app::StudioApp;
use super::views::color_image;

impl StudioApp {
    /// Handles the labelling commands; returns whether `command` was one.
    pub(super) fn handle_label_command(&mut self, command: &Command) -> bool {
        use Command as C;
        match command {
            C::ShowLabelling(open) => self.show_labelling(*open),
            C::SetLabeler(name) => self.set_labeler(name),
            C::SetLabelerDraft(name) => self.label.name_draft = name.clone(),
            C::ChangeLabeler => {
                self.label.name_draft = self.prefs.labeler.clone();
                self.label.asking_name = true;
            }
            C::LabelAnswer(answer) => self.label_answer(*answer),
            C::LabelUndo => self.label_undo(),
            C::SetLabelScope(scope) => {
                self.label.scope = *scope;
                self.start_label_session();
            }
            C::SetLabelSplitView(split) => self.label.split_view = *split,
            C::ReloadLabelling => self.reload_labelling(),
            C::ShowPrefStats(open) => {
                self.label.stats.open = *open;
                if *open {
                    self.refresh_pref_stats();
                }
            }
            C::RefreshPrefStats => self.refresh_pref_stats(),
            _ => return false,
        }
        true
    }

    fn show_labelling(&mut self, open: bool) {
        self.label.open = open;
        self.label.reveal = None;
        if !open {
            return;
        }
        if self.prefs.labeler.trim().is_empty() {
            self.label.name_draft.clear();
            self.label.asking_name = true;
        } else if self.label.screen.is_some() && self.label.scope == LabelScope::All {
            self.reload_labelling();
        } else {
            self.start_label_session();
        }
    }

    fn set_labeler(&mut self, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            self.label.message =
                Some(("Type the name your labels are recorded under".into(), true));
            return;
        }
        self.prefs.labeler = name.to_string();
        self.label.asking_name = false;
        self.label.message = None;
        self.start_label_session();
    }

    /// The session scope the mode's selector gives (the open product's
    /// renders, or everything).
    fn label_scope(&self) -> Scope {
        match (self.label.scope, &self.session) {
            (LabelScope::OpenProduct, Some(session)) => {
                Scope::Only(GroupKey::Product(session.product.id))
            }
            _ => Scope::All,
        }
    }

    /// Opens a labelling session on the worker (for the saved name, the
    /// chosen scope and a fresh seed).
    pub(super) fn start_label_session(&mut self) {
        let labeler = self.prefs.labeler.trim().to_string();
        if labeler.is_empty() || !self.label.open {
            return;
        }
        let scope = self.label_scope();
        let seed: u64 = rand::random();
        self.label.reveal = None;
        self.submit_label("Opening labelling", move |desk| {
            desk.start(&labeler, &scope, seed)
        });
    }

    fn label_answer(&mut self, answer: Answer) {
        if self.label.job.is_some() {
            self.label.ignore_key();
            return;
        }
        let Some(expected) = self.label.answer_target() else {
            return;
        };
        self.label.reveal = None;
        self.submit_label("Saving a label", move |desk| desk.answer(expected, answer));
    }

    fn label_undo(&mut self) {
        if self.label.job.is_some() {
            self.label.ignore_key();
            return;
        }
        if !self.label.accepts_keys() || self.label.screen.is_none() {
            return;
        }
        self.label.reveal = None;
        self.submit_label("Undoing the last label", LabelDesk::undo);
    }

    fn reload_labelling(&mut self) {
        if self.label.job.is_some() {
            return;
        }
        self.submit_label("Reading the labelling pool", LabelDesk::reload);
    }

    fn refresh_pref_stats(&mut self) {
        if self.label.stats.job.is_some() {
            self.label.stats.stale = true;
            return;
        }
        self.label.stats.stale = false;
        let submitted = self
            .label_worker
            .submit("Reading preference statistics", |desk, _| {
                Ok(LabelReply::Stats(Box::new(desk.stats()?)))
            });
        match submitted {
            Ok(handle) => self.label.stats.job = Some(handle.id),
            Err(error) => self.label.stats.message = Some((error.to_string(), true)),
        }
    }

    /// Queues a session command; one at a time (keys wait for its reply).
    fn submit_label<F>(&mut self, label: &str, run: F)
    where
        F: FnOnce(&mut LabelDesk) -> LabelReply + Send + 'static,
    {
        match self
            .label_worker
            .submit(label, move |desk, _| Ok(run(desk)))
        {
            Ok(handle) => self.label.job = Some(handle.id),
            Err(error) => self.label.message = Some((error.to_string(), true)),
        }
    }

    /// The labelling keys of this frame: Ctrl+L opens or leaves the mode
    /// from anywhere; while the mode is shown its keys label, undo and
    /// leave. Returns whether the mode is shown (the studio's other
    /// shortcuts are then off). A focused text field (the name) keeps its
    /// keys.
    pub(super) fn handle_label_keys(&mut self, ctx: &egui::Context) -> bool {
        if ctx.input_mut(|i| take_mode_toggle(&mut i.events)) {
            self.handle_command(Command::ShowLabelling(!self.label.open));
        }
        if !self.label.open {
            return false;
        }
        // Esc leaves even from the name field.
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
            self.handle_command(Command::ShowLabelling(false));
            return true;
        }
        if ctx.egui_wants_keyboard_input() {
            return true;
        }
        for key in ctx.input_mut(|i| take_label_keys(&mut i.events)) {
            let command = match key {
                LabelKey::Answer(answer) => Command::LabelAnswer(answer),
                LabelKey::Undo => Command::LabelUndo,
                LabelKey::Leave => Command::ShowLabelling(false),
            };
            self.handle_command(command);
        }
        true
    }

    /// Applies the labelling worker's events; hides an expired reveal.
    pub(super) fn drain_label_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.label_worker.try_event() {
            let id = event.id();
            match event {
                JobEvent::Done { output, .. } => self.on_label_reply(id, output, ctx),
                JobEvent::Failed { error, .. } => self.label_job_ended(id, Some(error)),
                JobEvent::Cancelled { .. } => self.label_job_ended(id, None),
                JobEvent::Started { .. } | JobEvent::Progress { .. } => {}
            }
        }
        let now = ctx.input(|i| i.time);
        if let Some(left) = self.label.expire_reveal(now) {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(left));
        }
    }

    fn label_job_ended(&mut self, id: JobId, error: Option<String>) {
        let message = error.map(|e| (e, true));
        if self.label.job == Some(id) {
            self.label.job = None;
            self.label.message = message.or(Some(("Cancelled".into(), false)));
        } else if self.label.stats.job == Some(id) {
            self.label.stats.job = None;
            self.label.stats.message = message;
        }
    }

    fn on_label_reply(&mut self, id: JobId, reply: LabelReply, ctx: &egui::Context) {
        match reply {
            LabelReply::Stats(stats) => {
                if self.label.stats.job == Some(id) {
                    self.label.stats.job = None;
                }
                self.label.stats.current = Some(*stats);
                self.label.stats.message = None;
                if self.label.stats.stale {
                    self.refresh_pref_stats();
                }
            }
            LabelReply::Screen { screen, outcome } => {
                if self.label.job == Some(id) {
                    self.label.job = None;
                }
                let labels_changed = matches!(
                    outcome,
                    LabelOutcome::Labelled { .. } | LabelOutcome::Undone(Some(_))
                );
                self.label.screen = screen.map(|s| upload_screen(ctx, *s));
                self.apply_label_outcome(outcome, ctx.input(|i| i.time));
                if labels_changed && self.label.stats.open {
                    self.refresh_pref_stats();
                }
            }
        }
    }

    fn apply_label_outcome(&mut self, outcome: LabelOutcome, now: f64) {
        let ignored = self.label.take_ignored_note();
        self.label.message = match outcome {
            LabelOutcome::Opened | LabelOutcome::Reloaded => ignored,
            LabelOutcome::Labelled { id, answer, reveal } => {
                self.label.reveal = Some(RevealView {
                    reveal: *reveal,
                    answer,
                    id,
                    shown_at: now,
                });
                ignored
            }
            LabelOutcome::Undone(Some(undone)) => Some((
                if undone.shown_again {
                    "Last label undone: its pair is shown again".into()
                } else {
                    "Last label undone".into()
                },
                false,
            )),
            LabelOutcome::Undone(None) => Some(("Nothing to undo".into(), false)),
            LabelOutcome::Refused(reason) => Some((reason, true)),
        };
    }
}

/// The screen with its images uploaded as textures.
fn upload_screen(ctx: &egui::Context, screen: LabelScreen) -> LabelScreenView {
    let pair = screen.pair.map(|pair| {
        let upload = |side: &str, image: SideImage| -> SideView {
            let image = image?;
            Ok(ctx.load_texture(
                format!("label-{side}"),
                color_image(&image),
                egui::TextureOptions::LINEAR,
            ))
        };
        PairView {
            left: upload("left", pair.left),
            right: upload("right", pair.right),
            shown: pair.shown,
        }
    });
    LabelScreenView {
        labeler: screen.labeler,
        pair,
        progress: screen.progress,
    }
}
