//! The labelling command path: one [`LabelSession`] per labeler and
//! screen (or CLI run). Each answer is one committed label; undo is one
//! committed retraction.
//!
//! How a label is stored: `a` and `b` are the pair in canonical order
//! (smaller item first, see [`unordered`]), so
//! every label of a pair has the same `a`; `left_is_a` records the side
//! `a` was shown on (randomised), and the outcome names the preferred item
//! (`A` or `B`), not a side. `model_p_a` keeps the reward model's P(a
//! better) at labelling time, when both renders were scored.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::store::{
    pair_key, unordered, ImageStore, NewPreference, Outcome, PairItem, PreferenceSource, Store,
    StoreError, RESERVATION_TTL,
};

use super::choice::{choose, Candidate, Focus, LabelTally};
use super::error::LabelError;
use super::model_p::model_p;
use super::outbox::LabelOutbox;
use super::pool::{GroupKey, LabelItem, LabelPool};
use super::view::{
    Answer, Committed, LabelProgress, PairCounts, Reveal, Scope, ShownItem, ShownPair, Undone,
};

/// The shown pair and how it was drawn.
#[derive(Debug, Clone)]
struct Current {
    index: usize,
    left_is_a: bool,
    shown: ShownPair,
}

/// A labeler's labelling session over the store's products and creatives.
///
/// It holds the pool (read at [`open`](Self::open) and
/// [`reload`](Self::reload)), the pair on screen and the RNG; every method
/// that reads or writes labels takes the [`Store`].
///
/// Each pair it shows is first reserved in the store for a short time
/// ([`RESERVATION_TTL`]), so that on a shared store two labelers never
/// see the same pair at the same moment; pairs other labelers hold are
/// passed over.
#[derive(Debug)]
pub struct LabelSession {
    labeler: String,
    focus: Focus,
    pool: LabelPool,
    candidates: Vec<Candidate>,
    by_pair: HashMap<(PairItem, PairItem), usize>,
    by_item: HashMap<PairItem, (usize, usize)>,
    tally: LabelTally,
    rng: StdRng,
    current: Option<Current>,
    reservation_ttl: Duration,
    /// Pairs in scope that other labelers held at the last choice.
    held_elsewhere: usize,
    /// Labels given while the store was unreachable.
    outbox: LabelOutbox,
}

impl LabelSession {
    /// Opens a session for `labeler` (trimmed; empty is refused) over the
    /// store's products and creatives, and draws the first pair with an
    /// RNG seeded by `seed`. A scope naming a group that is not in the
    /// store fails with [`LabelError::UnknownGroup`]; a scope with fewer
    /// than two items simply shows no pair.
    pub fn open(
        store: &Store,
        images: &ImageStore,
        labeler: &str,
        scope: &Scope,
        seed: u64,
    ) -> Result<LabelSession, LabelError> {
        let labeler = labeler.trim();
        if labeler.is_empty() {
            return Err(LabelError::EmptyLabeler);
        }
        let pool = LabelPool::load(store, images)?;
        let focus = focus_of(&pool, scope)?;
        let mut session = LabelSession {
            labeler: labeler.to_string(),
            focus,
            pool: LabelPool::default(),
            candidates: Vec::new(),
            by_pair: HashMap::new(),
            by_item: HashMap::new(),
            tally: LabelTally::default(),
            rng: StdRng::seed_from_u64(seed),
            current: None,
            reservation_ttl: RESERVATION_TTL,
            held_elsewhere: 0,
            outbox: LabelOutbox::in_memory(),
        };
        session.set_pool(pool);
        session.refresh_tally(store)?;
        session.advance(store);
        Ok(session)
    }

    /// The same session with shown pairs reserved for `ttl` instead of
    /// [`RESERVATION_TTL`] (tests, or a team that wants another hold).
    pub fn with_reservation_ttl(mut self, ttl: Duration) -> LabelSession {
        self.reservation_ttl = ttl;
        self
    }

    /// The same session keeping labels it cannot store (the store
    /// unreachable) in `outbox`, and writing what that outbox already
    /// holds when the store answers.
    pub fn with_outbox(mut self, store: &Store, outbox: LabelOutbox) -> LabelSession {
        self.outbox = outbox;
        self.flush_outbox(store);
        self
    }

    /// Labels waiting in the local outbox for the store.
    pub fn unsaved(&self) -> usize {
        self.outbox.len()
    }

    /// Writes the outbox's labels to the store if it answers; returns how
    /// many were stored (failures are logged: the labels keep waiting).
    pub fn flush_outbox(&mut self, store: &Store) -> usize {
        if self.outbox.is_empty() {
            return 0;
        }
        match self.outbox.flush(store) {
            Ok(n) => {
                log::info!("labelling: {n} label(s) from the local outbox stored");
                n
            }
            Err(e) => {
                log::warn!(
                    "labelling: {} label(s) still waiting: {e}",
                    self.outbox.len()
                );
                0
            }
        }
    }

    /// How many pairs in scope, not yet labelled by this labeler, were on
    /// other labelers' screens at the last choice (they come back when
    /// their reservations end).
    pub fn held_elsewhere(&self) -> usize {
        self.held_elsewhere
    }

    /// Ends the session: its reservation is dropped so that others may
    /// get its pair at once (otherwise it expires).
    pub fn close(&mut self, store: &Store) -> Result<(), LabelError> {
        self.current = None;
        store.release_reservations(&self.labeler)?;
        Ok(())
    }

    /// The labeler's name, as stored with each label.
    pub fn labeler(&self) -> &str {
        &self.labeler
    }

    /// What can be labelled.
    pub fn pool(&self) -> &LabelPool {
        &self.pool
    }

    /// The pair to label now, or `None` when nothing is left in scope.
    pub fn current(&self) -> Option<&ShownPair> {
        self.current.as_ref().map(|c| &c.shown)
    }

    /// The pool item of `item`, with its hidden information.
    pub fn item(&self, item: PairItem) -> Option<&LabelItem> {
        let &(g, i) = self.by_item.get(&item)?;
        self.pool.groups.get(g)?.items.get(i)
    }

    /// Commits `answer` for the current pair as one label in its own
    /// transaction, then shows the next pair. Returns the committed id
    /// (the COMMIT has returned) and what labelling hid.
    ///
    /// Fails with [`LabelError::NoPair`] when no pair is shown, and with
    /// [`LabelError::AlreadyLabelled`] (nothing written, next pair shown)
    /// when the labeler labelled this pair elsewhere meanwhile.
    ///
    /// When the store cannot be reached, the label goes to the session's
    /// outbox instead (the answer then has no id) and is written, before
    /// anything else, by a later answer, reload or
    /// [`flush_outbox`](Self::flush_outbox) once the store is back.
    pub fn answer(&mut self, store: &Store, answer: Answer) -> Result<Committed, LabelError> {
        let Some(current) = self.current.clone() else {
            return Err(LabelError::NoPair);
        };
        self.flush_outbox(store);
        match self.refresh_tally(store) {
            Err(LabelError::Store(e)) if e.is_connection_lost() => {
                log::warn!("labelling: the store is unreachable ({e}); using the last tally");
            }
            other => other?,
        }
        let candidate = self.candidates[current.index].clone();
        if self.tally.is_mine(candidate.a, candidate.b) {
            self.advance(store);
            return Err(LabelError::AlreadyLabelled {
                a: candidate.a,
                b: candidate.b,
            });
        }
        let outcome = answer.outcome(current.left_is_a);
        let pref = NewPreference {
            a: candidate.a,
            b: candidate.b,
            left_is_a: Some(current.left_is_a),
            outcome,
            source: PreferenceSource::Human,
            labeler: self.labeler.clone(),
            model_p_a: candidate.model_p.as_ref().map(|m| m.p_a),
        };
        let id = match store.record_preference(&pref) {
            Ok(id) => Some(id),
            Err(e) if e.is_connection_lost() => {
                log::warn!("labelling: the store is unreachable ({e}); the label waits locally");
                self.outbox.push(pref)?;
                None
            }
            Err(e) => return Err(e.into()),
        };
        // Committed: nothing below can fail.
        self.tally.add(
            candidate.a,
            candidate.b,
            PreferenceSource::Human,
            outcome,
            true,
        );
        let reveal = self.reveal(&current, &candidate, outcome);
        self.advance(store);
        Ok(Committed { id, reveal })
    }

    /// Retracts the labeler's most recent active label (in this session or
    /// an earlier one) in its own transaction and shows its pair again,
    /// on the side it was shown. `None` when the labeler has no active
    /// label.
    pub fn undo(&mut self, store: &Store) -> Result<Option<Undone>, LabelError> {
        let last = store.preferences_of(&self.labeler)?.pop();
        let Some(id) = store.retract_last_preference(&self.labeler)? else {
            return Ok(None);
        };
        // Committed: nothing below can fail.
        let mut shown_again = false;
        if let Some(row) = last.filter(|row| row.id == id) {
            self.tally
                .remove(row.a, row.b, row.source, row.outcome, true);
            if let Some(&index) = self.by_pair.get(&unordered(row.a, row.b)) {
                if self.in_scope(index) && self.reserve(store, index) {
                    let a_first = self.candidates[index].a == row.a;
                    let left_is_a = match row.left_is_a {
                        Some(left) => left == a_first,
                        None => self.rng.random_bool(0.5),
                    };
                    self.current = Some(self.make_current(index, left_is_a));
                    shown_again = true;
                }
            }
        }
        if !shown_again {
            self.advance(store);
        }
        Ok(Some(Undone { id, shown_again }))
    }

    /// Labelled and remaining pairs of this labeler, for the current group
    /// and over the whole store (as of the last answer, undo or reload).
    pub fn progress(&self) -> LabelProgress {
        let group = self
            .current
            .as_ref()
            .map(|c| self.candidates[c.index].group)
            .or(match self.focus {
                Focus::All => None,
                Focus::Only(g) | Focus::First(g) => Some(g),
            });
        LabelProgress {
            group: group.and_then(|g| {
                let key = self.pool.groups.get(g)?.key.clone();
                Some((key, self.counts(|c| c.group == g)))
            }),
            overall: self.counts(|_| true),
            held_elsewhere: self.held_elsewhere,
            unsaved: self.outbox.len(),
        }
    }

    /// Reads the pool and the labels again (new renders, creatives, scores
    /// or other labelers' work). The current pair stays when it is still
    /// there and unlabelled.
    pub fn reload(&mut self, store: &Store, images: &ImageStore) -> Result<(), LabelError> {
        self.flush_outbox(store);
        let pool = LabelPool::load(store, images)?;
        let scope_key = match self.focus {
            Focus::All => None,
            Focus::Only(g) | Focus::First(g) => self.pool.groups.get(g).map(|g| g.key.clone()),
        };
        if let Some(key) = &scope_key {
            let index = pool
                .group_index(key)
                .ok_or_else(|| LabelError::UnknownGroup(key.clone()))?;
            self.focus = match self.focus {
                Focus::Only(_) => Focus::Only(index),
                _ => Focus::First(index),
            };
        }
        let kept = self.current.take().map(|c| {
            let cand = &self.candidates[c.index];
            (cand.a, cand.b, c.left_is_a)
        });
        self.set_pool(pool);
        self.refresh_tally(store)?;
        let same = kept.and_then(|(a, b, left_is_a)| {
            let index = *self.by_pair.get(&(a, b))?;
            (!self.tally.is_mine(a, b)).then_some((index, left_is_a))
        });
        match same.filter(|&(index, _)| self.reserve(store, index)) {
            Some((index, left_is_a)) => self.current = Some(self.make_current(index, left_is_a)),
            None => self.advance(store),
        }
        Ok(())
    }

    fn set_pool(&mut self, pool: LabelPool) {
        let mut candidates = Vec::with_capacity(pool.pair_count());
        let mut by_item = HashMap::new();
        for (g, group) in pool.groups.iter().enumerate() {
            for (i, x) in group.items.iter().enumerate() {
                by_item.insert(x.item, (g, i));
                for y in &group.items[i + 1..] {
                    candidates.push(Candidate::new(x.item, y.item, g, model_p(x, y)));
                }
            }
        }
        self.by_pair = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key(), i))
            .collect();
        self.by_item = by_item;
        self.candidates = candidates;
        self.pool = pool;
    }

    fn refresh_tally(&mut self, store: &Store) -> Result<(), LabelError> {
        self.tally = LabelTally::from_rows(&store.active_preferences()?, &self.labeler);
        Ok(())
    }

    fn in_scope(&self, index: usize) -> bool {
        match self.focus {
            Focus::Only(g) => self.candidates[index].group == g,
            Focus::All | Focus::First(_) => true,
        }
    }

    /// Shows the next pair: the best one no other labeler holds, reserved
    /// for this labeler (a pair taken meanwhile is passed over). When the
    /// store cannot be asked, the pair is chosen without reservations
    /// (logged): a label is never refused for that.
    fn advance(&mut self, store: &Store) {
        let blocked = match store.pairs_reserved_by_others(&self.labeler) {
            Ok(keys) => self.blocked_by(&keys),
            Err(e) => return self.advance_unreserved(&e),
        };
        self.held_elsewhere = blocked.len();
        let mut blocked = blocked;
        loop {
            let pick = choose(
                &self.candidates,
                &self.tally,
                self.focus,
                &blocked,
                &mut self.rng,
            );
            let Some(pick) = pick else {
                self.current = None;
                if let Err(e) = store.release_reservations(&self.labeler) {
                    log::warn!("labelling: releasing {}'s reservation: {e}", self.labeler);
                }
                return;
            };
            match self.try_reserve(store, pick.index) {
                Ok(true) => {
                    self.current = Some(self.make_current(pick.index, pick.left_is_a));
                    return;
                }
                Ok(false) => {
                    blocked.insert(pick.index);
                    self.held_elsewhere += 1;
                }
                Err(e) => return self.advance_unreserved(&e),
            }
        }
    }

    /// The next pair without asking the store about reservations.
    fn advance_unreserved(&mut self, error: &StoreError) {
        log::warn!("labelling: pair reservations unavailable ({error}); choosing without them");
        let none = HashSet::new();
        let pick = choose(
            &self.candidates,
            &self.tally,
            self.focus,
            &none,
            &mut self.rng,
        );
        self.current = pick.map(|p| self.make_current(p.index, p.left_is_a));
    }

    /// The candidates (in scope, not labelled by this labeler) whose pair
    /// is among `keys`.
    fn blocked_by(&self, keys: &HashSet<String>) -> HashSet<usize> {
        if keys.is_empty() {
            return HashSet::new();
        }
        (0..self.candidates.len())
            .filter(|&i| {
                let c = &self.candidates[i];
                self.in_scope(i)
                    && !self.tally.is_mine(c.a, c.b)
                    && keys.contains(&pair_key(c.a, c.b))
            })
            .collect()
    }

    fn try_reserve(&self, store: &Store, index: usize) -> Result<bool, StoreError> {
        let c = &self.candidates[index];
        store.reserve_pair(c.a, c.b, &self.labeler, self.reservation_ttl)
    }

    /// Reserves candidate `index` for this labeler; `false` when another
    /// labeler holds it. A store error counts as reserved (logged), as in
    /// [`advance`](Self::advance).
    fn reserve(&self, store: &Store, index: usize) -> bool {
        self.try_reserve(store, index).unwrap_or_else(|e| {
            log::warn!("labelling: pair reservations unavailable ({e})");
            true
        })
    }

    fn counts(&self, keep: impl Fn(&Candidate) -> bool) -> PairCounts {
        let mut counts = PairCounts::default();
        for c in self.candidates.iter().filter(|c| keep(c)) {
            if self.tally.is_mine(c.a, c.b) {
                counts.labelled += 1;
            } else {
                counts.remaining += 1;
            }
        }
        counts
    }

    /// The two pool items of a candidate, left first.
    fn sides(&self, candidate: &Candidate, left_is_a: bool) -> (LabelItem, LabelItem) {
        let (left, right) = if left_is_a {
            (candidate.a, candidate.b)
        } else {
            (candidate.b, candidate.a)
        };
        let get = |item| self.item(item).cloned().unwrap_or_else(|| missing(item));
        (get(left), get(right))
    }

    fn make_current(&self, index: usize, left_is_a: bool) -> Current {
        let candidate = &self.candidates[index];
        let (left, right) = self.sides(candidate, left_is_a);
        let group = &self.pool.groups[candidate.group];
        let shown = |item: LabelItem| ShownItem {
            item: item.item,
            image_path: item.image_path,
        };
        Current {
            index,
            left_is_a,
            shown: ShownPair {
                group: group.key.clone(),
                title: group.title.clone(),
                left: shown(left),
                right: shown(right),
            },
        }
    }

    fn reveal(&self, current: &Current, candidate: &Candidate, outcome: Outcome) -> Reveal {
        let (left, right) = self.sides(candidate, current.left_is_a);
        let p_left = candidate.model_p.as_ref().map(|m| {
            if current.left_is_a {
                m.p_a
            } else {
                1.0 - m.p_a
            }
        });
        Reveal {
            group: current.shown.group.clone(),
            title: current.shown.title.clone(),
            left,
            right,
            p_left,
            model_id: candidate.model_p.as_ref().map(|m| m.model_id.clone()),
            outcome,
        }
    }
}

/// Never used for a candidate built from the pool (both items are in it);
/// keeps the lookups total without a panic path.
fn missing(item: PairItem) -> LabelItem {
    LabelItem {
        item,
        image_path: PathBuf::new(),
        hidden: Default::default(),
    }
}

/// The choice focus of a scope.
fn focus_of(pool: &LabelPool, scope: &Scope) -> Result<Focus, LabelError> {
    let index = |key: &GroupKey| {
        pool.group_index(key)
            .ok_or_else(|| LabelError::UnknownGroup(key.clone()))
    };
    Ok(match scope {
        Scope::All => Focus::All,
        Scope::Only(key) => Focus::Only(index(key)?),
        Scope::First(key) => Focus::First(index(key)?),
    })
}
