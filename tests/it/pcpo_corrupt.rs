//! The corrupted product condition of PCPO is exactly as designed: which
//! tokens or patches are corrupted, how many, and the product swap.

use adstudio::ml::pcpo::{
    choose_corruption, corrupt_text, corrupted_count, donor_answer, mask_title, patch_grid,
    zero_patches, CorruptionChoice, PairBatch, PreferencePair, ProductPrompt, TextCorruption,
    TrainingSet,
};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::SeedableRng;

const MASK: u32 = 9999;

fn product(base: u32, len: usize, title: std::ops::Range<usize>) -> ProductPrompt {
    ProductPrompt {
        ids: (0..len as u32).map(|i| base + i).collect(),
        title,
    }
}

#[test]
fn seventy_five_percent_rounds_half_up_with_at_least_one() {
    let got: Vec<usize> = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 100]
        .iter()
        .map(|&n| corrupted_count(n))
        .collect();
    assert_eq!(got, vec![0, 1, 2, 2, 3, 4, 5, 6, 8, 9, 75]);
}

/// 6 of the 8 title tokens (positions 5..13) hold the mask id; every other
/// position, template included, keeps its token; the draw is seeded.
#[test]
fn masking_touches_only_title_tokens() {
    let p = product(100, 20, 5..13);
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let out = mask_title(&p, MASK, &mut StdRng::seed_from_u64(seed)).expect("mask");
        let again = mask_title(&p, MASK, &mut StdRng::seed_from_u64(seed)).expect("mask");
        assert_eq!(out, again, "not reproducible");
        let TextCorruption::MaskedTitle { positions } = &out.corruption else {
            panic!("{:?}", out.corruption)
        };
        assert_eq!(positions.len(), 6);
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert!(
            positions.iter().all(|q| (5..13).contains(q)),
            "{positions:?}"
        );
        for (i, (&got, &orig)) in out.ids.iter().zip(&p.ids).enumerate() {
            if positions.contains(&i) {
                assert_eq!(got, MASK, "position {i}");
            } else {
                assert_eq!(got, orig, "position {i} changed");
            }
        }
        seen.insert(positions.clone());
    }
    assert!(seen.len() > 10, "positions barely vary: {seen:?}");
}

/// Half of the pairs degrade their own prompt, half take another product's
/// prompt unchanged (never their own); each other product is a donor.
#[test]
fn half_degraded_half_swapped_with_another_product() {
    let products = vec![
        product(100, 12, 2..6),
        product(200, 9, 1..4),
        product(300, 15, 3..10),
    ];
    let mut rng = StdRng::seed_from_u64(7);
    let (mut degraded, mut donors) = (0, [0usize; 3]);
    let draws = 4000;
    for i in 0..draws {
        let own = i % 3;
        let out = corrupt_text(&products, own, MASK, &mut rng).expect("corrupt");
        match out.corruption {
            TextCorruption::MaskedTitle { positions } => {
                degraded += 1;
                let span = &products[own].title;
                assert_eq!(positions.len(), corrupted_count(span.len()));
                assert!(positions.iter().all(|q| span.contains(q)));
                assert_eq!(out.ids.len(), products[own].ids.len());
            }
            TextCorruption::Swapped { donor } => {
                assert_ne!(donor, own);
                assert_eq!(out.ids, products[donor].ids);
                donors[donor] += 1;
            }
        }
    }
    let share = degraded as f64 / draws as f64;
    assert!((0.47..=0.53).contains(&share), "degraded share {share}");
    assert!(donors.iter().all(|&d| d > 500), "donors {donors:?}");
}

#[test]
fn a_single_product_is_always_degraded() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..200 {
        assert_eq!(choose_corruption(1, 0, &mut rng), CorruptionChoice::Degrade);
    }
    let bad = product(1, 5, 3..3);
    assert!(mask_title(&bad, MASK, &mut rng).is_err());
    let outside = product(1, 5, 3..9);
    assert!(mask_title(&outside, MASK, &mut rng).is_err());
}

/// A 100x70 image has a 4x3 grid (partial edge patches count); 9 of the 12
/// patches become black, exactly their pixels, nothing else.
#[test]
fn zeroing_blanks_exactly_the_drawn_patches() {
    assert_eq!(patch_grid(100, 70), (4, 3));
    assert_eq!(patch_grid(64, 64), (2, 2));
    let original = RgbImage::from_fn(100, 70, |x, y| Rgb([(x % 250 + 1) as u8, (y + 1) as u8, 7]));
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..10 {
        let mut img = original.clone();
        let cells = zero_patches(&mut img, &mut StdRng::seed_from_u64(seed));
        assert_eq!(cells.len(), 9);
        let inside = |x: u32, y: u32| cells.contains(&(x / 32, y / 32));
        let mut black = 0u32;
        for (x, y, px) in img.enumerate_pixels() {
            if inside(x, y) {
                assert_eq!(px.0, [0, 0, 0], "({x},{y}) not zeroed");
                black += 1;
            } else {
                assert_eq!(px, original.get_pixel(x, y), "({x},{y}) changed");
            }
        }
        let area: u32 = cells
            .iter()
            .map(|&(c, r)| ((c * 32 + 32).min(100) - c * 32) * ((r * 32 + 32).min(70) - r * 32))
            .sum();
        assert_eq!(black, area);
        seen.insert(cells);
    }
    assert!(seen.len() > 5, "cells barely vary");
}

/// A mini-batch scores the pair's own chosen answer under its masked
/// prompt, and the other product's chosen answer under that product's
/// prompt (DESIGN.md: "with that product's chosen answer as y+'"); the
/// chosen/rejected rows use the true prompt. Both branches occur.
#[test]
fn batch_pairs_the_corrupted_prompt_with_the_designed_chosen_answer() {
    let products = vec![product(100, 12, 2..6), product(200, 9, 1..4)];
    let set = TrainingSet {
        products: products.clone(),
        pairs: vec![
            PreferencePair {
                product: 0,
                chosen: vec![1, 2, 3],
                rejected: vec![4, 5],
            },
            PreferencePair {
                product: 1,
                chosen: vec![6, 7],
                rejected: vec![8, 9, 10],
            },
        ],
        images: Vec::new(),
    };
    let mut swapped = 0;
    for seed in 0..8 {
        let batch =
            PairBatch::build(&set, &[1, 0], MASK, &mut StdRng::seed_from_u64(seed)).expect("batch");
        let mut rng = StdRng::seed_from_u64(seed);
        for (row, &i) in [1usize, 0].iter().enumerate() {
            let pair = &set.pairs[i];
            let own = &products[pair.product].ids;
            let want = corrupt_text(&products, pair.product, MASK, &mut rng).expect("corrupt");
            let c = &batch.corrupted[row];
            assert_eq!(&c.ids[..want.ids.len()], &want.ids[..]);
            let answer = match want.corruption {
                TextCorruption::Swapped { donor } => {
                    swapped += 1;
                    donor_answer(&set, donor).expect("donor")
                }
                TextCorruption::MaskedTitle { .. } => &pair.chosen[..],
            };
            assert_eq!(&c.ids[c.completion.clone()], answer);
            assert_eq!(
                batch.chosen[row].ids,
                [own.clone(), pair.chosen.clone()].concat()
            );
            assert_eq!(
                batch.rejected[row].ids,
                [own.clone(), pair.rejected.clone()].concat()
            );
        }
    }
    assert!((1..16).contains(&swapped), "{swapped} of 16 rows swapped");
}
