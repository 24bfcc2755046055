//! The `preferences` table: pairwise A-vs-B labels from humans or models.

use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::Serialize;

use super::connection::Store;
use super::error::StoreError;
use super::ids::{PreferenceId, RenderId};
use super::sql_types::text_enum;

const TABLE: &str = "preferences";

text_enum!(
    /// The answer to "which of the two ads is better?".
    Outcome, "outcome" {
        /// Render A is preferred.
        A => "a",
        /// Render B is preferred.
        B => "b",
        /// Both are equally good.
        Tie => "tie",
        /// The labeler cannot decide (kept apart from a tie).
        CantTell => "cant_tell",
        /// The pair was skipped without a judgement.
        Skip => "skip",
    }
);

text_enum!(
    /// Who produced a preference label.
    PreferenceSource, "preference source" {
        /// A person on the labeling screen.
        Human => "human",
        /// The reward model (or another model).
        Model => "model",
    }
);

/// A preference label to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewPreference {
    /// The render shown as A (left).
    pub render_a: RenderId,
    /// The render shown as B (right); must differ from `render_a`.
    pub render_b: RenderId,
    /// The judgement.
    pub outcome: Outcome,
    /// Human or model.
    pub source: PreferenceSource,
    /// Who labeled it: a user name or a model id. Must not be empty.
    pub labeler: String,
}

/// A row of `preferences`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreferenceRow {
    /// Row id.
    pub id: PreferenceId,
    /// The render shown as A.
    pub render_a: RenderId,
    /// The render shown as B.
    pub render_b: RenderId,
    /// The judgement.
    pub outcome: Outcome,
    /// Human or model.
    pub source: PreferenceSource,
    /// Who labeled it.
    pub labeler: String,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
}

impl PreferenceRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<PreferenceRow> {
        Ok(PreferenceRow {
            id: row.get(0)?,
            render_a: row.get(1)?,
            render_b: row.get(2)?,
            outcome: row.get(3)?,
            source: row.get(4)?,
            labeler: row.get(5)?,
            created_at: row.get(6)?,
        })
    }
}

/// Number of preference rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PreferenceCounts {
    /// Rows with [`Outcome::A`].
    pub a: u64,
    /// Rows with [`Outcome::B`].
    pub b: u64,
    /// Rows with [`Outcome::Tie`].
    pub tie: u64,
    /// Rows with [`Outcome::CantTell`].
    pub cant_tell: u64,
    /// Rows with [`Outcome::Skip`].
    pub skip: u64,
}

impl PreferenceCounts {
    /// The count for one outcome.
    pub fn get(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::A => self.a,
            Outcome::B => self.b,
            Outcome::Tie => self.tie,
            Outcome::CantTell => self.cant_tell,
            Outcome::Skip => self.skip,
        }
    }

    fn slot(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::A => &mut self.a,
            Outcome::B => &mut self.b,
            Outcome::Tie => &mut self.tie,
            Outcome::CantTell => &mut self.cant_tell,
            Outcome::Skip => &mut self.skip,
        }
    }

    /// All rows, whatever the outcome.
    pub fn total(&self) -> u64 {
        self.a + self.b + self.tie + self.cant_tell + self.skip
    }

    /// Rows that carry a judgement (A, B or tie), i.e. usable for training.
    pub fn decided(&self) -> u64 {
        self.a + self.b + self.tie
    }
}

impl Store {
    /// Records a preference label in its own transaction and returns its id
    /// only after the COMMIT succeeded, so a returned id survives a crash.
    /// Fails with [`StoreError::Constraint`] for a missing render or
    /// `render_a == render_b`.
    pub fn record_preference(&self, pref: &NewPreference) -> Result<PreferenceId, StoreError> {
        let err = |e| self.sql_err(TABLE, e);
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(err)?;
        tx.execute(
            "INSERT INTO preferences (render_a, render_b, outcome, source, labeler) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                pref.render_a,
                pref.render_b,
                pref.outcome,
                pref.source,
                pref.labeler
            ],
        )
        .map_err(err)?;
        let id = PreferenceId(tx.last_insert_rowid());
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Deletes the most recent preference recorded by `labeler` (the
    /// labeling screen's undo) and returns its id, or `None` if that labeler
    /// has no rows left. Ids are never reused.
    pub fn undo_last_preference(&self, labeler: &str) -> Result<Option<PreferenceId>, StoreError> {
        let err = |e| self.sql_err(TABLE, e);
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(err)?;
        let last: Option<PreferenceId> = tx
            .query_row(
                "SELECT id FROM preferences WHERE labeler = ?1 ORDER BY id DESC LIMIT 1",
                [labeler],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(id) = last {
            tx.execute("DELETE FROM preferences WHERE id = ?1", [id])
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(last)
    }

    /// The preference with this id, if any.
    pub fn preference(&self, id: PreferenceId) -> Result<Option<PreferenceRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, render_a, render_b, outcome, source, labeler, created_at \
                 FROM preferences WHERE id = ?1",
                [id],
                PreferenceRow::from_row,
            )
            .optional()
            .map_err(|e| self.sql_err(TABLE, e))
    }

    /// All preference rows, oldest first.
    pub fn preferences(&self) -> Result<Vec<PreferenceRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, render_a, render_b, outcome, source, labeler, created_at \
                 FROM preferences ORDER BY id",
            )
            .map_err(|e| self.sql_err(TABLE, e))?;
        stmt.query_map([], PreferenceRow::from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(TABLE, e))
    }

    /// Number of preference rows per outcome.
    pub fn preference_counts(&self) -> Result<PreferenceCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT outcome, count(*) FROM preferences GROUP BY outcome")
            .map_err(|e| self.sql_err(TABLE, e))?;
        // count(*) is never negative, so unsigned_abs is exact.
        let rows: Vec<(Outcome, u64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs())))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(TABLE, e))?;
        let mut counts = PreferenceCounts::default();
        for (outcome, n) in rows {
            *counts.slot(outcome) = n;
        }
        Ok(counts)
    }
}
