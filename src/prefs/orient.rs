//! Orienting labels to their unordered pair, so that every labeler's
//! answer means the same thing whichever item was called A.

use serde::Serialize;

use crate::store::{unordered, Outcome, PairItem};

/// An unordered pair of items, smaller first (see [`unordered`]).
pub type PairKey = (PairItem, PairItem);

/// A judgement on an unordered pair `(first, second)`: the category used
/// by the agreement statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// The pair's first (smaller) item is better.
    First,
    /// The pair's second item is better.
    Second,
    /// Both are equally good.
    Tie,
}

impl Rating {
    /// The category index used in agreement tables.
    pub fn index(self) -> usize {
        match self {
            Rating::First => 0,
            Rating::Second => 1,
            Rating::Tie => 2,
        }
    }

    /// Number of categories.
    pub const COUNT: usize = 3;

    /// Whether it picks one item (not a tie).
    pub fn is_decisive(self) -> bool {
        self != Rating::Tie
    }
}

/// The unordered pair of a label on `(a, b)` and its rating on that pair:
/// "A better" becomes `First` when A is the pair's first item and `Second`
/// otherwise. Can't tell and skip are not ratings (`None`).
pub fn orient(a: PairItem, b: PairItem, outcome: Outcome) -> (PairKey, Option<Rating>) {
    let key = unordered(a, b);
    let a_first = key.0 == a;
    let rating = match outcome {
        Outcome::A if a_first => Some(Rating::First),
        Outcome::A => Some(Rating::Second),
        Outcome::B if a_first => Some(Rating::Second),
        Outcome::B => Some(Rating::First),
        Outcome::Tie => Some(Rating::Tie),
        Outcome::CantTell | Outcome::Skip => None,
    };
    (key, rating)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RenderId;

    fn r(id: i64) -> PairItem {
        PairItem::Render(RenderId(id))
    }

    #[test]
    fn the_same_judgement_in_either_order_gives_the_same_rating() {
        // Render 3 is better, whether it was A or B.
        assert_eq!(
            orient(r(3), r(7), Outcome::A),
            ((r(3), r(7)), Some(Rating::First))
        );
        assert_eq!(
            orient(r(7), r(3), Outcome::B),
            ((r(3), r(7)), Some(Rating::First))
        );
        // Render 7 is better.
        assert_eq!(orient(r(7), r(3), Outcome::A).1, Some(Rating::Second));
        assert_eq!(orient(r(3), r(7), Outcome::B).1, Some(Rating::Second));
    }

    #[test]
    fn ties_stay_ties_and_cant_tell_or_skip_are_no_rating() {
        assert_eq!(orient(r(9), r(2), Outcome::Tie).1, Some(Rating::Tie));
        assert_eq!(orient(r(9), r(2), Outcome::CantTell), ((r(2), r(9)), None));
        assert_eq!(orient(r(2), r(9), Outcome::Skip).1, None);
    }
}
