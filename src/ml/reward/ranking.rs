//! Scoring a set of variants of one product: the all-pairs win-probability
//! matrix, predicted CTRs and a Bradley-Terry ranking.

/// All-pairs scores of a set of images.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreMatrix {
    /// `p[i][j]` = probability that image i beats image j
    /// (`p[i][j] + p[j][i] = 1`, `p[i][i] = 0.5`).
    pub p: Vec<Vec<f32>>,
    /// Predicted CTR of each image, averaged over all its pairings (the
    /// image's own CTR when there is a single image is not defined: 0).
    pub ctr: Vec<f32>,
}

impl ScoreMatrix {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.p.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.p.is_empty()
    }
}

/// Bradley-Terry log-strengths fitted to soft pairwise outcomes by the MM
/// algorithm (Hunter 2004): each unordered pair counts as one comparison
/// that i wins with weight `p[i][j]` (clamped to [0.001, 0.999] so every
/// strength stays finite). Scores are centred to mean 0; a higher score
/// means a stronger image. `p` must be square.
pub fn bradley_terry(p: &[Vec<f32>]) -> Vec<f64> {
    let n = p.len();
    if n == 0 {
        return Vec::new();
    }
    let prob = |i: usize, j: usize| -> f64 {
        let v = p[i].get(j).copied().unwrap_or(0.5) as f64;
        v.clamp(0.001, 0.999)
    };
    let wins: Vec<f64> = (0..n)
        .map(|i| (0..n).filter(|&j| j != i).map(|j| prob(i, j)).sum())
        .collect();
    let mut pi = vec![1.0f64; n];
    for _ in 0..500 {
        let mut next = vec![0.0; n];
        for i in 0..n {
            let denom: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| 1.0 / (pi[i] + pi[j]))
                .sum();
            next[i] = if denom > 0.0 { wins[i] / denom } else { 1.0 };
        }
        let log_mean = next.iter().map(|v| v.ln()).sum::<f64>() / n as f64;
        let scale = (-log_mean).exp();
        let mut change = 0.0f64;
        for (old, new) in pi.iter_mut().zip(&next) {
            let v = new * scale;
            change = change.max((v.ln() - old.ln()).abs());
            *old = v;
        }
        if change < 1e-10 {
            break;
        }
    }
    pi.iter().map(|v| v.ln()).collect()
}

/// Indices sorted from the highest to the lowest score (stable for ties).
pub fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bradley_terry_recovers_known_strengths() {
        let s = [1.0f64, 0.0, -0.5, 0.7];
        let p: Vec<Vec<f32>> = s
            .iter()
            .map(|a| {
                s.iter()
                    .map(|b| (1.0 / (1.0 + (b - a).exp())) as f32)
                    .collect()
            })
            .collect();
        let fit = bradley_terry(&p);
        let mean = s.iter().sum::<f64>() / 4.0;
        for (f, t) in fit.iter().zip(s) {
            assert!((f - (t - mean)).abs() < 1e-4, "{fit:?}");
        }
        assert_eq!(ranking(&fit), vec![0, 3, 1, 2]);
        assert!(bradley_terry(&[]).is_empty());
    }
}
