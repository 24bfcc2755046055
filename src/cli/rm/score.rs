//! `adstudio rm score`: all-pairs win probabilities, Bradley-Terry ranking
//! and predicted CTR of a set of images.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::jobs::InlineReporter;
use crate::ml::reward::ScoreMatrix;
use crate::studio::score::rank_images;
use crate::studio::{display_name, ModelHub, ModelRegistry, ModelRole, Progress};

/// Scores of a set of images.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReport {
    /// The images, in the order given.
    pub images: Vec<PathBuf>,
    /// Win probabilities and predicted CTRs.
    pub matrix: ScoreMatrix,
    /// Bradley-Terry log-strengths (mean 0).
    pub strengths: Vec<f64>,
    /// Image indices from best to worst.
    pub order: Vec<usize>,
}

/// Scores `images` with the reward model of `registry` (the `reward-model`
/// role) through the studio core.
pub fn score_with(registry: ModelRegistry, images: &[PathBuf]) -> anyhow::Result<ScoreReport> {
    if images.len() < 2 {
        anyhow::bail!("give at least two images to compare (got {})", images.len());
    }
    let hub = ModelHub::new(registry);
    let ranked = rank_images(&hub, &InlineReporter::new(|_: Progress| {}), images)?;
    Ok(ScoreReport {
        images: images.to_vec(),
        matrix: ranked.matrix,
        strengths: ranked.strengths,
        order: ranked.order,
    })
}

/// Scores `images` with the checkpoint at `checkpoint`.
pub fn score_images(checkpoint: &Path, images: &[PathBuf]) -> anyhow::Result<ScoreReport> {
    let registry = ModelRegistry::with_dirs(None, None)
        .with_explicit(ModelRole::RewardModel, Some(checkpoint));
    score_with(registry, images)
}

impl fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.images.len();
        writeln!(f, "P(row beats column):")?;
        write!(f, "| image |")?;
        for j in 0..n {
            write!(f, " #{} |", j + 1)?;
        }
        writeln!(f)?;
        writeln!(f, "|---|{}", "---|".repeat(n))?;
        for (i, row) in self.matrix.p.iter().enumerate() {
            write!(f, "| #{} {} |", i + 1, display_name(&self.images[i]))?;
            for (j, p) in row.iter().enumerate() {
                if i == j {
                    write!(f, " - |")?;
                } else {
                    write!(f, " {p:.3} |")?;
                }
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        writeln!(f, "| rank | image | Bradley-Terry score | predicted CTR |")?;
        writeln!(f, "|---|---|---|---|")?;
        for (rank, &i) in self.order.iter().enumerate() {
            writeln!(
                f,
                "| {} | #{} {} | {:+.3} | {:.4} |",
                rank + 1,
                i + 1,
                self.images[i].display(),
                self.strengths[i],
                self.matrix.ctr[i]
            )?;
        }
        Ok(())
    }
}
