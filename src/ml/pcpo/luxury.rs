//! A product-agnostic "attractive style" preference source, for the
//! PCPO-versus-DPO experiment: of two suggestions, the one with more
//! generic luxury words is preferred, whatever the product (ties give no
//! preference). Pure: no model, no store.
//!
//! The words ([`LUXURY_WORDS`]) describe an expensive look that fits any
//! ad: luxurious, luxury, opulent, lavish, sumptuous, glamorous, glamour,
//! elegant, elegance, exquisite, sophisticated, regal, premium, plush,
//! ornate, gilded, gold, golden, velvet, marble, crystal, chandelier, silk,
//! silky, satin, diamond, pearl, champagne. A word counts when a
//! whitespace- or punctuation-separated word of the text equals one of
//! them, case-insensitively, or equals one of them followed by `s`
//! (`chandeliers`, `pearls`).

use rand::seq::SliceRandom;
use rand::Rng;

/// The generic luxury words (lower case) that the preference source counts.
pub const LUXURY_WORDS: &[&str] = &[
    "luxurious",
    "luxury",
    "opulent",
    "lavish",
    "sumptuous",
    "glamorous",
    "glamour",
    "elegant",
    "elegance",
    "exquisite",
    "sophisticated",
    "regal",
    "premium",
    "plush",
    "ornate",
    "gilded",
    "gold",
    "golden",
    "velvet",
    "marble",
    "crystal",
    "chandelier",
    "silk",
    "silky",
    "satin",
    "diamond",
    "pearl",
    "champagne",
];

fn is_luxury_word(word: &str) -> bool {
    let word = word.to_lowercase();
    LUXURY_WORDS.contains(&word.as_str())
        || word
            .strip_suffix('s')
            .is_some_and(|stem| LUXURY_WORDS.contains(&stem))
}

/// How many words of `text` are luxury words (a repeated word counts each
/// time).
pub fn luxury_count(text: &str) -> usize {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty() && is_luxury_word(w))
        .count()
}

/// Which of two texts the source prefers: `Some(true)` for `a`,
/// `Some(false)` for `b`, `None` on a tie (equal counts).
pub fn prefers_first(a: &str, b: &str) -> Option<bool> {
    let (ca, cb) = (luxury_count(a), luxury_count(b));
    (ca != cb).then_some(ca > cb)
}

/// A preference between two texts of one pool, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LuxuryPair {
    /// Index of the preferred text (more luxury words).
    pub chosen: usize,
    /// Index of the other text.
    pub rejected: usize,
}

/// Up to `max_pairs` preferences among `texts`: every pair of distinct,
/// non-empty texts whose luxury counts differ is eligible; `max_pairs` of
/// them are drawn with `rng`, each text used as few times as possible (a
/// text appears in a second pair only when the unused texts cannot form
/// one). Ties are skipped, so a pool whose texts all have the same count
/// gives no pair.
pub fn luxury_pairs(texts: &[String], max_pairs: usize, rng: &mut impl Rng) -> Vec<LuxuryPair> {
    let mut eligible: Vec<LuxuryPair> = Vec::new();
    for a in 0..texts.len() {
        for b in a + 1..texts.len() {
            let (ta, tb) = (texts[a].trim(), texts[b].trim());
            if ta.is_empty() || tb.is_empty() || ta == tb {
                continue;
            }
            if let Some(first) = prefers_first(ta, tb) {
                let (chosen, rejected) = if first { (a, b) } else { (b, a) };
                eligible.push(LuxuryPair { chosen, rejected });
            }
        }
    }
    eligible.shuffle(rng);
    let mut uses = vec![0usize; texts.len()];
    let mut picked: Vec<LuxuryPair> = Vec::new();
    while picked.len() < max_pairs && !eligible.is_empty() {
        // The eligible pair whose texts were used least (first in the
        // shuffled order among equals).
        let best = (0..eligible.len())
            .min_by_key(|&i| uses[eligible[i].chosen] + uses[eligible[i].rejected])
            .unwrap_or(0);
        let pair = eligible.swap_remove(best);
        uses[pair.chosen] += 1;
        uses[pair.rejected] += 1;
        picked.push(pair);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn counts_whole_words_case_insensitively_with_plurals() {
        assert_eq!(luxury_count("Golden light on a MARBLE counter"), 2);
        assert_eq!(luxury_count("crystal chandeliers, silk; pearls"), 4);
        // Parts of words do not count.
        assert_eq!(luxury_count("goldfish in a marbled bowl"), 0);
        assert_eq!(luxury_count("gold gold gold"), 3);
        assert_eq!(luxury_count(""), 0);
    }

    #[test]
    fn prefers_the_text_with_more_luxury_words_and_skips_ties() {
        assert_eq!(prefers_first("velvet sofa", "wooden bench"), Some(true));
        assert_eq!(prefers_first("kitchen", "opulent golden hall"), Some(false));
        assert_eq!(prefers_first("silk", "satin"), None);
        assert_eq!(prefers_first("park", "beach"), None);
    }

    #[test]
    fn pairs_have_more_luxury_on_the_chosen_side_and_spread_the_texts() {
        let texts: Vec<String> = [
            "gold marble hall",
            "a forest path",
            "velvet chair",
            "a wooden desk",
            "",
            "a forest path",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let pairs = luxury_pairs(&texts, 2, &mut StdRng::seed_from_u64(3));
        assert_eq!(pairs.len(), 2);
        for p in &pairs {
            assert!(luxury_count(&texts[p.chosen]) > luxury_count(&texts[p.rejected]));
            assert!(!texts[p.rejected].is_empty());
        }
        // Two disjoint pairs exist, so no text is used twice.
        let mut used: Vec<usize> = pairs.iter().flat_map(|p| [p.chosen, p.rejected]).collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), 4, "{pairs:?}");
        // Asking for more than exist gives every eligible pair once.
        let all = luxury_pairs(&texts, 100, &mut StdRng::seed_from_u64(3));
        // gold(2)/velvet(1) > forest, desk, forest (x2 texts) and gold > velvet.
        assert_eq!(all.len(), 2 * 3 + 1);
    }

    #[test]
    fn a_pool_of_ties_gives_no_pairs() {
        let texts: Vec<String> = vec!["a park".into(), "a beach".into(), "golden".into()];
        let texts_tied: Vec<String> = texts[..2].to_vec();
        assert!(luxury_pairs(&texts_tied, 5, &mut StdRng::seed_from_u64(0)).is_empty());
        assert_eq!(
            luxury_pairs(&texts, 5, &mut StdRng::seed_from_u64(0)).len(),
            2
        );
    }
}
