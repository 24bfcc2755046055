//! The labelling mode's state: the screen the worker last sent (with its
//! textures), the reveal of the last label, the command in flight and the
//! preference-statistics window.
//!
//! Keys while a command is in flight: an answer or undo key pressed before
//! the worker has answered the previous one is ignored (counted in
//! [`LabelState::ignored_keys`] and said in the message), because the pair
//! it would apply to is not on screen yet. Each answer carries the pair it
//! was given for ([`PairRef`]); the worker refuses it when that pair is no
//! longer current, so a key never labels a pair the labeler did not see.

use crate::jobs::JobId;
use crate::prefs::PrefStats;
use crate::store::PreferenceId;
use crate::studio::labelling::{Answer, LabelProgress, Reveal, ShownPair};

use super::label_output::PairRef;

/// How long the reveal of a label stays on screen, in seconds (the next
/// key hides it sooner).
pub const REVEAL_SECONDS: f64 = 2.0;

/// Which pairs the labelling mode offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelScope {
    /// Pairs of every product and creative group.
    #[default]
    All,
    /// Only the pairs of the product open in the studio.
    OpenProduct,
}

/// One side's texture, or why its image could not be shown.
pub type SideView = Result<egui::TextureHandle, String>;

/// The pair on screen with its textures.
pub struct PairView {
    /// The blind pair (no prompt, seed or score).
    pub shown: ShownPair,
    /// The left image.
    pub left: SideView,
    /// The right image.
    pub right: SideView,
}

/// The labelling screen as last sent by the worker.
pub struct LabelScreenView {
    /// Whom the labels are recorded for.
    pub labeler: String,
    /// The pair to label, if any is left.
    pub pair: Option<PairView>,
    /// Labelled and remaining pairs.
    pub progress: LabelProgress,
}

/// The reveal of the last label, shown for [`REVEAL_SECONDS`].
#[derive(Debug, Clone)]
pub struct RevealView {
    /// What labelling hid.
    pub reveal: Reveal,
    /// The key the labeler pressed.
    pub answer: Answer,
    /// The committed `preferences` row.
    pub id: Option<PreferenceId>,
    /// UI time (seconds) when it was first shown.
    pub shown_at: f64,
}

/// The preference-statistics window.
#[derive(Debug, Default)]
pub struct PrefStatsState {
    /// Whether the window is open.
    pub open: bool,
    /// The last statistics read.
    pub current: Option<PrefStats>,
    /// The running statistics job.
    pub job: Option<JobId>,
    /// Labels changed while a job ran: read again when it ends.
    pub stale: bool,
    /// The last error, if any.
    pub message: Option<(String, bool)>,
}

/// The labelling mode's state (runtime; the labeler's name persists in
/// the prefs).
#[derive(Default)]
pub struct LabelState {
    /// Whether the labelling mode is shown.
    pub open: bool,
    /// Whether the name prompt is shown.
    pub asking_name: bool,
    /// The name being typed in the prompt.
    pub name_draft: String,
    /// Which pairs are offered.
    pub scope: LabelScope,
    /// One image over the other with a divider, instead of side by side.
    pub split_view: bool,
    /// The last screen from the worker.
    pub screen: Option<LabelScreenView>,
    /// The last label's reveal, while it is shown.
    pub reveal: Option<RevealView>,
    /// The session command in flight (open, answer, undo, reload).
    pub job: Option<JobId>,
    /// Answer and undo keys ignored because a command was in flight.
    pub ignored_keys: u64,
    /// Keys ignored while the command in flight runs (said after its reply).
    pub ignored_in_flight: u64,
    /// The last message (and whether it is an error).
    pub message: Option<(String, bool)>,
    /// The statistics window.
    pub stats: PrefStatsState,
}

impl LabelState {
    /// Whether answer and undo keys act now: the mode is shown, no name is
    /// being asked and no command is in flight.
    pub fn accepts_keys(&self) -> bool {
        self.open && !self.asking_name && self.job.is_none()
    }

    /// The pair an answer given now refers to, when keys act and a pair is
    /// shown.
    pub fn answer_target(&self) -> Option<PairRef> {
        if !self.accepts_keys() {
            return None;
        }
        let pair = self.screen.as_ref()?.pair.as_ref()?;
        Some(PairRef::of(&pair.shown))
    }

    /// Counts a key that could not act because a command was in flight.
    pub fn ignore_key(&mut self) {
        self.ignored_keys += 1;
        self.ignored_in_flight += 1;
        self.message = Some((
            "The last label is still being saved: that key was ignored".into(),
            false,
        ));
    }

    /// The note on keys ignored during the command that just ended, if
    /// any (and forgets them).
    pub fn take_ignored_note(&mut self) -> Option<(String, bool)> {
        let n = std::mem::take(&mut self.ignored_in_flight);
        (n > 0).then(|| {
            let keys = if n == 1 { "key was" } else { "keys were" };
            (
                format!("{n} {keys} ignored: pressed while the last label was being saved"),
                false,
            )
        })
    }

    /// Hides the reveal once it has been shown for [`REVEAL_SECONDS`].
    /// Returns the seconds it stays, when one is shown.
    pub fn expire_reveal(&mut self, now: f64) -> Option<f64> {
        let left = REVEAL_SECONDS - (now - self.reveal.as_ref()?.shown_at);
        if left <= 0.0 {
            self.reveal = None;
            return None;
        }
        Some(left)
    }

    /// Whether a session or statistics command is in flight.
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || self.stats.job.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Outcome, PairItem, RenderId};
    use crate::studio::labelling::{GroupKey, LabelItem, PairCounts, ShownItem};

    fn item(id: i64) -> PairItem {
        PairItem::Render(RenderId(id))
    }

    fn shown_pair() -> ShownPair {
        let side = |id| ShownItem {
            item: item(id),
            image_path: format!("{id}.png").into(),
        };
        ShownPair {
            group: GroupKey::Product(crate::store::ProductId(1)),
            title: "mug".into(),
            left: side(2),
            right: side(1),
        }
    }

    fn screen_with_pair() -> LabelScreenView {
        LabelScreenView {
            labeler: "ana".into(),
            pair: Some(PairView {
                shown: shown_pair(),
                left: Err("no image".into()),
                right: Err("no image".into()),
            }),
            progress: LabelProgress {
                group: None,
                overall: PairCounts::default(),
                held_elsewhere: 0,
                unsaved: 0,
            },
        }
    }

    fn reveal_at(shown_at: f64) -> RevealView {
        let hidden = |id| LabelItem {
            item: item(id),
            image_path: Default::default(),
            hidden: Default::default(),
        };
        RevealView {
            reveal: Reveal {
                group: GroupKey::Product(crate::store::ProductId(1)),
                title: "mug".into(),
                left: hidden(2),
                right: hidden(1),
                p_left: None,
                model_id: None,
                outcome: Outcome::B,
            },
            answer: Answer::Left,
            id: Some(PreferenceId(1)),
            shown_at,
        }
    }

    #[test]
    fn keys_act_only_when_shown_named_and_idle() {
        let mut state = LabelState {
            screen: Some(screen_with_pair()),
            ..LabelState::default()
        };
        assert_eq!(state.answer_target(), None, "mode closed");
        state.open = true;
        assert_eq!(
            state.answer_target(),
            Some(PairRef {
                left: item(2),
                right: item(1)
            })
        );
        state.asking_name = true;
        assert_eq!(state.answer_target(), None, "name asked");
        state.asking_name = false;
        state.job = Some(JobId(4));
        assert!(!state.accepts_keys());
        assert_eq!(state.answer_target(), None, "command in flight");
        state.ignore_key();
        state.ignore_key();
        assert_eq!(state.ignored_keys, 2);
        assert!(state.message.is_some());
        let note = state.take_ignored_note().expect("note");
        assert!(note.0.starts_with("2 keys were ignored"), "{note:?}");
        assert_eq!(state.take_ignored_note(), None, "said once");
        assert_eq!(state.ignored_keys, 2, "the total stays");
        state.job = None;
        if let Some(screen) = state.screen.as_mut() {
            screen.pair = None;
        }
        assert!(state.accepts_keys());
        assert_eq!(state.answer_target(), None, "no pair left");
    }

    #[test]
    fn the_reveal_is_hidden_after_its_time() {
        let mut state = LabelState::default();
        assert_eq!(state.expire_reveal(10.0), None);
        state.reveal = Some(reveal_at(10.0));
        assert_eq!(state.expire_reveal(10.5), Some(1.5));
        assert!(state.reveal.is_some());
        assert_eq!(state.expire_reveal(12.0), None);
        assert!(state.reveal.is_none());
    }
}
