//! `adstudio rm score`: all-pairs win probabilities, Bradley-Terry ranking
//! and predicted CTR of a set of images.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::Device;

use crate::ml::reward::checkpoint::load_compact;
use crate::ml::reward::ranking::{bradley_terry, ranking};
use crate::ml::reward::{RewardModel, ScoreMatrix};

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

/// Scores every pair of `images` with the compact reward model in
/// `checkpoint` (position-debiased) and ranks them.
pub fn score_images(checkpoint: &Path, images: &[PathBuf]) -> anyhow::Result<ScoreReport> {
    if images.len() < 2 {
        anyhow::bail!("give at least two images to compare (got {})", images.len());
    }
    let (model, _) = load_compact(checkpoint, &Device::Cpu)
        .with_context(|| format!("loading reward checkpoint {}", checkpoint.display()))?;
    let decoded = images
        .iter()
        .map(|p| {
            image::open(p)
                .map(|i| i.to_rgb8())
                .with_context(|| format!("reading image {}", p.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refs: Vec<_> = decoded.iter().collect();
    let matrix = model.score_all(&refs)?;
    let strengths = bradley_terry(&matrix.p);
    let order = ranking(&strengths);
    Ok(ScoreReport {
        images: images.to_vec(),
        matrix,
        strengths,
        order,
    })
}

fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
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
            write!(f, "| #{} {} |", i + 1, short_name(&self.images[i]))?;
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
