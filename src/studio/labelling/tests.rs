//! Session tests on real (temporary) stores.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::store::{
    unordered, ClickLogKind, ImageStore, NewClickImport, NewCreative, NewProduct, NewRender,
    NewScore, Outcome, PairItem, PreferenceSource, ProductId, ProductSettings, RenderId, Store,
};

fn product(store: &Store, title: &str) -> ProductId {
    store
        .insert_product(&NewProduct {
            title: title.to_string(),
            source_name: format!("{title}.png"),
            image_hash: "0".repeat(64),
            image_ext: "png".to_string(),
            width: 8,
            height: 8,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        })
        .unwrap()
}

/// `n` renders of `product`, the way the studio stores their parameters.
fn renders(store: &Store, product: ProductId, n: u64) -> Vec<RenderId> {
    (0..n)
        .map(|i| {
            store
                .insert_render(&NewRender {
                    product_id: product,
                    params_json: json!({"request": {"params": {"prompt": format!("prompt {i}")}}}),
                    seed: 100 + i,
                    model_ids_json: json!([]),
                    image_hash: "1".repeat(64),
                    image_path: format!("/images/{}-{i}.png", product.0),
                    width: 8,
                    height: 8,
                })
                .unwrap()
        })
        .collect()
}

/// Scores the renders as the studio does: strengths and all-pairs p_win,
/// with P(i beats j) = `p(i, j)`.
fn score(store: &Store, ids: &[RenderId], p: impl Fn(usize, usize) -> f64) {
    for (i, &id) in ids.iter().enumerate() {
        let p_win: serde_json::Map<String, serde_json::Value> = ids
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, other)| (other.0.to_string(), json!(p(i, j))))
            .collect();
        store
            .insert_score(&NewScore {
                render_id: id,
                model_id: "rm-1".into(),
                score: i as f64,
                ctr: Some(0.01),
                details_json: json!({"kind": "pairwise-rm", "rank": 1, "p_win": p_win}),
            })
            .unwrap();
    }
}

fn open(store: &Store, labeler: &str, scope: Scope, seed: u64) -> LabelSession {
    LabelSession::open(
        store,
        &ImageStore::new("/nonexistent"),
        labeler,
        &scope,
        seed,
    )
    .unwrap()
}

fn pair_key(pair: &ShownPair) -> (PairItem, PairItem) {
    unordered(pair.left.item, pair.right.item)
}

#[test]
fn answer_commits_one_label_with_the_shown_side_and_reveals() {
    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    let ids = renders(&store, p, 3);
    score(&store, &ids, |i, j| if i < j { 0.7 } else { 0.3 });
    let mut session = open(&store, "  ann ", Scope::All, 5);
    assert_eq!(session.labeler(), "ann");
    for answer in [Answer::Left, Answer::Right, Answer::Tie] {
        let shown = session.current().unwrap().clone();
        assert_eq!(shown.title, "mug");
        assert_eq!(shown.group, GroupKey::Product(p));
        let committed = session.answer(&store, answer).unwrap();
        let row = store.preference(committed.id.unwrap()).unwrap().unwrap();
        assert_eq!((row.a, row.b), pair_key(&shown), "stored smaller first");
        let left_is_a = row.left_is_a.unwrap();
        assert_eq!(left_is_a, shown.left.item == row.a);
        let expected = match answer {
            Answer::Left => shown.left.item,
            Answer::Right => shown.right.item,
            _ => {
                assert_eq!(row.outcome, Outcome::Tie);
                continue;
            }
        };
        let preferred = if row.outcome == Outcome::A {
            row.a
        } else {
            row.b
        };
        assert_eq!(preferred, expected, "{answer:?} -> {:?}", row.outcome);
        assert_eq!(row.source, PreferenceSource::Human);
        assert_eq!(row.labeler, "ann");
        // The reveal names the same sides, with prompts, seeds and p.
        let reveal = &committed.reveal;
        assert_eq!(reveal.left.item, shown.left.item);
        assert_eq!(reveal.right.item, shown.right.item);
        assert_eq!(reveal.outcome, row.outcome);
        let PairItem::Render(left_id) = shown.left.item else {
            panic!("renders expected")
        };
        let k = ids.iter().position(|&r| r == left_id).unwrap();
        assert_eq!(reveal.left.hidden.prompt, Some(format!("prompt {k}")));
        assert_eq!(reveal.left.hidden.seed, Some(100 + k as u64));
        assert_eq!(reveal.model_id.as_deref(), Some("rm-1"));
        let p_left = reveal.p_left.unwrap();
        let left_is_smaller = shown.left.item < shown.right.item;
        let expected_p = if left_is_smaller { 0.7 } else { 0.3 };
        assert!((p_left - expected_p).abs() < 1e-9, "{p_left}");
        let p_a = row.model_p_a.unwrap();
        assert!((p_a - 0.7).abs() < 1e-9, "model_p_a is P(a better): {p_a}");
    }
    assert!(session.current().is_none(), "3 renders have 3 pairs");
    assert!(matches!(
        session.answer(&store, Answer::Left),
        Err(LabelError::NoPair)
    ));
    assert_eq!(store.preference_counts().unwrap().total(), 3);
}

#[test]
fn undo_retracts_the_last_label_and_shows_its_pair_again() {
    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    renders(&store, p, 4);
    let mut session = open(&store, "ann", Scope::All, 1);
    let first = session.current().unwrap().clone();
    let c1 = session.answer(&store, Answer::Left).unwrap();
    let second = session.current().unwrap().clone();
    let c2 = session.answer(&store, Answer::Skip).unwrap();
    assert_ne!(pair_key(&first), pair_key(&second));

    let undone = session.undo(&store).unwrap().unwrap();
    assert_eq!(undone.id, c2.id.unwrap());
    assert!(undone.shown_again);
    assert_eq!(session.current(), Some(&second), "same pair, same sides");
    let undone = session.undo(&store).unwrap().unwrap();
    assert_eq!(undone.id, c1.id.unwrap());
    assert_eq!(session.current(), Some(&first));
    assert!(
        session.undo(&store).unwrap().is_none(),
        "nothing left to undo"
    );

    // History is kept: both rows are there, retracted, none counts.
    let all = store.preferences().unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.retracted_at.is_some()));
    assert_eq!(store.preference_counts().unwrap().total(), 0);
    assert_eq!(session.progress().overall.labelled, 0);

    // The pair can be labelled again after the undo.
    let again = session.answer(&store, Answer::Right).unwrap();
    assert_eq!(
        pair_key(&first),
        unordered(again.reveal.left.item, again.reveal.right.item)
    );
}

#[test]
fn progress_counts_the_group_and_the_whole_store() {
    let store = Store::open_in_memory().unwrap();
    let mug = product(&store, "mug");
    let lamp = product(&store, "lamp");
    renders(&store, mug, 3); // 3 pairs
    renders(&store, lamp, 4); // 6 pairs
    let mut session = open(&store, "ann", Scope::First(GroupKey::Product(lamp)), 2);
    let progress = session.progress();
    assert_eq!(
        progress.overall,
        PairCounts {
            labelled: 0,
            remaining: 9
        }
    );
    assert_eq!(
        progress.group,
        Some((
            GroupKey::Product(lamp),
            PairCounts {
                labelled: 0,
                remaining: 6
            }
        ))
    );
    for done in 1..=6 {
        assert_eq!(session.current().unwrap().group, GroupKey::Product(lamp));
        session.answer(&store, Answer::Tie).unwrap();
        assert_eq!(session.progress().overall.labelled, done);
    }
    // The lamp is done: the mug comes next, and its group is reported.
    let progress = session.progress();
    assert_eq!(session.current().unwrap().group, GroupKey::Product(mug));
    assert_eq!(
        progress.group,
        Some((
            GroupKey::Product(mug),
            PairCounts {
                labelled: 0,
                remaining: 3
            }
        ))
    );
    assert_eq!(progress.overall.remaining, 3);

    // Another labeler starts from zero; a new session of ann resumes.
    assert_eq!(
        open(&store, "bob", Scope::All, 0)
            .progress()
            .overall
            .labelled,
        0
    );
    let resumed = open(&store, "ann", Scope::All, 0);
    assert_eq!(resumed.progress().overall.labelled, 6);
    assert_eq!(resumed.current().unwrap().group, GroupKey::Product(mug));
}

#[test]
fn only_scope_stays_in_its_group_and_unknown_groups_fail() {
    let store = Store::open_in_memory().unwrap();
    let mug = product(&store, "mug");
    let lamp = product(&store, "lamp");
    renders(&store, mug, 3);
    renders(&store, lamp, 3);
    let mut session = open(&store, "ann", Scope::Only(GroupKey::Product(mug)), 3);
    let mut n = 0;
    while let Some(pair) = session.current() {
        assert_eq!(pair.group, GroupKey::Product(mug));
        session.answer(&store, Answer::Left).unwrap();
        n += 1;
    }
    assert_eq!(n, 3);
    let progress = session.progress();
    assert_eq!(progress.overall.remaining, 3, "the lamp's pairs remain");
    assert_eq!(
        progress.group.map(|(_, c)| c.remaining),
        Some(0),
        "the mug is done"
    );
    let err = LabelSession::open(
        &store,
        &ImageStore::new("/x"),
        "ann",
        &Scope::Only(GroupKey::Product(ProductId(99))),
        0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("product 99"), "{err}");
}

#[test]
fn empty_labeler_is_refused_and_small_pools_show_no_pair() {
    let store = Store::open_in_memory().unwrap();
    for name in ["", "   "] {
        let err =
            LabelSession::open(&store, &ImageStore::new("/x"), name, &Scope::All, 0).unwrap_err();
        assert!(matches!(err, LabelError::EmptyLabeler));
        assert!(err.to_string().contains("labeler"), "{err}");
    }
    let mut empty = open(&store, "ann", Scope::All, 0);
    assert!(empty.current().is_none());
    assert_eq!(empty.progress().overall.total(), 0);
    let p = product(&store, "single");
    renders(&store, p, 1);
    let mut single = open(&store, "ann", Scope::Only(GroupKey::Product(p)), 0);
    assert!(single.current().is_none());
    assert!(matches!(
        single.answer(&store, Answer::Left),
        Err(LabelError::NoPair)
    ));
    assert!(empty.undo(&store).unwrap().is_none());
}

#[test]
fn least_sure_pairs_come_first_in_a_session() {
    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    let ids = renders(&store, p, 4);
    // P(i beats j) grows with the distance: adjacent pairs are the closest.
    score(&store, &ids, |i, j| {
        let d = i as f64 - j as f64;
        1.0 / (1.0 + (-0.5 * d).exp())
    });
    let mut session = open(&store, "ann", Scope::All, 8);
    let mut margins = Vec::new();
    while session.current().is_some() {
        let c = session.answer(&store, Answer::Left).unwrap();
        margins.push((c.reveal.p_left.unwrap() - 0.5).abs());
    }
    assert_eq!(margins.len(), 6);
    assert!(
        margins.windows(2).all(|w| w[0] <= w[1] + 1e-12),
        "{margins:?}"
    );
}

#[test]
fn a_pair_labelled_elsewhere_is_not_labelled_twice() {
    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    renders(&store, p, 2);
    let mut one = open(&store, "ann", Scope::All, 0);
    let mut two = open(&store, "ann", Scope::All, 0);
    one.answer(&store, Answer::Left).unwrap();
    let err = two.answer(&store, Answer::Right).unwrap_err();
    assert!(matches!(err, LabelError::AlreadyLabelled { .. }), "{err}");
    assert!(two.current().is_none());
    assert_eq!(store.preferences().unwrap().len(), 1);
}

#[test]
fn reload_picks_up_new_renders_and_keeps_the_current_pair() {
    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    renders(&store, p, 2);
    let images = ImageStore::new("/nonexistent");
    let mut session = open(&store, "ann", Scope::Only(GroupKey::Product(p)), 0);
    let shown = session.current().unwrap().clone();
    renders(&store, p, 2);
    session.reload(&store, &images).unwrap();
    assert_eq!(session.current(), Some(&shown));
    assert_eq!(session.progress().overall.total(), 6);
}

/// Writes `n` tiny PNGs and imports them as creatives of `key`.
fn import_creatives(store: &Store, images: &ImageStore, dir: &Path, key: &str, n: usize) {
    let rows = (0..n)
        .map(|i| {
            let path = dir.join(format!("{key}-{i}.png"));
            image::RgbImage::from_pixel(4, 4, image::Rgb([i as u8 * 40, 10, 200]))
                .save(&path)
                .unwrap();
            NewCreative {
                line: i + 2,
                creative_id: format!("{key}-c{i}"),
                product_key: key.to_string(),
                image_source: path,
                impressions: 1000,
                clicks: 10 + i as u64,
            }
        })
        .collect();
    let summary = store
        .import_click_log(
            images,
            &NewClickImport {
                file: "clicks.csv".into(),
                format: ClickLogKind::Csv,
                rows,
                rejected_while_parsing: 0,
            },
        )
        .unwrap();
    assert_eq!(summary.kept.len(), n);
}

#[test]
fn creatives_are_labelled_within_their_product_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let images = ImageStore::new(dir.path().join("images"));
    import_creatives(&store, &images, dir.path(), "sku-1", 3);
    import_creatives(&store, &images, dir.path(), "sku-2", 2);
    let mut session = LabelSession::open(&store, &images, "ann", &Scope::All, 4).unwrap();
    assert_eq!(session.progress().overall.total(), 4);
    let mut seen = BTreeSet::new();
    while let Some(pair) = session.current().cloned() {
        assert!(pair.left.image_path.is_file(), "{:?}", pair.left.image_path);
        assert!(pair.right.image_path.is_file());
        let c = session.answer(&store, Answer::Right).unwrap();
        let (left, right) = (&c.reveal.left, &c.reveal.right);
        let key = |item: &LabelItem| {
            let id = item.hidden.creative_id.clone().unwrap();
            id.split("-c").next().unwrap().to_string()
        };
        assert_eq!(key(left), key(right), "pairs stay within a product key");
        assert_eq!(GroupKey::Creatives(key(left)), pair.group);
        assert_eq!(pair.title, key(left));
        assert!(left.hidden.observed_ctr.unwrap() > 0.0);
        assert!(c.reveal.p_left.is_none());
        let row = store.preference(c.id.unwrap()).unwrap().unwrap();
        assert!(matches!(row.a, PairItem::Creative(_)));
        assert!(seen.insert((row.a, row.b)), "pair repeated");
    }
    assert_eq!(seen.len(), 4);
}

/// The outbox keeps labels in its file across runs and, when flushed,
/// stores them in order; one whose pair the labeler already has in the
/// store (its COMMIT went through before the connection broke) is dropped,
/// not stored twice.
#[test]
fn the_outbox_survives_a_restart_and_never_stores_twice() {
    use crate::store::NewPreference;
    use crate::studio::labelling::outbox::{outbox_path, LabelOutbox};

    let store = Store::open_in_memory().unwrap();
    let p = product(&store, "mug");
    let ids = renders(&store, p, 3);
    let item = |i: usize| PairItem::Render(ids[i]);
    let dir = tempfile::tempdir().unwrap();
    let path = outbox_path(dir.path(), "ann o'neil");
    assert!(path.ends_with("label-outbox-ann_o_neil.jsonl"), "{path:?}");
    let first = NewPreference::human(item(0), item(1), Outcome::A, "ann");
    let second = NewPreference::human(item(1), item(2), Outcome::B, "ann");
    {
        let mut outbox = LabelOutbox::open(&path).unwrap();
        outbox.push(first.clone()).unwrap();
        outbox.push(second.clone()).unwrap();
    }
    // The first one reached the store after all.
    store.record_preference(&first).unwrap();
    let mut outbox = LabelOutbox::open(&path).unwrap();
    assert_eq!(outbox.pending(), &[first, second.clone()]);
    assert_eq!(outbox.flush(&store).unwrap(), 1);
    let rows = store.preferences_of("ann").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].a, rows[1].b, rows[1].outcome),
        (second.a, second.b, Outcome::B)
    );
    assert!(outbox.is_empty() && !path.exists());
    std::fs::write(&path, "{not json}\n").unwrap();
    let err = LabelOutbox::open(&path).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}
