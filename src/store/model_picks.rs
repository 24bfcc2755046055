//! A reward model's picks on pairs, stored as model-sourced preference
//! labels beside the people's (the statistics compare the two).

use rusqlite::{params, Transaction, TransactionBehavior};

use super::connection::Store;
use super::error::StoreError;
use super::preferences::{columns, insert_preference, NewPreference, PreferenceSource};

impl Store {
    /// Stores a model's picks in ONE transaction and returns how many were
    /// new. A pick is skipped when the same labeler (the model id) already
    /// has an active label on that unordered pair, so scoring the same
    /// renders again adds nothing. Every pick must be model-sourced.
    pub fn record_model_picks(&self, picks: &[NewPreference]) -> Result<usize, StoreError> {
        if let Some(bad) = picks.iter().find(|p| p.source != PreferenceSource::Model) {
            return Err(StoreError::InvalidArgument {
                table: "preferences",
                message: format!("a model pick by {} is not model-sourced", bad.labeler),
            });
        }
        let err = |e| self.sql_err("preferences", e);
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(err)?;
        let mut added = 0;
        for pick in picks {
            if !has_active_label(&tx, pick).map_err(err)? {
                insert_preference(&tx, pick).map_err(err)?;
                added += 1;
            }
        }
        tx.commit().map_err(err)?;
        Ok(added)
    }
}

/// Whether `pick.labeler` has an active label on the pair, either way round.
fn has_active_label(tx: &Transaction<'_>, pick: &NewPreference) -> rusqlite::Result<bool> {
    let (ra, ca) = columns(pick.a);
    let (rb, cb) = columns(pick.b);
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM preferences p WHERE p.labeler = ?1 \
         AND ((p.render_a IS ?2 AND p.render_b IS ?3 AND p.creative_a IS ?4 AND p.creative_b IS ?5) \
           OR (p.render_a IS ?3 AND p.render_b IS ?2 AND p.creative_a IS ?5 AND p.creative_b IS ?4)) \
         AND NOT EXISTS (SELECT 1 FROM preference_retractions r WHERE r.preference_id = p.id))",
        params![pick.labeler, ra, rb, ca, cb],
        |r| r.get(0),
    )
}
