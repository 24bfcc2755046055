//! The preference statistics window of the studio, driven headless with
//! egui_kittest: a store with known labels (three people on shared pairs,
//! a reward model's picks) shows the numbers `prefs_stats` computes
//! (counts, Cohen's kappa per labeler pair with the shared pair counts,
//! Fleiss' kappa, the model's accuracy with its 95% CI), and they are read
//! again after a label is given in the labelling mode.

use std::path::Path;

use adstudio::app::StudioApp;
use adstudio::prefs::prefs_stats;
use adstudio::store::{NewPreference, Outcome, PairItem, PreferenceSource, Store};
use adstudio::ui::{accuracy_text, kappa_text};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use crate::common::label_store::{database, drawn_products};
use crate::common::studio::{step_until, studio};

/// Labels of `labeler` with these outcomes on the pairs, in order.
fn label(store: &Store, pairs: &[(PairItem, PairItem)], labeler: &str, outcomes: &[Outcome]) {
    for (&(a, b), &outcome) in pairs.iter().zip(outcomes) {
        store
            .record_preference(&NewPreference::human(a, b, outcome, labeler))
            .expect("label");
    }
}

/// Four renders (six pairs): ana and ben label all six, cy three of
/// them, and a reward model picks on four.
fn store_with_known_labels(data: &Path) {
    let products = drawn_products(data, &["Ceramic mug"], 4, |p, r| format!("scene {p}-{r}"));
    let items: Vec<PairItem> = products[0].1.iter().map(|&r| PairItem::Render(r)).collect();
    let mut pairs = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            pairs.push((items[i], items[j]));
        }
    }
    use Outcome::{Tie, A, B};
    let store = Store::open(&database(data)).expect("store");
    label(&store, &pairs, "ana", &[A, A, B, B, Tie, A]);
    label(&store, &pairs, "ben", &[A, B, B, B, Tie, B]);
    label(&store, &pairs, "cy", &[A, A, B]);
    for (&(a, b), outcome) in pairs.iter().zip([A, B, B, A]) {
        store
            .record_preference(&NewPreference {
                a,
                b,
                left_is_a: None,
                outcome,
                source: PreferenceSource::Model,
                labeler: "compact-rm:test".into(),
                model_p_a: Some(if outcome == A { 0.8 } else { 0.2 }),
            })
            .expect("model label");
    }
}

fn has_text(harness: &Harness<'_, StudioApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn stats_window_shows_prefs_stats_and_follows_new_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    store_with_known_labels(&data);
    let expected = prefs_stats(&Store::open(&database(&data)).expect("store")).expect("stats");
    assert_eq!(expected.between_labelers.len(), 3, "{expected:#?}");
    assert!(expected.all_labelers.kappa.is_some());
    assert_eq!(expected.people_vs_models.models.len(), 1);

    let mut harness = studio(&data, egui::vec2(1400.0, 1000.0));
    harness.state_mut().prefs_mut().labeler = "dee".into();
    harness.step();
    harness.get_by_label("Label").click();
    step_until(&mut harness, "labelling open", |app| {
        app.labelling().screen.is_some()
    });
    harness.get_by_label("Preference stats").click();
    step_until(&mut harness, "stats read", |app| {
        app.labelling().stats.current.is_some()
    });
    harness.run_steps(2);
    let shown = harness
        .state()
        .labelling()
        .stats
        .current
        .clone()
        .expect("stats");
    assert_eq!(shown, expected, "the panel's numbers are prefs_stats'");

    for agreement in &expected.between_labelers {
        let pair = format!("{} ~ {}", agreement.labeler_a, agreement.labeler_b);
        assert!(has_text(&harness, &pair), "{pair}");
        assert!(has_text(&harness, &kappa_text(agreement.kappa)), "{pair}");
    }
    let fleiss = format!(
        "Fleiss' kappa: {} ({} labelers, {} pairs",
        kappa_text(expected.all_labelers.kappa),
        expected.all_labelers.labelers,
        expected.all_labelers.pairs
    );
    assert!(has_text(&harness, &fleiss), "{fleiss}");
    let model = &expected.people_vs_models.models[0];
    let (accuracy, ci) = accuracy_text(model.accuracy);
    assert!(model.accuracy.is_some());
    assert!(has_text(&harness, &accuracy), "{accuracy}");
    assert!(has_text(&harness, &ci), "{ci}");
    assert!(has_text(&harness, "compact-rm:test"));
    let total = format!("{} active labels", expected.total.total());
    assert!(has_text(&harness, &total), "{total}");

    // A label given in the mode refreshes the open window.
    harness.key_press(egui::Key::A);
    step_until(&mut harness, "stats after a label", |app| {
        app.labelling()
            .stats
            .current
            .as_ref()
            .is_some_and(|s| s.total.total() == expected.total.total() + 1)
    });
    harness.run_steps(2);
    let total = format!("{} active labels", expected.total.total() + 1);
    assert!(has_text(&harness, &total), "{total}");
    assert!(harness
        .state()
        .labelling()
        .stats
        .current
        .as_ref()
        .is_some_and(|s| s.labelers.iter().any(|l| l.labeler == "dee")));
}
