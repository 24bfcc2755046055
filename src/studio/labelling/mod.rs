//! Headless A-vs-B preference labelling: what can be labelled, which pair
//! comes next, and the command path that commits each label.
//!
//! The labelling screen of the studio and the `adstudio label` driver both
//! go through [`LabelSession`]:
//!
//! 1. [`LabelSession::open`] loads the [`LabelPool`] (per product group:
//!    the renders of a stored product, or the imported creatives that share
//!    a product key) and shows the first [`ShownPair`];
//! 2. [`LabelSession::answer`] commits ONE label in its own transaction and
//!    returns its id with a [`Reveal`] of what labelling hid (prompts,
//!    seeds, reward-model scores), then moves to the next pair;
//! 3. [`LabelSession::undo`] writes a retraction for the labeler's last
//!    active label (history is kept) and shows that pair again;
//! 4. [`LabelSession::progress`] counts labelled and remaining pairs.
//!
//! Which pair comes next is decided by the pure [`choice`] module: never a
//! pair the labeler already has an active label on, the pairs the reward
//! model is least sure about first, then the pairs with the fewest labels,
//! remaining ties and the left/right sides drawn from a seeded RNG.
//!
//! Nothing here knows about egui; the session holds no store connection
//! (each call takes the [`Store`](crate::store::Store)), so a GUI worker
//! can keep it next to its own connection.

pub mod choice;
mod error;
pub mod model_p;
pub mod outbox;
pub mod pool;
pub mod session;
pub mod view;

#[cfg(test)]
mod tests;

pub use choice::{Candidate, Focus, LabelTally, Pick};
pub use error::LabelError;
pub use model_p::{model_p, ModelP};
pub use outbox::LabelOutbox;
pub use pool::{GroupKey, HiddenInfo, LabelGroup, LabelItem, LabelPool, RmScore};
pub use session::LabelSession;
pub use view::{
    Answer, Committed, LabelProgress, PairCounts, Reveal, Scope, ShownItem, ShownPair, Undone,
};
