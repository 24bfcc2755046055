//! CTR scores of a product's variants in the studio.
//!
//! - Model-worker side: [`RewardModelSlot`] finds and lazily loads the
//!   compact reward-model checkpoint in `<models>/reward-model` (reloaded
//!   when the file changes, e.g. after training); [`run_scoring`] scores
//!   every pair of variants.
//! - Store side: [`save_scores`] keeps the results in the `scores` table
//!   (one row per render: Bradley-Terry strength as the score, predicted
//!   CTR, and the win probabilities against the others in `details_json`);
//!   [`load_scores`] rebuilds them.
//! - UI side: [`VariantScores`] answers the gallery and the compare view.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use candle_core::Device;
use image::RgbImage;

use crate::jobs::JobContext;
use crate::ml::reward::checkpoint::{load_compact, CheckpointMeta};
use crate::ml::reward::compact::CompactRewardModel;
use crate::ml::reward::ranking::{bradley_terry, ranking};
use crate::ml::reward::{RewardModel, ScoreMatrix};
use crate::store::{NewScore, ProductId, RenderId, RenderRow, Store};

/// The reward model's folder inside the models dir.
pub const REWARD_MODEL_DIR: &str = "reward-model";
/// File name of the checkpoint the studio's training writes.
pub const REWARD_CHECKPOINT_FILE: &str = "compact-rm.safetensors";
/// `details_json.kind` of the rows [`save_scores`] writes.
const DETAILS_KIND: &str = "pairwise-rm";

/// The checkpoint the studio uses, from the first of `model_dirs` whose
/// `reward-model/` folder has one: `compact-rm.safetensors` when present,
/// else its first `.safetensors` file (by name). The error names the
/// expected folder and how to get a model.
pub fn locate_reward_checkpoint(model_dirs: &[PathBuf]) -> anyhow::Result<PathBuf> {
    for dir in model_dirs {
        let folder = dir.join(REWARD_MODEL_DIR);
        let preferred = folder.join(REWARD_CHECKPOINT_FILE);
        if preferred.is_file() {
            return Ok(preferred);
        }
        if let Some(file) = super::models::first_file_with_extension(&folder, "safetensors") {
            return Ok(file);
        }
    }
    anyhow::bail!(
        "no reward model in {}: train one (Scores > Training…) or copy a compact reward-model \
         checkpoint (.safetensors) there",
        reward_folder(model_dirs).display()
    )
}

/// Where the studio writes (and first looks for) the reward model:
/// `<first models dir>/reward-model`.
pub fn reward_folder(model_dirs: &[PathBuf]) -> PathBuf {
    model_dirs
        .first()
        .map_or_else(|| PathBuf::from("models"), Clone::clone)
        .join(REWARD_MODEL_DIR)
}

struct LoadedReward {
    path: PathBuf,
    modified: Option<SystemTime>,
    model: CompactRewardModel,
    meta: CheckpointMeta,
}

/// The reward model as the model worker holds it.
pub struct RewardModelSlot {
    model_dirs: Vec<PathBuf>,
    loaded: Option<LoadedReward>,
}

impl RewardModelSlot {
    /// A slot that looks for the checkpoint in `model_dirs`, in order.
    pub fn new(model_dirs: Vec<PathBuf>) -> Self {
        Self {
            model_dirs,
            loaded: None,
        }
    }

    /// Forgets the loaded model (after training wrote a new one).
    pub fn invalidate(&mut self) {
        self.loaded = None;
    }

    fn get(&mut self) -> anyhow::Result<&LoadedReward> {
        let path = locate_reward_checkpoint(&self.model_dirs)?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if self
            .loaded
            .as_ref()
            .is_some_and(|l| l.path != path || l.modified != modified)
        {
            self.loaded = None;
        }
        match &mut self.loaded {
            Some(loaded) => Ok(loaded),
            slot @ None => {
                let (model, meta) = load_compact(&path, &Device::Cpu)
                    .with_context(|| format!("loading the reward model {}", path.display()))?;
                Ok(slot.insert(LoadedReward {
                    path,
                    modified,
                    model,
                    meta,
                }))
            }
        }
    }
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

/// A scoring job.
#[derive(Debug, Clone)]
pub struct ScoreJob {
    /// The product.
    pub product: ProductId,
    /// Its variants (at least two).
    pub variants: Vec<VariantRef>,
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

/// Runs a scoring job on the model worker: loads the checkpoint (cached),
/// decodes the variants and scores every pair (position-debiased).
pub fn run_scoring<O>(
    slot: &mut RewardModelSlot,
    ctx: &JobContext<'_, O>,
    job: &ScoreJob,
) -> anyhow::Result<VariantScores> {
    let n = job.variants.len();
    if n < 2 {
        anyhow::bail!("scoring needs at least two rendered variants, the product has {n}");
    }
    let total = n as u64 + 1;
    ctx.progress(0, total, "loading the reward model");
    let loaded = slot.get()?;
    let mut images: Vec<RgbImage> = Vec::with_capacity(n);
    for (i, variant) in job.variants.iter().enumerate() {
        ctx.checkpoint()?;
        ctx.progress(i as u64 + 1, total, "reading variants");
        let image = image::open(&variant.path)
            .with_context(|| format!("reading variant {}", variant.path.display()))?;
        images.push(image.to_rgb8());
    }
    ctx.checkpoint()?;
    ctx.progress(total, total, "scoring pairs");
    let refs: Vec<&RgbImage> = images.iter().collect();
    let matrix = loaded
        .model
        .score_all(&refs)
        .context("scoring the variants")?;
    let model_id = format!(
        "compact-rm:{}@epoch{}",
        display_name(&loaded.path),
        loaded.meta.epoch
    );
    Ok(VariantScores::new(
        job.product,
        job.variants.iter().map(|v| v.render).collect(),
        matrix,
        model_id,
    ))
}

/// Writes one `scores` row per render: score = Bradley-Terry strength,
/// ctr = predicted CTR (clamped to [0, 1]), details = rank and the win
/// probability against every other scored render.
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

/// The Scores section's state (runtime only).
#[derive(Debug, Clone, Default)]
pub struct ScoresState {
    /// The open product's latest scores.
    pub current: Option<VariantScores>,
    /// The running scoring job.
    pub job: Option<crate::jobs::JobId>,
    /// The last message (and whether it is an error).
    pub message: Option<(String, bool)>,
}

impl ScoresState {
    /// Whether a scoring job is queued or running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Scores for `product`, if the current ones belong to it.
    pub fn for_product(&self, product: ProductId) -> Option<&VariantScores> {
        self.current.as_ref().filter(|s| s.product == product)
    }
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_checkpoint_names_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate_reward_checkpoint(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("reward-model"), "{err}");
    }

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
}
