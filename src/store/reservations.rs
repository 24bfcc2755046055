//! Short pair reservations on the labelling screen: on a shared store, a
//! labeler's next pair is reserved for a few minutes so that two labelers
//! are never shown the same pair at the same moment. A reservation is a
//! hint for choosing pairs, not a lock on labels: a label is stored
//! whether or not its reservation still holds.
//!
//! Expiry uses the database's clock (`@NOW`), so labelers' machines may
//! disagree about the time.

use std::collections::HashSet;
use std::time::Duration;

use super::backend::{vals, Dialect};
use super::connection::Store;
use super::error::StoreError;
use super::preferences::{unordered, PairItem};

const TABLE: &str = "pair_reservations";

/// How long a shown pair stays reserved unless renewed (by the next
/// answer, or [`Store::reserve_pair`] again).
pub const RESERVATION_TTL: Duration = Duration::from_secs(300);

/// The text key of the unordered pair `{a, b}` (`r12:r40`, `c3:c9`).
pub fn pair_key(a: PairItem, b: PairItem) -> String {
    let (a, b) = unordered(a, b);
    format!("{}:{}", item_key(a), item_key(b))
}

fn item_key(item: PairItem) -> String {
    match item {
        PairItem::Render(id) => format!("r{}", id.0),
        PairItem::Creative(id) => format!("c{}", id.0),
    }
}

/// The database's time `secs` seconds from now, in the text form of
/// `@NOW` (so that the two compare as text).
fn now_plus(dialect: Dialect, secs: u64) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+{secs} seconds')"),
        Dialect::Postgres => format!(
            "to_char((clock_timestamp() + interval '{secs} seconds') AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        ),
    }
}

impl Store {
    /// Reserves the pair `{a, b}` for `labeler` for `ttl` (whole seconds,
    /// at least 1) and drops the labeler's other reservations, in one
    /// transaction. Returns `false`, changing nothing, when another
    /// labeler holds an unexpired reservation of the pair. Reserving a
    /// pair one already holds renews it.
    pub fn reserve_pair(
        &self,
        a: PairItem,
        b: PairItem,
        labeler: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = pair_key(a, b);
        let expires = now_plus(self.db.dialect(), ttl.as_secs().max(1));
        self.transaction(TABLE, || {
            self.exec(
                TABLE,
                "DELETE FROM pair_reservations WHERE expires_at < @NOW \
                 OR (labeler = ?1 AND pair_key <> ?2)",
                &vals![labeler, key],
            )?;
            let changed = self.exec(
                TABLE,
                &format!(
                    "INSERT INTO pair_reservations (pair_key, labeler, expires_at) \
                     VALUES (?1, ?2, {expires}) ON CONFLICT (pair_key) DO UPDATE \
                     SET labeler = excluded.labeler, expires_at = excluded.expires_at \
                     WHERE pair_reservations.labeler = excluded.labeler \
                     OR pair_reservations.expires_at < @NOW"
                ),
                &vals![key, labeler],
            )?;
            Ok(changed > 0)
        })
    }

    /// The keys ([`pair_key`]) of the pairs other labelers hold now.
    pub fn pairs_reserved_by_others(&self, labeler: &str) -> Result<HashSet<String>, StoreError> {
        let keys = self.query_rows(
            TABLE,
            "SELECT pair_key FROM pair_reservations WHERE labeler <> ?1 AND expires_at >= @NOW",
            &vals![labeler],
            |r| r.get::<String>(0),
        )?;
        Ok(keys.into_iter().collect())
    }

    /// Drops every reservation of `labeler` (the labelling screen closed,
    /// or nothing is left to show); returns how many there were.
    pub fn release_reservations(&self, labeler: &str) -> Result<usize, StoreError> {
        self.transaction(TABLE, || {
            self.exec(
                TABLE,
                "DELETE FROM pair_reservations WHERE labeler = ?1",
                &vals![labeler],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CreativeRowId, RenderId};

    #[test]
    fn keys_do_not_depend_on_the_order() {
        let (a, b) = (
            PairItem::Render(RenderId(40)),
            PairItem::Render(RenderId(12)),
        );
        assert_eq!(pair_key(a, b), "r12:r40");
        assert_eq!(pair_key(b, a), "r12:r40");
        let c = PairItem::Creative(CreativeRowId(3));
        let d = PairItem::Creative(CreativeRowId(9));
        assert_eq!(pair_key(d, c), "c3:c9");
    }

    #[test]
    fn expiry_reads_like_now() {
        let sqlite = now_plus(Dialect::Sqlite, 300);
        assert!(sqlite.contains("'+300 seconds'"), "{sqlite}");
        let pg = now_plus(Dialect::Postgres, 5);
        assert!(
            pg.contains("interval '5 seconds'") && pg.contains("MS"),
            "{pg}"
        );
    }
}
