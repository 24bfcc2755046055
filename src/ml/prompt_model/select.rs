//! Picking K suggestions out of the screened candidates: relevant to the
//! product, and different from each other (maximal marginal relevance).

/// How much relevance weighs against novelty in [`mmr`] by default.
pub const DEFAULT_LAMBDA: f32 = 0.7;

/// Cosine similarity of two embeddings (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The indices of `bank` with their cosine to `query`, most similar first
/// (ties keep the bank's order).
pub fn rank_by_cosine(query: &[f32], bank: &[Vec<f32>]) -> Vec<(usize, f32)> {
    let mut order: Vec<(usize, f32)> = bank.iter().map(|e| cosine(e, query)).enumerate().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    order
}

/// Maximal marginal relevance: picks up to `k` of the candidates (given by
/// their relevance to the product and their embeddings), each time the one
/// maximising `lambda * relevance - (1 - lambda) * max similarity to those
/// already picked`. Returns candidate indices in pick order (the most
/// relevant first). Ties go to the earlier candidate.
pub fn mmr(relevance: &[f32], embeddings: &[Vec<f32>], k: usize, lambda: f32) -> Vec<usize> {
    let n = relevance.len().min(embeddings.len());
    let mut picked: Vec<usize> = Vec::with_capacity(k.min(n));
    while picked.len() < k.min(n) {
        let mut best: Option<(usize, f32)> = None;
        for i in (0..n).filter(|i| !picked.contains(i)) {
            let redundancy = picked
                .iter()
                .map(|&j| cosine(&embeddings[i], &embeddings[j]))
                .fold(0.0f32, f32::max);
            let score = lambda * relevance[i] - (1.0 - lambda) * redundancy;
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        match best {
            Some((i, _)) => picked.push(i),
            None => break,
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmr_skips_a_near_copy_of_a_picked_candidate() {
        // 0 and 1 say nearly the same; 2 is a little less relevant but
        // different.
        let embeddings = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.99, 0.14, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let relevance = [0.62, 0.61, 0.55];
        assert_eq!(mmr(&relevance, &embeddings, 2, DEFAULT_LAMBDA), vec![0, 2]);
        // Relevance alone (lambda = 1) would take the near copy.
        assert_eq!(mmr(&relevance, &embeddings, 2, 1.0), vec![0, 1]);
        assert_eq!(mmr(&relevance, &embeddings, 5, DEFAULT_LAMBDA).len(), 3);
        assert!(mmr(&[], &[], 3, DEFAULT_LAMBDA).is_empty());
    }

    #[test]
    fn cosine_is_scale_free_and_safe_on_zero() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert!((cosine(&[1.0, 0.0], &[0.0, 1.0])).abs() < 1e-6);
    }
}
