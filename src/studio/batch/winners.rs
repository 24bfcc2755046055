//! Ranking a product's renders with the reward model (all pairs, saved as
//! scoring saves them, reused when the same renders were already scored by
//! the same model) and copying the top ones into the output folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::jobs::Reporter;
use crate::store::ProductId;

use super::super::progress::Progress;
use super::super::score::{load_scores, rank_images, save_scores, VariantScores};
use super::super::Studio;
use super::variants::DoneRender;

/// A winning render of a product, as `winners.csv` and `index.html` show
/// it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Winner {
    /// 1 = best.
    pub rank: usize,
    /// Its `renders` row.
    pub render: crate::store::RenderId,
    /// The prompt (suggestion) it rendered.
    pub prompt: String,
    /// Its seed.
    pub seed: u64,
    /// The reward model's predicted CTR.
    pub ctr: f32,
    /// Mean probability of beating each other render of the product.
    pub mean_win: f64,
    /// Its copy, relative to the output folder (`<id>/rank-<r>.png`).
    pub file: PathBuf,
}

/// The scores of `renders`, reused from the store when the current reward
/// model already scored exactly these; the time in the reward model.
pub fn score(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    product: ProductId,
    renders: &[DoneRender],
) -> anyhow::Result<(VariantScores, Duration, bool)> {
    let ids: Vec<_> = renders.iter().map(|r| r.id).collect();
    let model_id = studio.models.with_reward_model(|e| e.model_id())?;
    if let Some(stored) = load_scores(&studio.store, product, &ids)? {
        if stored.model_id == model_id {
            return Ok((stored, Duration::ZERO, true));
        }
    }
    let paths: Vec<PathBuf> = renders.iter().map(|r| r.path.clone()).collect();
    let started = Instant::now();
    let ranked = rank_images(&studio.models, rep, &paths)?;
    let seconds = started.elapsed();
    let scores = VariantScores::new(product, ids, ranked.matrix, ranked.model_id);
    save_scores(&studio.store, &scores)?;
    Ok((scores, seconds, false))
}

/// Mean of row `i` of the win matrix without the diagonal.
pub fn mean_win(scores: &VariantScores, i: usize) -> f64 {
    let row = &scores.matrix.p[i];
    let others: Vec<f64> = row
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, p)| f64::from(*p))
        .collect();
    if others.is_empty() {
        return 0.0;
    }
    others.iter().sum::<f64>() / others.len() as f64
}

/// The `top` best renders, copied to `out/<id>/rank-<r>.png` (older rank
/// files of the product are removed first).
pub fn write_winners(
    out: &Path,
    id: &str,
    renders: &[DoneRender],
    scores: &VariantScores,
    top: usize,
) -> anyhow::Result<Vec<Winner>> {
    let dir = out.join(id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    clear_rank_files(&dir)?;
    let mut winners = Vec::new();
    for (r, &i) in scores.order.iter().take(top).enumerate() {
        let render = &renders[i];
        let file = PathBuf::from(id).join(format!("rank-{}.png", r + 1));
        let dest = out.join(&file);
        std::fs::copy(&render.path, &dest)
            .with_context(|| format!("copying {} to {}", render.path.display(), dest.display()))?;
        winners.push(Winner {
            rank: r + 1,
            render: render.id,
            prompt: render.spec.prompt.clone(),
            seed: render.spec.seed,
            ctr: scores.matrix.ctr.get(i).copied().unwrap_or(0.0),
            mean_win: mean_win(scores, i),
            file,
        });
    }
    Ok(winners)
}

fn clear_rank_files(dir: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("rank-") && name.ends_with(".png") {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing the old winner {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::reward::ScoreMatrix;
    use crate::store::RenderId;

    #[test]
    fn mean_win_leaves_out_the_diagonal() {
        let matrix = ScoreMatrix {
            p: vec![
                vec![0.5, 0.8, 0.6],
                vec![0.2, 0.5, 0.3],
                vec![0.4, 0.7, 0.5],
            ],
            ctr: vec![0.03, 0.01, 0.02],
        };
        let ids = vec![RenderId(1), RenderId(2), RenderId(3)];
        let s = VariantScores::new(ProductId(1), ids, matrix, "m".into());
        assert!((mean_win(&s, 0) - 0.7).abs() < 1e-6);
        assert!((mean_win(&s, 1) - 0.25).abs() < 1e-6);
    }
}
