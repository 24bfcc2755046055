//! Statistics on a small store with hand-computed expectations: labels in
//! both orders, a retraction, a can't-tell, model labels and scores.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;
use crate::store::{
    NewPreference, NewProduct, NewRender, NewScore, Outcome, PairItem, PreferenceSource,
    ProductSettings, Store,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn renders(store: &Store, n: u64) -> Vec<PairItem> {
    let product = store
        .insert_product(&NewProduct {
            title: "Mug".to_string(),
            source_name: "mug.png".to_string(),
            image_hash: "a".repeat(64),
            image_ext: "png".to_string(),
            width: 4,
            height: 4,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        })
        .unwrap();
    (0..n)
        .map(|i| {
            let id = store
                .insert_render(&NewRender {
                    product_id: product,
                    params_json: json!({"request": {"prompt": format!("scene {i}")}}),
                    seed: i,
                    model_ids_json: json!({}),
                    image_hash: format!("{i:064x}"),
                    image_path: format!("r{i}.png"),
                    width: 4,
                    height: 4,
                })
                .unwrap();
            PairItem::Render(id)
        })
        .collect()
}

fn label(store: &Store, a: PairItem, b: PairItem, outcome: Outcome, who: &str) {
    store
        .record_preference(&NewPreference::human(a, b, outcome, who))
        .unwrap();
}

fn model_label(store: &Store, a: PairItem, b: PairItem, outcome: Outcome, who: &str) {
    store
        .record_preference(&NewPreference {
            source: PreferenceSource::Model,
            left_is_a: None,
            model_p_a: Some(0.8),
            ..NewPreference::human(a, b, outcome, who)
        })
        .unwrap();
}

fn score(store: &Store, item: PairItem, model: &str, value: f64) {
    let PairItem::Render(render_id) = item else {
        panic!("not a render")
    };
    store
        .insert_score(&NewScore {
            render_id,
            model_id: model.to_string(),
            score: value,
            ctr: None,
            details_json: json!(null),
        })
        .unwrap();
}

/// r = renders 1..4; pairs p12, p13, p14, p23. Ratings on each unordered
/// pair (F = first item better, S = second):
/// alice p12 F, p13 S, p14 F, p23 tie; bob, who saw every pair the other
/// way round, p12 F, p13 S, p14 S, p23 can't tell; carol p12 S, p13 S;
/// dave's label is retracted.
fn world() -> (Store, Vec<PairItem>) {
    let store = Store::open_in_memory().unwrap();
    let r = renders(&store, 4);
    let (r1, r2, r3, r4) = (r[0], r[1], r[2], r[3]);
    label(&store, r1, r2, Outcome::A, "alice");
    label(&store, r1, r3, Outcome::B, "alice");
    label(&store, r1, r4, Outcome::A, "alice");
    label(&store, r2, r3, Outcome::Tie, "alice");
    label(&store, r2, r1, Outcome::B, "bob");
    label(&store, r3, r1, Outcome::A, "bob");
    label(&store, r4, r1, Outcome::A, "bob");
    label(&store, r3, r2, Outcome::CantTell, "bob");
    label(&store, r1, r2, Outcome::B, "carol");
    label(&store, r1, r3, Outcome::B, "carol");
    label(&store, r1, r2, Outcome::B, "dave");
    store.retract_last_preference("dave").unwrap();
    // rm-1 says r2 beats r1 (wrong) by label, though its scores say the
    // opposite: the label wins. Its scores say r3 beats r1 (right).
    model_label(&store, r2, r1, Outcome::A, "rm-1");
    score(&store, r1, "rm-1", 0.1);
    score(&store, r2, "rm-1", 0.05);
    score(&store, r3, "rm-1", 0.9);
    // rm-2 cannot separate r1 and r2; an older score of r1 is replaced.
    score(&store, r1, "rm-2", 0.9);
    score(&store, r1, "rm-2", 0.5);
    score(&store, r2, "rm-2", 0.5);
    (store, r)
}

#[test]
fn counts_leave_out_retracted_labels() {
    let (store, _) = world();
    let stats = prefs_stats(&store).unwrap();
    assert_eq!(stats.retracted, 1);
    assert_eq!(
        (
            stats.total.a,
            stats.total.b,
            stats.total.tie,
            stats.total.cant_tell
        ),
        (5, 4, 1, 1)
    );
    assert_eq!(stats.products.len(), 1);
    let p = &stats.products[0];
    assert_eq!(
        (p.human.a, p.human.b, p.human.tie, p.human.cant_tell),
        (4, 4, 1, 1)
    );
    assert_eq!((p.model.a, p.model.total(), p.pairs), (1, 1, 4));
    let names: Vec<(&str, u64, usize)> = stats
        .labelers
        .iter()
        .map(|l| (l.labeler.as_str(), l.counts.total(), l.pairs))
        .collect();
    assert_eq!(
        names,
        vec![
            ("alice", 4, 4),
            ("bob", 4, 4),
            ("carol", 2, 2),
            ("rm-1", 1, 1)
        ]
    );
    assert_eq!(stats.labelers[3].source, PreferenceSource::Model);
}

/// alice ~ bob share p12 (F,F), p13 (S,S), p14 (F,S): p_o = 2/3, p_e =
/// 2/3*1/3 + 1/3*2/3 = 4/9, kappa = 0.4 (only true after orienting bob's
/// labels). alice ~ carol and bob ~ carol: (F,S), (S,S): p_o = 1/2, p_e =
/// 1/2, kappa = 0.
#[test]
fn cohen_kappa_between_labelers_uses_oriented_ratings() {
    let (store, _) = world();
    let stats = prefs_stats(&store).unwrap();
    let got: Vec<(&str, &str, usize, usize)> = stats
        .between_labelers
        .iter()
        .map(|a| {
            (
                a.labeler_a.as_str(),
                a.labeler_b.as_str(),
                a.shared_pairs,
                a.agreeing,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("alice", "bob", 3, 2),
            ("alice", "carol", 2, 1),
            ("bob", "carol", 2, 1)
        ]
    );
    assert!(close(stats.between_labelers[0].kappa.unwrap(), 0.4));
    assert!(close(stats.between_labelers[1].kappa.unwrap(), 0.0));
    assert!(close(stats.between_labelers[2].kappa.unwrap(), 0.0));
}

/// Items with two raters or more: p12 (F2, S1), p13 (S3), p14 (F1, S1);
/// p23 has one rating (bob could not tell). P = 1/3, 1, 0 -> P̄ = 4/9;
/// pooled F 3/8, S 5/8 -> P̄e = 34/64; kappa = (4/9 - 17/32)/(15/32) = -5/27.
#[test]
fn fleiss_kappa_over_all_human_labelers() {
    let (store, _) = world();
    let all = prefs_stats(&store).unwrap().all_labelers;
    assert_eq!((all.labelers, all.pairs, all.ratings), (3, 3, 8));
    assert!(close(all.kappa.unwrap(), -5.0 / 27.0), "{all:?}");
}

/// Human verdicts: p12 r1 (2 to 1), p13 r3 (3 to 0); p14 is split and p23
/// has only a tie. rm-1: label on p12 (wrong), scores on p13 (right) ->
/// 1 of 2. rm-2: equal scores on p12, nothing on p13.
#[test]
fn reward_model_accuracy_on_human_decided_pairs() {
    let (store, _) = world();
    let vs = prefs_stats(&store).unwrap().people_vs_models;
    assert_eq!(vs.human_decided_pairs, 2);
    let rm1 = &vs.models[0];
    assert_eq!(rm1.model_id, "rm-1");
    assert_eq!((rm1.compared, rm1.from_labels, rm1.from_scores), (2, 1, 1));
    let acc = rm1.accuracy.unwrap();
    assert_eq!((acc.correct, acc.total), (1, 2));
    assert!(acc.ci_low < 0.5 && acc.ci_high > 0.5);
    let rm2 = &vs.models[1];
    assert_eq!(
        (rm2.model_id.as_str(), rm2.compared, rm2.undecided),
        ("rm-2", 0, 1)
    );
    assert_eq!(rm2.accuracy, None);
}

#[test]
fn an_empty_store_gives_empty_statistics_without_nan() {
    let store = Store::open_in_memory().unwrap();
    let stats = prefs_stats(&store).unwrap();
    assert_eq!(stats.total.total(), 0);
    assert!(stats.between_labelers.is_empty() && stats.products.is_empty());
    assert_eq!(stats.all_labelers.kappa, None);
    let json = serde_json::to_string(&stats).unwrap();
    assert!(!json.contains("NaN"), "{json}");
}
