//! Agreement statistics (pure maths, no store): Cohen's kappa for two
//! raters, Fleiss' kappa for several, and an accuracy with its Wilson score
//! confidence interval.
//!
//! Every function returns `None` instead of NaN or infinity when the value
//! is undefined: no items, or chance agreement of 1 (every rating in one
//! and the same category), where kappa is 0/0.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// z for a two-sided 95% interval (the 0.975 quantile of the normal law).
pub const Z95: f64 = 1.959_963_984_540_054;

/// Chance agreement this close to 1 makes kappa undefined (0/0).
const DEGENERATE: f64 = 1e-12;

/// Cohen's kappa of two raters over the items both rated: `pairs[i]` is
/// (rater 1's category, rater 2's category) of item `i`.
///
/// kappa = (p_o - p_e) / (1 - p_e), with p_o the fraction of items on which
/// they agree and p_e = sum over categories of the product of the two
/// raters' marginal fractions. `None` when there are no items or p_e = 1.
pub fn cohen_kappa<C: Eq + Hash + Copy>(pairs: &[(C, C)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let mut first: HashMap<C, f64> = HashMap::new();
    let mut second: HashMap<C, f64> = HashMap::new();
    let mut agree = 0.0;
    for &(x, y) in pairs {
        *first.entry(x).or_default() += 1.0;
        *second.entry(y).or_default() += 1.0;
        if x == y {
            agree += 1.0;
        }
    }
    let observed = agree / n;
    let chance: f64 = first
        .iter()
        .map(|(c, k1)| (k1 / n) * (second.get(c).copied().unwrap_or(0.0) / n))
        .sum();
    kappa(observed, chance)
}

/// Fleiss' kappa in its variable-rater form: `items[i][j]` is how many
/// raters put item `i` in category `j` (every row has the same number of
/// categories; a shorter row counts its missing categories as 0).
///
/// Items may have different numbers of raters n_i. Items with fewer than 2
/// ratings carry no agreement information and are left out. With
/// P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)) the agreement on item i,
/// P̄ the unweighted mean of P_i over the items, p_j = (sum_i n_ij) /
/// (sum_i n_i) the pooled share of category j among all their ratings and
/// P̄e = sum_j p_j^2: kappa = (P̄ - P̄e) / (1 - P̄e). With the same number of
/// raters on every item this is exactly Fleiss (1971). `None` when no item
/// has 2 ratings or P̄e = 1.
pub fn fleiss_kappa(items: &[Vec<u64>]) -> Option<f64> {
    let rated: Vec<&Vec<u64>> = items
        .iter()
        .filter(|row| row.iter().sum::<u64>() >= 2)
        .collect();
    if rated.is_empty() {
        return None;
    }
    let categories = rated.iter().map(|row| row.len()).max().unwrap_or(0);
    let mut pooled = vec![0.0f64; categories];
    let mut all_ratings = 0.0;
    let mut mean_agreement = 0.0;
    for row in &rated {
        let n_i = row.iter().sum::<u64>() as f64;
        let squares: f64 = row.iter().map(|&c| (c as f64) * (c as f64)).sum();
        mean_agreement += (squares - n_i) / (n_i * (n_i - 1.0));
        for (j, &c) in row.iter().enumerate() {
            pooled[j] += c as f64;
        }
        all_ratings += n_i;
    }
    mean_agreement /= rated.len() as f64;
    let chance: f64 = pooled.iter().map(|c| (c / all_ratings).powi(2)).sum();
    kappa(mean_agreement, chance)
}

fn kappa(observed: f64, chance: f64) -> Option<f64> {
    let room = 1.0 - chance;
    (room.abs() > DEGENERATE).then(|| (observed - chance) / room)
}

/// The Wilson score interval of a proportion `successes / total` for the
/// normal quantile `z` (use [`Z95`] for 95%): centre (p + z²/2n) / (1 +
/// z²/n), half-width z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²). Unlike the
/// normal approximation it stays inside [0, 1] and is not empty at 0 or n
/// successes. `None` when `total` is 0 or `successes > total`.
pub fn wilson_interval(successes: u64, total: u64, z: f64) -> Option<(f64, f64)> {
    if total == 0 || successes > total {
        return None;
    }
    let n = total as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// An accuracy (a proportion of correct answers) with its 95% Wilson
/// interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accuracy {
    /// Correct answers.
    pub correct: u64,
    /// Answers.
    pub total: u64,
    /// correct / total.
    pub value: f64,
    /// Lower end of the 95% Wilson interval.
    pub ci_low: f64,
    /// Upper end of the 95% Wilson interval.
    pub ci_high: f64,
}

impl Accuracy {
    /// `correct` of `total` with its 95% Wilson interval; `None` when
    /// `total` is 0 or `correct > total`.
    pub fn new(correct: u64, total: u64) -> Option<Accuracy> {
        let (ci_low, ci_high) = wilson_interval(correct, total, Z95)?;
        Some(Accuracy {
            correct,
            total,
            value: correct as f64 / total as f64,
            ci_low,
            ci_high,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// 50 items rated yes/no: both yes 20, 1 yes / 2 no 5, 1 no / 2 yes 10,
    /// both no 15. p_o = 35/50 = 0.7; rater 1 says yes 25/50, rater 2
    /// 30/50; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4.
    fn yes_no_table() -> Vec<(bool, bool)> {
        let mut pairs = vec![(true, true); 20];
        pairs.extend(vec![(true, false); 5]);
        pairs.extend(vec![(false, true); 10]);
        pairs.extend(vec![(false, false); 15]);
        pairs
    }

    #[test]
    fn cohen_matches_the_two_by_two_textbook_table() {
        let k = cohen_kappa(&yes_no_table()).unwrap();
        assert!(close(k, 0.4, 1e-12), "{k}");
    }

    /// Three categories: 10 items, diagonal 3 + 2 + 1 = 6 agreements;
    /// rater 1 marginals (4, 3, 3), rater 2 (4, 4, 2). p_o = 0.6, p_e =
    /// (16 + 12 + 6)/100 = 0.34, kappa = 0.26 / 0.66.
    #[test]
    fn cohen_on_three_categories() {
        let pairs = vec![
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 1),
            (1, 1),
            (1, 1),
            (1, 2),
            (2, 2),
            (2, 0),
            (2, 1),
        ];
        let k = cohen_kappa(&pairs).unwrap();
        assert!(close(k, 0.26 / 0.66, 1e-12), "{k}");
    }

    #[test]
    fn cohen_is_one_for_perfect_agreement_and_negative_for_systematic_disagreement() {
        let perfect = vec![(1, 1), (2, 2), (1, 1), (3, 3)];
        assert!(close(cohen_kappa(&perfect).unwrap(), 1.0, 1e-12));
        // Always opposite on a balanced yes/no: p_o = 0, p_e = 0.5 -> -1.
        let opposite = vec![(true, false), (false, true)];
        assert!(close(cohen_kappa(&opposite).unwrap(), -1.0, 1e-12));
    }

    #[test]
    fn cohen_is_undefined_without_items_or_with_a_single_category() {
        assert_eq!(cohen_kappa::<u8>(&[]), None);
        assert_eq!(cohen_kappa(&[(2, 2), (2, 2), (2, 2)]), None);
    }

    /// Fleiss (1971) as tabulated in most textbooks: 10 subjects, 14 raters,
    /// 5 categories; P̄ = 0.378, P̄e = 0.213, kappa = 0.210. Exactly:
    /// P̄ = 1.0/10 * sum P_i with sum P_i = 3.780219..., P̄e from the column
    /// totals (20, 28, 39, 21, 32) / 140.
    #[test]
    fn fleiss_matches_the_textbook_fourteen_rater_table() {
        let table: Vec<Vec<u64>> = vec![
            vec![0, 0, 0, 0, 14],
            vec![0, 2, 6, 4, 2],
            vec![0, 0, 3, 5, 6],
            vec![0, 3, 9, 2, 0],
            vec![2, 2, 8, 1, 1],
            vec![7, 7, 0, 0, 0],
            vec![3, 2, 6, 3, 0],
            vec![2, 5, 3, 2, 2],
            vec![6, 5, 2, 1, 0],
            vec![0, 2, 2, 3, 7],
        ];
        let p_bar = table
            .iter()
            .map(|r| (r.iter().map(|c| c * c).sum::<u64>() - 14) as f64 / (14.0 * 13.0))
            .sum::<f64>()
            / 10.0;
        let p_e: f64 = [20.0f64, 28.0, 39.0, 21.0, 32.0]
            .iter()
            .map(|c| (c / 140.0).powi(2))
            .sum();
        assert!(close(p_bar, 0.378, 5e-4) && close(p_e, 0.213, 5e-4));
        let k = fleiss_kappa(&table).unwrap();
        assert!(close(k, (p_bar - p_e) / (1.0 - p_e), 1e-12), "{k}");
        assert!(close(k, 0.210, 5e-4), "{k}");
    }

    /// Variable raters, by hand: items (2,0) n=2 P=1; (1,1) n=2 P=0; (2,1)
    /// n=3 P=(4+1-3)/6=1/3; (0,3) n=3 P=1. P̄ = 7/12. Pooled: 5 and 5 of 10,
    /// P̄e = 0.5. kappa = (7/12 - 1/2) / (1/2) = 1/6. The item with a single
    /// rating is left out.
    #[test]
    fn fleiss_variable_raters_by_hand() {
        let items = vec![vec![2, 0], vec![1, 1], vec![2, 1], vec![0, 3], vec![1, 0]];
        let k = fleiss_kappa(&items).unwrap();
        assert!(close(k, 1.0 / 6.0, 1e-12), "{k}");
    }

    /// With two raters Fleiss' kappa is Scott's pi: on the yes/no table,
    /// pooled yes = 55/100, p_e = 0.55² + 0.45² = 0.505, pi = (0.7 -
    /// 0.505) / 0.495.
    #[test]
    fn fleiss_with_two_raters_is_scotts_pi() {
        let items: Vec<Vec<u64>> = yes_no_table()
            .iter()
            .map(|&(x, y)| vec![u64::from(x) + u64::from(y), u64::from(!x) + u64::from(!y)])
            .collect();
        let k = fleiss_kappa(&items).unwrap();
        assert!(close(k, 0.195 / 0.495, 1e-12), "{k}");
    }

    #[test]
    fn fleiss_is_undefined_without_rated_items_or_with_one_category() {
        assert_eq!(fleiss_kappa(&[]), None);
        assert_eq!(fleiss_kappa(&[vec![1, 0], vec![0, 1]]), None);
        assert_eq!(fleiss_kappa(&[vec![3, 0], vec![2, 0]]), None);
    }

    /// Newcombe (1998), "Two-sided confidence intervals for the single
    /// proportion", examples: 81/263 -> 0.2553-0.3662, 15/148 ->
    /// 0.0624-0.1605; at the edges: 0/10 -> upper z²/(n + z²), 10/10 ->
    /// lower n/(n + z²).
    #[test]
    fn wilson_matches_newcombes_examples_and_the_closed_forms_at_the_edges() {
        let (lo, hi) = wilson_interval(81, 263, Z95).unwrap();
        assert!(
            close(lo, 0.2553, 1e-4) && close(hi, 0.3662, 1e-4),
            "{lo} {hi}"
        );
        let (lo, hi) = wilson_interval(15, 148, Z95).unwrap();
        assert!(
            close(lo, 0.0624, 1e-4) && close(hi, 0.1605, 1e-4),
            "{lo} {hi}"
        );
        let z2 = Z95 * Z95;
        let (lo, hi) = wilson_interval(0, 10, Z95).unwrap();
        assert!(close(lo, 0.0, 1e-12) && close(hi, z2 / (10.0 + z2), 1e-12));
        let (lo, hi) = wilson_interval(10, 10, Z95).unwrap();
        assert!(close(lo, 10.0 / (10.0 + z2), 1e-12) && close(hi, 1.0, 1e-12));
    }

    #[test]
    fn accuracy_carries_its_interval_and_is_undefined_without_answers() {
        let a = Accuracy::new(6, 8).unwrap();
        assert!(close(a.value, 0.75, 1e-12));
        assert!(a.ci_low < 0.75 && 0.75 < a.ci_high);
        assert_eq!(Accuracy::new(0, 0), None);
        assert_eq!(Accuracy::new(3, 2), None);
    }
}
