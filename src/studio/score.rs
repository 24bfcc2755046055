//! Scoring variants with the reward model: all-pairs win probabilities
//! (position-debiased), the Bradley-Terry ranking and predicted CTRs.
//! [`rank_images`] serves `adstudio rm score` and the studio; the studio's
//! job also keeps the results in the `scores` table ([`save_scores`]) and
//! reads them back ([`load_scores`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use image::RgbImage;

use crate::jobs::Reporter;
use crate::ml::reward::ranking::{bradley_terry, ranking};
use crate::ml::reward::{RewardModel, ScoreMatrix};
use crate::store::{
    NewPreference, NewScore, Outcome, PairItem, PreferenceSource, ProductId, RenderId, RenderRow,
    Store,
};

use super::hub::ModelHub;
use super::progress::Progress;

/// `details_json.kind` of the rows [`save_scores`] writes.
const DETAILS_KIND: &str = "pairwise-rm";

/// Images ranked by the reward model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Win probabilities and predicted CTRs; index `i` is image `i`.
    pub matrix: ScoreMatrix,
    /// Bradley-Terry log-strengths (mean 0; higher is better).
    pub strengths: Vec<f64>,
    /// Image indices, best first.
    pub order: Vec<usize>,
    /// Which checkpoint scored them.
    pub model_id: String,
}

/// Scores every pair of `images` with the hub's reward model (loaded on
/// first use, reloaded when its checkpoint changes) and ranks them.
pub fn rank_images(
    models: &ModelHub,
    rep: &dyn Reporter<Progress>,
    images: &[PathBuf],
) -> anyhow::Result<Ranking> {
    let n = images.len();
    if n < 2 {
        anyhow::bail!("scoring needs at least two images, got {n}");
    }
    let total = n as u64 + 1;
    rep.steps(0, total, "loading the reward model");
    let mut decoded: Vec<RgbImage> = Vec::with_capacity(n);
    for (i, path) in images.iter().enumerate() {
        rep.checkpoint()?;
        rep.steps(i as u64 + 1, total, "reading images");
        decoded.push(read_rgb(path)?);
    }
    rep.checkpoint()?;
    rep.steps(total, total, "scoring pairs");
    let refs: Vec<&RgbImage> = decoded.iter().collect();
    let scored = models.with_reward_model(|engine| {
        engine
            .model
            .score_all(&refs)
            .map(|matrix| (matrix, engine.model_id()))
    })?;
    let (matrix, model_id) = scored.context("scoring the images")?;
    let strengths = bradley_terry(&matrix.p);
    let order = ranking(&strengths);
    Ok(Ranking {
        matrix,
        strengths,
        order,
        model_id,
    })
}

fn read_rgb(path: &Path) -> anyhow::Result<RgbImage> {
    Ok(image::open(path)
        .with_context(|| format!("reading image {}", path.display()))?
        .to_rgb8())
}

/// A scoring job: a product's stored variants.
#[derive(Debug, Clone)]
pub struct ScoreJob {
    /// The product.
    pub product: ProductId,
    /// Its variants (at least two).
    pub variants: Vec<VariantRef>,
}

/// Scores a product's variants and saves the scores.
pub fn score_variants(
    models: &ModelHub,
    store: &Store,
    rep: &dyn Reporter<Progress>,
    job: &ScoreJob,
) -> anyhow::Result<VariantScores> {
    let paths: Vec<PathBuf> = job.variants.iter().map(|v| v.path.clone()).collect();
    let ranked = rank_images(models, rep, &paths)?;
    let scores = VariantScores::new(
        job.product,
        job.variants.iter().map(|v| v.render).collect(),
        ranked.matrix,
        ranked.model_id,
    );
    save_scores(store, &scores)?;
    Ok(scores)
}

/// A stored variant to score.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRef {
    /// Its `renders` row.
    pub render: RenderId,
    /// Its image file.
    pub path: PathBuf,
}

impl VariantRef {
    /// The variant of a `renders` row.
    pub fn from_row(row: &RenderRow) -> Self {
        Self {
            render: row.id,
            path: PathBuf::from(&row.image_path),
        }
    }
}

/// Scores of a product's variants: all-pairs matrix, ranking and CTRs.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantScores {
    /// The product.
    pub product: ProductId,
    /// The scored renders; index `i` is row/column `i` of the matrix.
    pub renders: Vec<RenderId>,
    /// Win probabilities and predicted CTRs.
    pub matrix: ScoreMatrix,
    /// Bradley-Terry log-strengths (mean 0; higher is better).
    pub strengths: Vec<f64>,
    /// Indices into `renders`, best first.
    pub order: Vec<usize>,
    /// Which checkpoint scored them.
    pub model_id: String,
}

impl VariantScores {
    /// Builds the ranking from a matrix.
    pub fn new(
        product: ProductId,
        renders: Vec<RenderId>,
        matrix: ScoreMatrix,
        model_id: String,
    ) -> Self {
        let strengths = bradley_terry(&matrix.p);
        let order = ranking(&strengths);
        Self {
            product,
            renders,
            matrix,
            strengths,
            order,
            model_id,
        }
    }

    fn index(&self, render: RenderId) -> Option<usize> {
        self.renders.iter().position(|&r| r == render)
    }

    /// P(`a` gets more clicks than `b`), when both were scored.
    pub fn p_beats(&self, a: RenderId, b: RenderId) -> Option<f32> {
        let (i, j) = (self.index(a)?, self.index(b)?);
        self.matrix.p.get(i)?.get(j).copied()
    }

    /// The render's Bradley-Terry strength.
    pub fn strength(&self, render: RenderId) -> Option<f64> {
        self.strengths.get(self.index(render)?).copied()
    }

    /// The render's predicted CTR.
    pub fn ctr(&self, render: RenderId) -> Option<f32> {
        self.matrix.ctr.get(self.index(render)?).copied()
    }

    /// The render's rank (1 = best).
    pub fn rank(&self, render: RenderId) -> Option<usize> {
        let i = self.index(render)?;
        self.order.iter().position(|&o| o == i).map(|r| r + 1)
    }
}

/// The reward model's pick on every pair of scored renders, as labels with
/// source model and the model id as labeler: A is the render with the
/// smaller id, `model_p_a` = P(A beats B), the outcome A above 0.5, B below,
/// tie at exactly 0.5. Not shown to anyone, so `left_is_a` is `None`.
pub fn model_picks(scores: &VariantScores) -> Vec<NewPreference> {
    let mut picks = Vec::new();
    for (i, &x) in scores.renders.iter().enumerate() {
        for (j, &y) in scores.renders.iter().enumerate().skip(i + 1) {
            let (ia, ib) = if x.0 < y.0 { (i, j) } else { (j, i) };
            let p_a = f64::from(scores.matrix.p[ia][ib]);
            let outcome = match p_a.partial_cmp(&0.5) {
                Some(std::cmp::Ordering::Greater) => Outcome::A,
                Some(std::cmp::Ordering::Less) => Outcome::B,
                _ => Outcome::Tie,
            };
            picks.push(NewPreference {
                a: PairItem::Render(scores.renders[ia]),
                b: PairItem::Render(scores.renders[ib]),
                left_is_a: None,
                outcome,
                source: PreferenceSource::Model,
                labeler: scores.model_id.clone(),
                model_p_a: Some(p_a),
            });
        }
    }
    picks
}

/// Writes one `scores` row per render: score = Bradley-Terry strength,
/// ctr = predicted CTR (clamped to [0, 1]), details = rank and the win
/// probability against every other scored render; then the model's picks
/// on every pair as model-sourced preference labels ([`model_picks`],
/// once per model and pair).
pub fn save_scores(store: &Store, scores: &VariantScores) -> anyhow::Result<()> {
    for (i, &render) in scores.renders.iter().enumerate() {
        let p_win: BTreeMap<String, f32> = scores
            .renders
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, other)| (other.0.to_string(), scores.matrix.p[i][j]))
            .collect();
        let details = serde_json::json!({
            "kind": DETAILS_KIND,
            "rank": scores.rank(render),
            "p_win": p_win,
        });
        store
            .insert_score(&NewScore {
                render_id: render,
                model_id: scores.model_id.clone(),
                score: scores.strengths[i],
                ctr: scores
                    .matrix
                    .ctr
                    .get(i)
                    .map(|c| f64::from(*c).clamp(0.0, 1.0)),
                details_json: details,
            })
            .with_context(|| format!("saving the score of render {}", render.0))?;
    }
    store
        .record_model_picks(&model_picks(scores))
        .context("saving the reward model's picks")?;
    Ok(())
}

/// Rebuilds the newest complete scoring of `renders` from the store: the
/// latest pairwise row of each render, if all come from the same model and
/// cover each other. `None` when there is no such scoring.
pub fn load_scores(
    store: &Store,
    product: ProductId,
    renders: &[RenderId],
) -> anyhow::Result<Option<VariantScores>> {
    if renders.len() < 2 {
        return Ok(None);
    }
    let mut latest = Vec::with_capacity(renders.len());
    for &render in renders {
        let rows = store
            .scores_for_render(render)
            .with_context(|| format!("reading the scores of render {}", render.0))?;
        let Some(row) = rows
            .into_iter()
            .rev()
            .find(|r| r.details_json.get("kind").and_then(|k| k.as_str()) == Some(DETAILS_KIND))
        else {
            return Ok(None);
        };
        latest.push(row);
    }
    let model_id = latest[0].model_id.clone();
    if latest.iter().any(|r| r.model_id != model_id) {
        return Ok(None);
    }
    let n = renders.len();
    let mut p = vec![vec![0.5f32; n]; n];
    for (i, row) in latest.iter().enumerate() {
        for (j, other) in renders.iter().enumerate() {
            if i == j {
                continue;
            }
            let Some(value) = row
                .details_json
                .get("p_win")
                .and_then(|m| m.get(other.0.to_string()))
                .and_then(serde_json::Value::as_f64)
            else {
                return Ok(None);
            };
            p[i][j] = value as f32;
        }
    }
    let ctr = latest.iter().map(|r| r.ctr.unwrap_or(0.0) as f32).collect();
    Ok(Some(VariantScores::new(
        product,
        renders.to_vec(),
        ScoreMatrix { p, ctr },
        model_id,
    )))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lookups_follow_the_matrix() {
        let matrix = ScoreMatrix {
            p: vec![
                vec![0.5, 0.8, 0.6],
                vec![0.2, 0.5, 0.3],
                vec![0.4, 0.7, 0.5],
            ],
            ctr: vec![0.03, 0.01, 0.02],
        };
        let ids = vec![RenderId(10), RenderId(11), RenderId(12)];
        let s = VariantScores::new(ProductId(1), ids, matrix, "m".into());
        assert_eq!(s.p_beats(RenderId(10), RenderId(11)), Some(0.8));
        assert_eq!(s.p_beats(RenderId(11), RenderId(10)), Some(0.2));
        assert_eq!(s.rank(RenderId(10)), Some(1));
        assert_eq!(s.rank(RenderId(12)), Some(2));
        assert_eq!(s.rank(RenderId(11)), Some(3));
        assert_eq!(s.ctr(RenderId(12)), Some(0.02));
        assert_eq!(s.p_beats(RenderId(10), RenderId(99)), None);
    }

    #[test]
    fn picks_name_the_smaller_id_a_and_follow_the_matrix() {
        let matrix = ScoreMatrix {
            p: vec![
                vec![0.5, 0.8, 0.5],
                vec![0.2, 0.5, 0.3],
                vec![0.5, 0.7, 0.5],
            ],
            ctr: vec![0.03, 0.01, 0.02],
        };
        // Render 12 first: the pair (12, 10) is stored as A = 10.
        let ids = vec![RenderId(12), RenderId(11), RenderId(10)];
        let s = VariantScores::new(ProductId(1), ids, matrix, "rm@1".into());
        let picks = model_picks(&s);
        assert_eq!(picks.len(), 3);
        let find = |a: i64, b: i64| {
            picks
                .iter()
                .find(|p| {
                    p.a == PairItem::Render(RenderId(a)) && p.b == PairItem::Render(RenderId(b))
                })
                .unwrap_or_else(|| panic!("no pick ({a}, {b}): {picks:?}"))
        };
        // p[1][0] = 0.2: render 11 beats 12 with 0.2, so A = 11 loses.
        let p = find(11, 12);
        assert_eq!((p.outcome, p.model_p_a), (Outcome::B, Some(0.2f32.into())));
        let p = find(10, 12);
        assert_eq!((p.outcome, p.model_p_a), (Outcome::Tie, Some(0.5)));
        let p = find(10, 11);
        assert_eq!((p.outcome, p.model_p_a), (Outcome::A, Some(0.7f32.into())));
        assert!(picks.iter().all(|p| p.source == PreferenceSource::Model
            && p.labeler == "rm@1"
            && p.left_is_a.is_none()));
    }

    fn product_with_renders(store: &Store, n: usize) -> (ProductId, Vec<RenderId>) {
        use crate::store::{NewProduct, NewRender, ProductSettings};
        let product = store
            .insert_product(&NewProduct {
                title: "mug".to_string(),
                source_name: "mug.png".to_string(),
                image_hash: "a".repeat(64),
                image_ext: "png".to_string(),
                width: 8,
                height: 8,
                has_transparency: false,
                settings: ProductSettings {
                    mask_settings_json: serde_json::json!({}),
                    mask_edits_json: serde_json::json!([]),
                    canvas_settings_json: serde_json::json!({}),
                },
            })
            .expect("product");
        let renders = (0..n)
            .map(|i| {
                store
                    .insert_render(&NewRender {
                        product_id: product,
                        params_json: serde_json::json!({"prompt": format!("scene {i}")}),
                        seed: i as u64,
                        model_ids_json: serde_json::json!({}),
                        image_hash: format!("{i}").repeat(64),
                        image_path: format!("{i}.png"),
                        width: 8,
                        height: 8,
                    })
                    .expect("render")
            })
            .collect();
        (product, renders)
    }

    #[test]
    fn saving_scores_twice_records_each_pick_once() {
        let store = Store::open_in_memory().expect("store");
        let product = product_with_renders(&store, 3);
        let matrix = ScoreMatrix {
            p: vec![
                vec![0.5, 0.9, 0.6],
                vec![0.1, 0.5, 0.4],
                vec![0.4, 0.6, 0.5],
            ],
            ctr: vec![0.03, 0.01, 0.02],
        };
        let s = VariantScores::new(product.0, product.1, matrix, "rm@1".into());
        save_scores(&store, &s).expect("save");
        save_scores(&store, &s).expect("save again");
        let rows = store.active_preferences().expect("rows");
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(rows.iter().all(|r| r.source == PreferenceSource::Model));
        let human = NewPreference::human(rows[0].a, rows[0].b, Outcome::A, "ann");
        assert!(store.record_model_picks(&[human]).is_err());
    }
}
