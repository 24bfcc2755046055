//! The values a labelling session shows and returns: the scope, the
//! answers, the (blind) shown pair, the reveal after a label, and
//! progress counts.

use std::path::PathBuf;

use crate::store::{Outcome, PairItem, PreferenceId};

use super::pool::{GroupKey, LabelItem};

/// Which pairs a session offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Pairs of every product group.
    All,
    /// Only the pairs of this group.
    Only(GroupKey),
    /// This group's pairs first, then the others.
    First(GroupKey),
}

/// The labeler's answer to the shown pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// The left image is better.
    Left,
    /// The right image is better.
    Right,
    /// Both are equally good.
    Tie,
    /// The labeler cannot decide.
    CantTell,
    /// No judgement; the pair is not shown to this labeler again (until the
    /// skip is undone).
    Skip,
}

impl Answer {
    /// Every answer.
    pub const ALL: [Answer; 5] = [
        Answer::Left,
        Answer::Right,
        Answer::Tie,
        Answer::CantTell,
        Answer::Skip,
    ];

    /// The stored outcome when item `a` was shown on the left iff
    /// `left_is_a`.
    pub fn outcome(self, left_is_a: bool) -> Outcome {
        match (self, left_is_a) {
            (Answer::Left, true) | (Answer::Right, false) => Outcome::A,
            (Answer::Left, false) | (Answer::Right, true) => Outcome::B,
            (Answer::Tie, _) => Outcome::Tie,
            (Answer::CantTell, _) => Outcome::CantTell,
            (Answer::Skip, _) => Outcome::Skip,
        }
    }
}

/// One side of the shown pair: only what blind labelling may show.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownItem {
    /// The render or creative.
    pub item: PairItem,
    /// Its image file.
    pub image_path: PathBuf,
}

/// The pair on screen. Prompts, seeds and scores are deliberately absent:
/// they come in the [`Reveal`] once the label is given.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownPair {
    /// The product group of both items.
    pub group: GroupKey,
    /// The product's title (or the creatives' product key).
    pub title: String,
    /// The left image.
    pub left: ShownItem,
    /// The right image.
    pub right: ShownItem,
}

/// What labelling hid, for the pair just labelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Reveal {
    /// The product group.
    pub group: GroupKey,
    /// The product's title.
    pub title: String,
    /// The left item with its prompt, seed, scores or observed CTR.
    pub left: LabelItem,
    /// The right item, likewise.
    pub right: LabelItem,
    /// The reward model's P(left better), when both renders were scored
    /// by the same model.
    pub p_left: Option<f64>,
    /// The model that gave `p_left`.
    pub model_id: Option<String>,
    /// The stored outcome.
    pub outcome: Outcome,
}

/// A committed label.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// Its `preferences` row (the COMMIT has returned), or `None` when the
    /// store was unreachable and the label waits in the session's local
    /// outbox (written when the store is back).
    pub id: Option<PreferenceId>,
    /// What was hidden while labelling.
    pub reveal: Reveal,
}

/// A committed retraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undone {
    /// The retracted `preferences` row.
    pub id: PreferenceId,
    /// Whether its pair is the current pair again (false when the pair is
    /// outside the session's scope or no longer in the store).
    pub shown_again: bool,
}

/// Labelled and remaining pairs, for one labeler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairCounts {
    /// Pairs with an active label of the labeler (skips included).
    pub labelled: usize,
    /// Pairs still to label.
    pub remaining: usize,
}

impl PairCounts {
    /// All pairs.
    pub fn total(&self) -> usize {
        self.labelled + self.remaining
    }
}

/// Progress of a labeler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelProgress {
    /// The current pair's group (or the scope's group when no pair is
    /// shown) and its counts.
    pub group: Option<(GroupKey, PairCounts)>,
    /// Over every group in the store.
    pub overall: PairCounts,
    /// Pairs in scope this labeler has not labelled that were on other
    /// labelers' screens at the last choice (a shared store).
    pub held_elsewhere: usize,
    /// Labels saved on this computer while the store was unreachable,
    /// not yet written to it.
    pub unsaved: usize,
}
