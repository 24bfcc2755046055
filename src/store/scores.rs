//! The `scores` table: model scores (and predicted CTRs) of renders.

use serde::Serialize;
use serde_json::Value;

use super::backend::{vals, ConvertError, DbRow};
use super::connection::Store;
use super::error::StoreError;
use super::ids::{RenderId, ScoreId};
use super::sql_types::json_text;

const TABLE: &str = "scores";

/// A score to insert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewScore {
    /// The scored render.
    pub render_id: RenderId,
    /// Id of the scoring model (reward model checkpoint/adapter).
    pub model_id: String,
    /// The model's score (higher is better).
    pub score: f64,
    /// Predicted click-through rate in [0, 1], if the model gives one.
    pub ctr: Option<f64>,
    /// Anything else the model reports (`Value::Null` if nothing).
    pub details_json: Value,
}

/// A row of `scores`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRow {
    /// Row id.
    pub id: ScoreId,
    /// The scored render.
    pub render_id: RenderId,
    /// Id of the scoring model.
    pub model_id: String,
    /// The model's score.
    pub score: f64,
    /// Predicted click-through rate, if any.
    pub ctr: Option<f64>,
    /// Anything else the model reported.
    pub details_json: Value,
    /// Creation time, UTC, ISO 8601 with milliseconds.
    pub created_at: String,
}

impl ScoreRow {
    fn from_row(row: &DbRow) -> Result<ScoreRow, ConvertError> {
        Ok(ScoreRow {
            id: row.get(0)?,
            render_id: row.get(1)?,
            model_id: row.get(2)?,
            score: row.get(3)?,
            ctr: row.get(4)?,
            details_json: row.get(5)?,
            created_at: row.get(6)?,
        })
    }
}

impl Store {
    /// Inserts a score and returns its id. Fails with
    /// [`StoreError::Constraint`] for a missing render or a CTR outside
    /// [0, 1], and with [`StoreError::InvalidArgument`] for a non-finite
    /// score.
    pub fn insert_score(&self, score: &NewScore) -> Result<ScoreId, StoreError> {
        if !score.score.is_finite() || score.ctr.is_some_and(|c| !c.is_finite()) {
            return Err(StoreError::InvalidArgument {
                table: TABLE,
                message: format!(
                    "score {} / ctr {:?} must be finite numbers",
                    score.score, score.ctr
                ),
            });
        }
        self.insert_returning_id(
            TABLE,
            "INSERT INTO scores (render_id, model_id, score, ctr, details_json) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &vals![
                score.render_id,
                score.model_id,
                score.score,
                score.ctr,
                json_text(&score.details_json),
            ],
        )
        .map(ScoreId)
    }

    /// All scores of one render, oldest first.
    pub fn scores_for_render(&self, render: RenderId) -> Result<Vec<ScoreRow>, StoreError> {
        self.query_rows(
            TABLE,
            "SELECT id, render_id, model_id, score, ctr, details_json, created_at \
             FROM scores WHERE render_id = ?1 ORDER BY id",
            &vals![render],
            ScoreRow::from_row,
        )
    }
}
