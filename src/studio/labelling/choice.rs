//! Pair choice: which unordered pair a labeler sees next, and on which
//! side each item is shown. Pure: no store, the randomness comes from the
//! caller's seeded RNG.
//!
//! Rules, in order:
//! 1. never a pair the labeler already has an ACTIVE label on (a retracted
//!    label does not count, so an undone pair comes back);
//! 2. with [`Focus::Only`] only that group's pairs, with [`Focus::First`]
//!    that group's pairs before the others;
//! 3. pairs with a reward-model probability before pairs without, and
//!    among them the least sure first (smallest |p - 0.5|);
//! 4. then the pairs with the fewest labels from anyone (active human
//!    labels with a judgement: A, B, tie or can't tell; a skip is not one);
//! 5. remaining ties: uniformly at random;
//! 6. the left/right sides: a fair coin, returned as `left_is_a`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use rand::Rng;

use crate::store::{unordered, Outcome, PairItem, PreferenceRow, PreferenceSource};

use super::model_p::ModelP;

/// A pair that can be labelled: two items of the same group, `a < b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The smaller item.
    pub a: PairItem,
    /// The larger item.
    pub b: PairItem,
    /// Index of its group in the pool.
    pub group: usize,
    /// The reward model's P(a better than b), when both are scored.
    pub model_p: Option<ModelP>,
}

impl Candidate {
    /// The candidate for `x` and `y` in either order (stored smaller first).
    pub fn new(x: PairItem, y: PairItem, group: usize, model_p_xy: Option<ModelP>) -> Candidate {
        let (a, b) = unordered(x, y);
        let model_p = if a == x {
            model_p_xy
        } else {
            model_p_xy.map(|m| ModelP {
                p_a: 1.0 - m.p_a,
                model_id: m.model_id,
            })
        };
        Candidate {
            a,
            b,
            group,
            model_p,
        }
    }

    /// The unordered key of the pair.
    pub fn key(&self) -> (PairItem, PairItem) {
        (self.a, self.b)
    }
}

/// Which groups a choice may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Every group, none preferred.
    All,
    /// Only the group with this index.
    Only(usize),
    /// The group with this index first, then the others.
    First(usize),
}

/// The chosen pair: an index into the candidates and the side of `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// Index into the candidate slice.
    pub index: usize,
    /// Whether item `a` is shown on the left.
    pub left_is_a: bool,
}

/// The active labels that steer the choice: the pairs one labeler has
/// labelled, and the number of labels per pair from anyone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelTally {
    mine: HashSet<(PairItem, PairItem)>,
    labels: HashMap<(PairItem, PairItem), u32>,
}

/// Whether a row counts towards "labels of a pair" (rule 4).
fn counts_as_label(source: PreferenceSource, outcome: Outcome) -> bool {
    source == PreferenceSource::Human && outcome != Outcome::Skip
}

impl LabelTally {
    /// The tally of `labeler` over `rows`; retracted rows are ignored.
    pub fn from_rows(rows: &[PreferenceRow], labeler: &str) -> LabelTally {
        let mut tally = LabelTally::default();
        for row in rows.iter().filter(|r| r.is_active()) {
            tally.add(
                row.a,
                row.b,
                row.source,
                row.outcome,
                row.labeler == labeler,
            );
        }
        tally
    }

    /// Adds one active label (`mine`: by the tally's labeler).
    pub fn add(
        &mut self,
        a: PairItem,
        b: PairItem,
        source: PreferenceSource,
        outcome: Outcome,
        mine: bool,
    ) {
        let key = unordered(a, b);
        if mine {
            self.mine.insert(key);
        }
        if counts_as_label(source, outcome) {
            *self.labels.entry(key).or_default() += 1;
        }
    }

    /// Removes one label added with the same arguments (a retraction).
    pub fn remove(
        &mut self,
        a: PairItem,
        b: PairItem,
        source: PreferenceSource,
        outcome: Outcome,
        mine: bool,
    ) {
        let key = unordered(a, b);
        if mine {
            self.mine.remove(&key);
        }
        if counts_as_label(source, outcome) {
            if let Some(n) = self.labels.get_mut(&key) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Whether the labeler has an active label on `{a, b}`.
    pub fn is_mine(&self, a: PairItem, b: PairItem) -> bool {
        self.mine.contains(&unordered(a, b))
    }

    /// Active labels with a judgement on `{a, b}`, from anyone.
    pub fn labels(&self, a: PairItem, b: PairItem) -> u32 {
        self.labels.get(&unordered(a, b)).copied().unwrap_or(0)
    }
}

/// The priority of a candidate: smaller is shown earlier.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Priority {
    outside_first_group: bool,
    no_model: bool,
    margin: f64,
    labels: u32,
}

impl Priority {
    fn order(&self, other: &Priority) -> Ordering {
        self.outside_first_group
            .cmp(&other.outside_first_group)
            .then(self.no_model.cmp(&other.no_model))
            .then(self.margin.total_cmp(&other.margin))
            .then(self.labels.cmp(&other.labels))
    }
}

/// Picks the next pair for the labeler of `tally`, or `None` when every
/// allowed pair has an active label of theirs. Ties are broken uniformly
/// at random (reservoir sampling over the best candidates), then a fair
/// coin chooses the sides.
///
/// Candidates whose index is in `blocked` (pairs other labelers have on
/// screen) are passed over.
pub fn choose<R: Rng>(
    candidates: &[Candidate],
    tally: &LabelTally,
    focus: Focus,
    blocked: &HashSet<usize>,
    rng: &mut R,
) -> Option<Pick> {
    let mut best: Option<(usize, Priority)> = None;
    let mut ties = 0u32;
    for (index, c) in candidates.iter().enumerate() {
        if matches!(focus, Focus::Only(g) if g != c.group)
            || tally.is_mine(c.a, c.b)
            || blocked.contains(&index)
        {
            continue;
        }
        let priority = Priority {
            outside_first_group: matches!(focus, Focus::First(g) if g != c.group),
            no_model: c.model_p.is_none(),
            margin: c.model_p.as_ref().map_or(0.0, ModelP::margin),
            labels: tally.labels(c.a, c.b),
        };
        let order = best.map(|(_, p)| priority.order(&p));
        match order {
            None | Some(Ordering::Less) => {
                best = Some((index, priority));
                ties = 1;
            }
            Some(Ordering::Equal) => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some((index, priority));
                }
            }
            Some(Ordering::Greater) => {}
        }
    }
    best.map(|(index, _)| Pick {
        index,
        left_is_a: rng.random_bool(0.5),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::store::{PreferenceId, RenderId};

    fn r(id: i64) -> PairItem {
        PairItem::Render(RenderId(id))
    }

    fn with_p(x: i64, y: i64, p: Option<f64>) -> Candidate {
        let model_p = p.map(|p_a| ModelP {
            p_a,
            model_id: "rm".into(),
        });
        Candidate::new(r(x), r(y), 0, model_p)
    }

    /// All pairs of `n` renders, without model probabilities.
    fn all_pairs(n: i64, group: usize, offset: i64) -> Vec<Candidate> {
        let mut out = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                out.push(Candidate::new(r(offset + i), r(offset + j), group, None));
            }
        }
        out
    }

    fn row(id: i64, a: i64, b: i64, labeler: &str, retracted: bool) -> PreferenceRow {
        PreferenceRow {
            id: PreferenceId(id),
            a: r(a),
            b: r(b),
            left_is_a: Some(true),
            outcome: Outcome::A,
            source: PreferenceSource::Human,
            labeler: labeler.into(),
            model_p_a: None,
            created_at: String::new(),
            retracted_at: retracted.then(String::new),
        }
    }

    /// Labels everything, as a session would, and returns the picks in order.
    fn label_all(candidates: &[Candidate], focus: Focus, seed: u64) -> Vec<Pick> {
        let mut tally = LabelTally::default();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut picks = Vec::new();
        while let Some(pick) = choose(candidates, &tally, focus, &HashSet::new(), &mut rng) {
            let c = &candidates[pick.index];
            tally.add(c.a, c.b, PreferenceSource::Human, Outcome::A, true);
            picks.push(pick);
            assert!(picks.len() <= candidates.len(), "a pair came back");
        }
        picks
    }

    #[test]
    fn never_repeats_an_active_pair_and_covers_all() {
        let candidates = all_pairs(6, 0, 1);
        let picks = label_all(&candidates, Focus::All, 3);
        let distinct: BTreeSet<usize> = picks.iter().map(|p| p.index).collect();
        assert_eq!(picks.len(), 15);
        assert_eq!(distinct.len(), 15);
    }

    #[test]
    fn pairs_labelled_in_either_order_are_excluded_and_retracted_ones_come_back() {
        let candidates = all_pairs(3, 0, 1); // {1,2} {1,3} {2,3}
        let rows = vec![
            row(1, 2, 1, "ann", false), // stored larger-first: still {1,2}
            row(2, 1, 3, "ann", true),  // retracted: {1,3} comes back
            PreferenceRow {
                outcome: Outcome::Skip, // bob's skip: no label, so no tie-break
                ..row(3, 2, 3, "bob", false)
            },
        ];
        let tally = LabelTally::from_rows(&rows, "ann");
        assert!(tally.is_mine(r(1), r(2)));
        assert!(!tally.is_mine(r(1), r(3)));
        assert!(!tally.is_mine(r(2), r(3)));
        let mut rng = StdRng::seed_from_u64(0);
        let mut seen = BTreeSet::new();
        for _ in 0..50 {
            let pick = choose(&candidates, &tally, Focus::All, &HashSet::new(), &mut rng).unwrap();
            seen.insert(candidates[pick.index].key());
        }
        assert_eq!(
            seen,
            BTreeSet::from([(r(1), r(3)), (r(2), r(3))]),
            "only the pairs without an active label of ann"
        );
    }

    #[test]
    fn least_sure_reward_model_pairs_come_first() {
        let candidates = vec![
            with_p(1, 2, Some(0.9)),
            with_p(1, 3, None),
            with_p(1, 4, Some(0.52)),
            with_p(2, 3, Some(0.3)),
            with_p(2, 4, Some(0.45)),
        ];
        let order: Vec<usize> = label_all(&candidates, Focus::All, 9)
            .iter()
            .map(|p| p.index)
            .collect();
        assert_eq!(order, vec![2, 4, 3, 0, 1]);
    }

    #[test]
    fn model_probability_follows_the_stored_order() {
        let p = ModelP {
            p_a: 0.8,
            model_id: "rm".into(),
        };
        let c = Candidate::new(r(5), r(2), 0, Some(p));
        assert_eq!((c.a, c.b), (r(2), r(5)));
        assert!((c.model_p.unwrap().p_a - 0.2).abs() < 1e-12);
    }

    #[test]
    fn fewest_labels_first_without_a_reward_model() {
        let candidates = all_pairs(3, 0, 1); // {1,2} {1,3} {2,3}
        let mut rows = Vec::new();
        for id in 0..3 {
            rows.push(row(id, 1, 2, &format!("p{id}"), false));
        }
        rows.push(row(10, 2, 3, "q", false));
        rows.push(row(11, 1, 3, "q", true)); // retracted: no label
        let mut tally = LabelTally::from_rows(&rows, "me");
        assert_eq!(tally.labels(r(1), r(2)), 3);
        assert_eq!(tally.labels(r(1), r(3)), 0);
        let mut rng = StdRng::seed_from_u64(1);
        let mut order = Vec::new();
        while let Some(pick) = choose(&candidates, &tally, Focus::All, &HashSet::new(), &mut rng) {
            let c = &candidates[pick.index];
            tally.add(c.a, c.b, PreferenceSource::Human, Outcome::Skip, true);
            order.push(c.key());
        }
        assert_eq!(order, vec![(r(1), r(3)), (r(2), r(3)), (r(1), r(2))]);
    }

    #[test]
    fn skips_and_model_labels_do_not_count_as_labels() {
        let mut tally = LabelTally::default();
        tally.add(r(1), r(2), PreferenceSource::Human, Outcome::Skip, false);
        tally.add(r(1), r(2), PreferenceSource::Model, Outcome::A, false);
        assert_eq!(tally.labels(r(1), r(2)), 0);
        tally.add(r(1), r(2), PreferenceSource::Human, Outcome::Tie, true);
        assert_eq!(tally.labels(r(2), r(1)), 1);
        tally.remove(r(2), r(1), PreferenceSource::Human, Outcome::Tie, true);
        assert_eq!(tally.labels(r(1), r(2)), 0);
        assert!(!tally.is_mine(r(1), r(2)));
    }

    #[test]
    fn focus_only_and_first() {
        let mut candidates = all_pairs(3, 0, 1);
        candidates.extend(all_pairs(3, 1, 10));
        let only = label_all(&candidates, Focus::Only(1), 4);
        assert_eq!(only.len(), 3);
        assert!(only.iter().all(|p| candidates[p.index].group == 1));
        let first = label_all(&candidates, Focus::First(1), 4);
        let groups: Vec<usize> = first.iter().map(|p| candidates[p.index].group).collect();
        assert_eq!(groups, vec![1, 1, 1, 0, 0, 0]);
    }

    #[test]
    fn sides_and_ties_are_random_but_seeded() {
        let candidates = all_pairs(8, 0, 1);
        let a = label_all(&candidates, Focus::All, 11);
        let b = label_all(&candidates, Focus::All, 11);
        let c = label_all(&candidates, Focus::All, 12);
        assert_eq!(a, b, "same seed, same order and sides");
        assert_ne!(a, c, "another seed, another order");
        let left = a.iter().filter(|p| p.left_is_a).count();
        assert!(
            left > 0 && left < a.len(),
            "{left} of {} on the left",
            a.len()
        );
        // The first pick is spread over the tied pairs.
        let firsts: BTreeSet<usize> = (0..40)
            .map(|seed| label_all(&candidates, Focus::All, seed)[0].index)
            .collect();
        assert!(firsts.len() > 10, "{firsts:?}");
    }

    #[test]
    fn nothing_to_choose_from() {
        let mut rng = StdRng::seed_from_u64(0);
        assert!(choose(
            &[],
            &LabelTally::default(),
            Focus::All,
            &HashSet::new(),
            &mut rng
        )
        .is_none());
        let candidates = all_pairs(3, 0, 1);
        assert!(choose(
            &candidates,
            &LabelTally::default(),
            Focus::Only(5),
            &HashSet::new(),
            &mut rng
        )
        .is_none());
    }

    /// Blocked pairs (on another labeler's screen) are passed over; when
    /// every pair left is blocked there is nothing to show.
    #[test]
    fn blocked_pairs_are_passed_over() {
        let mut rng = StdRng::seed_from_u64(1);
        let candidates = all_pairs(3, 0, 1);
        let tally = LabelTally::default();
        for _ in 0..20 {
            let blocked: HashSet<usize> = [0, 2].into();
            let pick = choose(&candidates, &tally, Focus::All, &blocked, &mut rng).unwrap();
            assert_eq!(pick.index, 1);
        }
        let all: HashSet<usize> = (0..candidates.len()).collect();
        assert!(choose(&candidates, &tally, Focus::All, &all, &mut rng).is_none());
    }
}
