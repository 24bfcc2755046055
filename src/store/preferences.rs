//! The `preferences` table: pairwise A-vs-B labels from humans or models,
//! on two renders or two imported creatives, and their retractions (undo
//! never deletes a label: it records a retraction).

use serde::{Deserialize, Serialize};

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::{CreativeRowId, PreferenceId, RenderId};
use super::sql_types::text_enum;

const TABLE: &str = "preferences";
const RETRACTIONS: &str = "preference_retractions";

const COLUMNS: &str = "p.id, p.render_a, p.render_b, p.creative_a, p.creative_b, p.left_is_a, \
     p.outcome, p.source, p.labeler, p.model_p_a, p.created_at, r.created_at";

const FROM: &str =
    "FROM preferences p LEFT JOIN preference_retractions r ON r.preference_id = p.id";

text_enum!(
    /// The answer to "which of the two ads is better?".
    Outcome, "outcome" {
        /// Item A is preferred.
        A => "a",
        /// Item B is preferred.
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

/// One side of a labelled pair: a render of the studio or a creative
/// imported with a click log. Both sides of a pair are of the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PairItem {
    /// A row of `renders`.
    Render(RenderId),
    /// A row of `creatives`.
    Creative(CreativeRowId),
}

impl PairItem {
    /// "render 12" / "creative 3", for messages.
    pub fn describe(self) -> String {
        match self {
            PairItem::Render(id) => format!("render {id}"),
            PairItem::Creative(id) => format!("creative {id}"),
        }
    }
}

/// The unordered pair `{a, b}`, smaller item first: the key under which a
/// labeler sees a pair at most once.
pub fn unordered(a: PairItem, b: PairItem) -> (PairItem, PairItem) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// A preference label to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewPreference {
    /// Item A.
    pub a: PairItem,
    /// Item B; same kind as `a`, and a different item.
    pub b: PairItem,
    /// Whether A was shown on the left (`None`: not shown, e.g. a model's
    /// pick or an imported label).
    pub left_is_a: Option<bool>,
    /// The judgement.
    pub outcome: Outcome,
    /// Human or model.
    pub source: PreferenceSource,
    /// Who labeled it: a user name or a model id. Must not be empty.
    pub labeler: String,
    /// The model's probability that A is better, when a model gave one.
    pub model_p_a: Option<f64>,
}

impl NewPreference {
    /// A person's label on two renders, A shown on the left.
    pub fn human(a: PairItem, b: PairItem, outcome: Outcome, labeler: &str) -> NewPreference {
        NewPreference {
            a,
            b,
            left_is_a: Some(true),
            outcome,
            source: PreferenceSource::Human,
            labeler: labeler.to_string(),
            model_p_a: None,
        }
    }
}

/// A row of `preferences`, with its retraction if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreferenceRow {
    /// Row id.
    pub id: PreferenceId,
    /// Item A.
    pub a: PairItem,
    /// Item B.
    pub b: PairItem,
    /// Whether A was shown on the left, if it was shown.
    pub left_is_a: Option<bool>,
    /// The judgement.
    pub outcome: Outcome,
    /// Human or model.
    pub source: PreferenceSource,
    /// Who labeled it.
    pub labeler: String,
    /// The model's probability that A is better, if recorded.
    pub model_p_a: Option<f64>,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
    /// When it was retracted (undone), if it was.
    pub retracted_at: Option<String>,
}

impl PreferenceRow {
    fn from_row(row: &DbRow) -> Result<PreferenceRow, ConvertError> {
        let item = |render: usize, creative: usize| -> Result<PairItem, ConvertError> {
            match row.get::<Option<RenderId>>(render)? {
                Some(id) => Ok(PairItem::Render(id)),
                None => Ok(PairItem::Creative(row.get(creative)?)),
            }
        };
        Ok(PreferenceRow {
            id: row.get(0)?,
            a: item(1, 3)?,
            b: item(2, 4)?,
            left_is_a: row.get(5)?,
            outcome: row.get(6)?,
            source: row.get(7)?,
            labeler: row.get(8)?,
            model_p_a: row.get(9)?,
            created_at: row.get(10)?,
            retracted_at: row.get(11)?,
        })
    }

    /// Whether the label still counts (not retracted).
    pub fn is_active(&self) -> bool {
        self.retracted_at.is_none()
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

/// The `(render, creative)` columns of one side.
pub(super) fn columns(item: PairItem) -> (Option<RenderId>, Option<CreativeRowId>) {
    match item {
        PairItem::Render(id) => (Some(id), None),
        PairItem::Creative(id) => (None, Some(id)),
    }
}

impl Store {
    /// Inserts one label row (inside the caller's transaction).
    pub(super) fn insert_preference(
        &self,
        pref: &NewPreference,
    ) -> Result<PreferenceId, StoreError> {
        let (render_a, creative_a) = columns(pref.a);
        let (render_b, creative_b) = columns(pref.b);
        self.insert_returning_id(
            TABLE,
            "INSERT INTO preferences (render_a, render_b, creative_a, creative_b, left_is_a, \
             outcome, source, labeler, model_p_a) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &vals![
                render_a,
                render_b,
                creative_a,
                creative_b,
                pref.left_is_a,
                pref.outcome,
                pref.source,
                pref.labeler,
                pref.model_p_a
            ],
        )
        .map(PreferenceId)
    }

    /// Records a preference label in its own transaction and returns its id
    /// only after the COMMIT succeeded, so a returned id survives a crash.
    /// Fails with [`StoreError::Constraint`] for a missing item, `a == b`,
    /// or a render paired with a creative.
    pub fn record_preference(&self, pref: &NewPreference) -> Result<PreferenceId, StoreError> {
        self.transaction(TABLE, || self.insert_preference(pref))
    }

    /// Retracts the most recent label of `labeler` that is still active
    /// (the labeling screen's undo), in one transaction, and returns its
    /// id, or `None` when that labeler has no active label. The label row
    /// stays: history is never deleted.
    pub fn retract_last_preference(
        &self,
        labeler: &str,
    ) -> Result<Option<PreferenceId>, StoreError> {
        self.transaction(RETRACTIONS, || {
            let last: Option<PreferenceId> = self.query_opt(
                RETRACTIONS,
                "SELECT p.id FROM preferences p \
                 WHERE p.labeler = ?1 AND NOT EXISTS \
                 (SELECT 1 FROM preference_retractions r WHERE r.preference_id = p.id) \
                 ORDER BY p.id DESC LIMIT 1",
                &vals![labeler],
                |r| r.get(0),
            )?;
            if let Some(id) = last {
                self.exec(
                    RETRACTIONS,
                    "INSERT INTO preference_retractions (preference_id) VALUES (?1)",
                    &vals![id],
                )?;
            }
            Ok(last)
        })
    }

    /// The preference with this id, if any (retracted or not).
    pub fn preference(&self, id: PreferenceId) -> Result<Option<PreferenceRow>, StoreError> {
        self.query_opt(
            TABLE,
            &format!("SELECT {COLUMNS} {FROM} WHERE p.id = ?1"),
            &vals![id],
            PreferenceRow::from_row,
        )
    }

    /// All preference rows, retracted ones included, oldest first.
    pub fn preferences(&self) -> Result<Vec<PreferenceRow>, StoreError> {
        self.preference_query(&format!("SELECT {COLUMNS} {FROM} ORDER BY p.id"))
    }

    /// The labels that count (not retracted), oldest first.
    pub fn active_preferences(&self) -> Result<Vec<PreferenceRow>, StoreError> {
        self.preference_query(&format!(
            "SELECT {COLUMNS} {FROM} WHERE r.preference_id IS NULL ORDER BY p.id"
        ))
    }

    /// The active labels of one labeler, oldest first.
    pub fn preferences_of(&self, labeler: &str) -> Result<Vec<PreferenceRow>, StoreError> {
        self.query_rows(
            TABLE,
            &format!(
                "SELECT {COLUMNS} {FROM} WHERE r.preference_id IS NULL AND p.labeler = ?1 \
                 ORDER BY p.id"
            ),
            &vals![labeler],
            PreferenceRow::from_row,
        )
    }

    fn preference_query(&self, sql: &str) -> Result<Vec<PreferenceRow>, StoreError> {
        self.query_rows(TABLE, sql, &[], PreferenceRow::from_row)
    }

    /// Number of active (not retracted) preference rows per outcome.
    pub fn preference_counts(&self) -> Result<PreferenceCounts, StoreError> {
        let rows: Vec<(Outcome, u64)> = self.query_rows(
            TABLE,
            &format!(
                "SELECT p.outcome, count(*) {FROM} WHERE r.preference_id IS NULL \
                 GROUP BY p.outcome"
            ),
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut counts = PreferenceCounts::default();
        for (outcome, n) in rows {
            *counts.slot(outcome) = n;
        }
        Ok(counts)
    }
}
