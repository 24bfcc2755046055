//! A reward model's picks on pairs, stored as model-sourced preference
//! labels beside the people's (the statistics compare the two).

use super::backend::vals;
use super::connection::Store;
use super::error::StoreError;
use super::preferences::{columns, NewPreference, PreferenceSource};

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
        self.transaction("preferences", || {
            let mut added = 0;
            for pick in picks {
                if !self.has_active_label(pick)? {
                    self.insert_preference(pick)?;
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    fn has_active_label(&self, pick: &NewPreference) -> Result<bool, StoreError> {
        let (ra, ca) = columns(pick.a);
        let (rb, cb) = columns(pick.b);
        let found = self.query_opt(
            "preferences",
            "SELECT 1 FROM preferences p WHERE p.labeler = ?1 \
             AND ((p.render_a IS NOT DISTINCT FROM ?2 AND p.render_b IS NOT DISTINCT FROM ?3 \
               AND p.creative_a IS NOT DISTINCT FROM ?4 AND p.creative_b IS NOT DISTINCT FROM ?5) \
               OR (p.render_a IS NOT DISTINCT FROM ?3 AND p.render_b IS NOT DISTINCT FROM ?2 \
               AND p.creative_a IS NOT DISTINCT FROM ?5 AND p.creative_b IS NOT DISTINCT FROM ?4)) \
             AND NOT EXISTS (SELECT 1 FROM preference_retractions r WHERE r.preference_id = p.id) \
             LIMIT 1",
            &vals![pick.labeler, ra, rb, ca, cb],
            |r| r.get::<i64>(0),
        )?;
        Ok(found.is_some())
    }
}
