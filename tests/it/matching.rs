//! The "matches the product" threshold and the category guess, measured
//! with the real all-MiniLM-L6-v2 on the title set
//! (`tests/fixtures/titles/titles.tsv`) and its hand-written backgrounds
//! (`backgrounds.tsv`, 3 per title; see the README there).
//!
//! Needs `ADSTUDIO_MINILM` (`eval "$(.ci/fetch-minilm.sh DIR)"`); the
//! fixture root comes from `ADSTUDIO_FIXTURES`.

#![allow(clippy::unwrap_used)]

use crate::common::fixtures;
use crate::common::models;

use adstudio::ml::prompt_model::category_kinds::kind_phrases;
use adstudio::ml::prompt_model::matching::{
    calibrate, guess_category, guess_category_with, guess_text, product_text, Calibration,
    CATEGORIES, MATCH_THRESHOLD,
};
use adstudio::ml::prompt_model::prompt_title;
use adstudio::ml::relevance::{cosine, RelevanceModel};
use candle_core::Device;

/// One line of `titles.tsv`.
struct Title {
    split: String,
    category: String,
    title: String,
}

/// One line of `backgrounds.tsv`.
struct Background {
    split: String,
    /// 0-based index into the titles.
    title: usize,
    text: String,
}

/// The data lines of a tab-separated fixture, split in `n` fields, after
/// checking its header.
fn tsv(name: &str, header: &str, n: usize) -> Vec<Vec<String>> {
    let path = fixtures::fixture_dir("titles").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{}", path.display());
    lines
        .map(|l| {
            let f: Vec<String> = l.split('\t').map(str::to_string).collect();
            assert_eq!(f.len(), n, "{}: {l}", path.display());
            f
        })
        .collect()
}

fn titles() -> Vec<Title> {
    tsv("titles.tsv", "split\tcategory\ttitle", 3)
        .into_iter()
        .map(|f| Title {
            split: f[0].clone(),
            category: f[1].clone(),
            title: f[2].clone(),
        })
        .collect()
}

fn backgrounds(titles: &[Title]) -> Vec<Background> {
    tsv("backgrounds.tsv", "split\ttitle_line\tbackground", 3)
        .into_iter()
        .map(|f| {
            let line: usize = f[1].parse().expect("title_line");
            assert!((1..=titles.len()).contains(&line), "title_line {line}");
            assert_eq!(f[0], titles[line - 1].split, "split of line {line}");
            Background {
                split: f[0].clone(),
                title: line - 1,
                text: f[2].clone(),
            }
        })
        .collect()
}

fn model() -> RelevanceModel {
    RelevanceModel::load(&models::minilm_dir(), &Device::Cpu).expect("load all-MiniLM-L6-v2")
}

fn embed(model: &RelevanceModel, texts: &[String]) -> Vec<Vec<f32>> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    model.embed(&refs).expect("embed")
}

/// Positive and negative cosines for the titles of `split`, given each
/// title's product-text embedding: positives with the title's own
/// backgrounds, negatives with the backgrounds of titles of other
/// categories. The tune split sees only tune backgrounds; the holdout
/// titles are scored against all other-category backgrounds.
fn scores(
    split: &str,
    titles: &[Title],
    bgs: &[Background],
    products: &[Vec<f32>],
    bg_emb: &[Vec<f32>],
) -> (Vec<f32>, Vec<f32>) {
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for (i, t) in titles.iter().enumerate().filter(|(_, t)| t.split == split) {
        for (b, e) in bgs.iter().zip(bg_emb) {
            if split == "tune" && b.split != "tune" {
                continue;
            }
            let s = cosine(&products[i], e);
            if b.title == i {
                pos.push(s);
            } else if titles[b.title].category != t.category {
                neg.push(s);
            }
        }
    }
    (pos, neg)
}

/// The rates of a given `threshold` on the scores.
fn rates_at(threshold: f32, pos: &[f32], neg: &[f32]) -> Calibration {
    let tpr = pos.iter().filter(|&&s| s >= threshold).count() as f64 / pos.len() as f64;
    let tnr = neg.iter().filter(|&&s| s < threshold).count() as f64 / neg.len() as f64;
    Calibration {
        threshold,
        true_positive_rate: tpr,
        true_negative_rate: tnr,
        balanced_accuracy: (tpr + tnr) / 2.0,
    }
}

/// Area under the ROC curve: the share of (positive, negative) pairs the
/// positive wins (ties count half).
fn auc(pos: &[f32], neg: &[f32]) -> f64 {
    let mut wins = 0.0;
    for p in pos {
        for n in neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// Everything embedded once.
struct Measured {
    titles: Vec<Title>,
    bgs: Vec<Background>,
    bg_emb: Vec<Vec<f32>>,
    /// Index into `CATEGORIES` guessed for each title.
    guessed: Vec<usize>,
}

fn measure(model: &RelevanceModel) -> Measured {
    let titles = titles();
    let bgs = backgrounds(&titles);
    let bg_emb = embed(
        model,
        &bgs.iter().map(|b| b.text.clone()).collect::<Vec<_>>(),
    );
    let kind_emb = embed(
        model,
        &kind_phrases()
            .into_iter()
            .map(|(_, k)| k.to_string())
            .collect::<Vec<_>>(),
    );
    let plain = embed(
        model,
        &titles
            .iter()
            .map(|t| guess_text(&t.title))
            .collect::<Vec<_>>(),
    );
    let guessed = plain.iter().map(|e| guess_category(e, &kind_emb)).collect();
    Measured {
        titles,
        bgs,
        bg_emb,
        guessed,
    }
}

impl Measured {
    /// For the product texts `text(title, index)`: the tune calibration,
    /// the holdout rates at its threshold, and the tune and holdout areas
    /// under the ROC curve.
    fn calibrate_with(
        &self,
        model: &RelevanceModel,
        text: impl Fn(&Title, usize) -> String,
    ) -> (Calibration, Calibration, f64, f64) {
        let texts: Vec<String> = self
            .titles
            .iter()
            .enumerate()
            .map(|(i, t)| text(t, i))
            .collect();
        let products = embed(model, &texts);
        let (tp, tn) = scores("tune", &self.titles, &self.bgs, &products, &self.bg_emb);
        let (hp, hn) = scores("holdout", &self.titles, &self.bgs, &products, &self.bg_emb);
        let tune = calibrate(&tp, &tn);
        let holdout = rates_at(tune.threshold, &hp, &hn);
        (tune, holdout, auc(&tp, &tn), auc(&hp, &hn))
    }

    /// Share of titles whose guessed category is their TSV category.
    fn category_accuracy(&self) -> f64 {
        let hits = self
            .titles
            .iter()
            .zip(&self.guessed)
            .filter(|(t, &g)| CATEGORIES[g].name == t.category)
            .count();
        hits as f64 / self.titles.len() as f64
    }
}

#[test]
fn every_title_has_three_backgrounds_of_10_to_30_words() {
    let titles = titles();
    let bgs = backgrounds(&titles);
    for i in 0..titles.len() {
        let own: Vec<&Background> = bgs.iter().filter(|b| b.title == i).collect();
        assert_eq!(own.len(), 3, "title line {}", i + 1);
    }
    for b in &bgs {
        let words = b.text.split_whitespace().count();
        assert!((10..=30).contains(&words), "{words} words: {}", b.text);
    }
    let mut texts: Vec<&str> = bgs.iter().map(|b| b.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), bgs.len(), "duplicate backgrounds");
}

/// Recomputes [`MATCH_THRESHOLD`]: product text = whole title + guessed
/// category name, calibrated on the tune split.
///
/// Measured (categories guessed by product kinds): threshold 0.2368; tune
/// TPR 0.846, TNR 0.732, balanced accuracy 0.789 (78 positives, 1800
/// negatives); holdout at that threshold TPR 0.863, TNR 0.769, balanced
/// accuracy 0.816 (51 positives, 1947 negatives). With the one-line
/// category texts: tune 0.782, holdout 0.815, same threshold. The issue
/// hoped for 0.85 on the holdout; 0.816 is what
/// this relevance model reaches (asserted >= 0.80).
#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn match_threshold_is_the_tune_calibration() {
    let model = model();
    let m = measure(&model);
    let (tune, holdout, _, _) = m.calibrate_with(&model, |t, i| {
        product_text(&t.title, Some(CATEGORIES[m.guessed[i]].name))
    });
    eprintln!("tune {tune:?}\nholdout {holdout:?}");
    assert!(
        (tune.threshold - MATCH_THRESHOLD).abs() <= 0.01,
        "calibrated {} vs MATCH_THRESHOLD {MATCH_THRESHOLD}",
        tune.threshold
    );
    assert!(tune.balanced_accuracy >= 0.77, "{tune:?}");
    assert!(holdout.balanced_accuracy >= 0.80, "{holdout:?}");
}

/// [`guess_category_with`]'s choice among [`CATEGORIES`] (16 names)
/// against the TSV category (exact name).
///
/// Measured with the category kinds: 42 of 43 (0.977; tune 25 of 26, holdout
/// 17 of 17; the miss: running shoes as sports). With the one-line category
/// texts it was 38 of 43 (tune 25, holdout 13).
#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn category_guess_accuracy() {
    let model = model();
    let m = measure(&model);
    for (t, &g) in m.titles.iter().zip(&m.guessed) {
        if CATEGORIES[g].name != t.category {
            eprintln!(
                "{} guessed as {}: {}",
                t.category, CATEGORIES[g].name, t.title
            );
        }
    }
    let accuracy = m.category_accuracy();
    eprintln!("category accuracy {accuracy:.3}");
    assert!(accuracy >= 0.95, "{accuracy}");
    // The convenience function agrees with the batch used above.
    for i in [0, 8, 27] {
        let got = guess_category_with(&model, &m.titles[i].title).expect("guess");
        assert_eq!(got.name, CATEGORIES[m.guessed[i]].name, "title {i}");
    }
}

/// The same guess on the title sets written after the category kinds
/// were (`fresh.tsv`, then `fresh2.tsv`, by helpers that saw no code):
/// "pets" in `fresh.tsv` is [`CATEGORIES`]' "pet supplies"; categories
/// that are not among the 16 ("tools") are left out of the rate.
///
/// Measured: fresh 24 of 24 (the kinds were then tuned on it: a
/// pour-over dripper, a teapot); fresh2 (never tuned on) 32 of 34
/// (a baby feeding set as home & kitchen, a cat water fountain as drinks);
/// the one-line category texts guessed 27 of 34.
#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn category_guess_on_the_fresh_title_sets() {
    let model = model();
    for (file, floor) in [("fresh.tsv", 0.95), ("fresh2.tsv", 0.8)] {
        let rows = tsv(file, "split\tcategory\ttitle", 3);
        let (mut right, mut scored) = (0, 0);
        for f in &rows {
            let want = if f[1] == "pets" {
                "pet supplies"
            } else {
                f[1].as_str()
            };
            if !CATEGORIES.iter().any(|c| c.name == want) {
                continue;
            }
            scored += 1;
            let got = guess_category_with(&model, &f[2]).expect("guess");
            if got.name == want {
                right += 1;
            } else {
                eprintln!("{file}: {want} guessed as {}: {}", got.name, f[2]);
            }
        }
        let rate = f64::from(right) / f64::from(scored);
        eprintln!(
            "{file}: {right} of {scored} ({rate:.3}) of {} titles",
            rows.len()
        );
        assert!(scored >= 20 && rate >= floor, "{file}: {rate}");
    }
}

/// The choice of [`product_text`], by the area under the ROC curve on the
/// tune split (less noisy than the balanced accuracy at one threshold):
/// whole title + guessed category name 0.845; shortened title
/// (`prompt_title`) + name 0.839; whole title + name and descriptive words
/// 0.838; whole title alone 0.835.
#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn whole_title_and_category_name_separate_best() {
    let model = model();
    let m = measure(&model);
    let name = |i: usize| CATEGORIES[m.guessed[i]].name;
    let chosen = m
        .calibrate_with(&model, |t, i| product_text(&t.title, Some(name(i))))
        .2;
    let short = m
        .calibrate_with(&model, |t, i| {
            let title = prompt_title(&t.title).expect("title").text;
            product_text(&title, Some(name(i)))
        })
        .2;
    let words = m
        .calibrate_with(&model, |t, i| {
            product_text(&t.title, Some(&CATEGORIES[m.guessed[i]].text()))
        })
        .2;
    let bare = m
        .calibrate_with(&model, |t, _| product_text(&t.title, None))
        .2;
    eprintln!("tune AUC: chosen {chosen:.4}, shortened {short:.4}, with words {words:.4}, no category {bare:.4}");
    assert!(chosen > short && chosen > words && chosen > bare);
    assert!(chosen >= 0.84, "{chosen}");
}
