//! What the statistics are computed from: plain data read from the store
//! by [`super::source`], so the computation itself needs no database.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::store::{PairItem, PreferenceRow, ProductId, RenderId};

/// The product a labelled item belongs to: a studio product (for renders)
/// or a click-log product key (for imported creatives).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProductRef {
    /// A row of `products`.
    Product {
        /// Its id.
        id: ProductId,
        /// Its title.
        title: String,
    },
    /// The creatives of one click-log product key.
    Creatives {
        /// The product key of the click log.
        key: String,
    },
}

impl fmt::Display for ProductRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProductRef::Product { id, title } => write!(f, "#{id} {title}"),
            ProductRef::Creatives { key } => write!(f, "creatives {key}"),
        }
    }
}

/// Everything [`super::compute_stats`] needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsInput {
    /// The active (not retracted) labels, oldest first.
    pub labels: Vec<PreferenceRow>,
    /// How many labels were retracted (shown, never counted).
    pub retracted: u64,
    /// The product of every item that appears in `labels`.
    pub products: BTreeMap<PairItem, ProductRef>,
    /// The latest score of each (render, model id), for the renders that
    /// appear in `labels`.
    pub scores: BTreeMap<(RenderId, String), f64>,
}
