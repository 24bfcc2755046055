//! The Online PCPO window, driven headless with egui_kittest on the tiny
//! models of `cli_pcpo_online`: opened from the Adapters section, set to
//! every stored product, 2 rounds of 1-step renders; Estimate shows how
//! long a round takes before anything runs (no render stored); Start runs
//! the rounds on the model worker, the window lists each finished round
//! (the plots' data), the new adapters appear in the Adapters section and
//! the open product's new renders in the gallery;
//! Cancel during a second run stops it and keeps its finished rounds.

use std::time::{Duration, Instant};

use adstudio::app::{Command, OnlinePrefs, StudioApp};
use adstudio::paths::DataDir;
use adstudio::store::Store;
use adstudio::studio::online::OnlineSettings;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use crate::cli_pcpo_online::setup;
use crate::common::studio::{self, step_until};

fn prefs() -> OnlinePrefs {
    OnlinePrefs {
        all_products: true,
        settings: OnlineSettings {
            rounds: 2,
            steps: 1,
            short_side: Some(64),
            batch_size: 2,
            lr: 0.05,
            max_new_tokens: Some(12),
            ..OnlineSettings::default()
        },
    }
}

fn render_count(store: &Store, app: &StudioApp) -> usize {
    app.products()
        .iter()
        .map(|p| store.renders_for_product(p.id).expect("renders").len())
        .sum()
}

fn open_window(harness: &mut Harness<'static, StudioApp>) {
    step_until(harness, "products listed", |app| app.products().len() == 2);
    let id = harness.state().products()[0].id.0;
    harness.state_mut().handle_command(Command::OpenStored(id));
    step_until(harness, "product opened", |app| app.session().is_some());
    harness.get_by_label("Online PCPO…").click();
    // A new window takes a sizing frame before its contents are shown.
    harness.run_steps(3);
    assert!(harness.state().online().open, "the button opens the window");
    harness
        .get_by_role_and_label(Role::RadioButton, "All stored products (2)")
        .click();
    harness.run_steps(2);
    assert!(harness.state().prefs().online.all_products);
    harness
        .state_mut()
        .handle_command(Command::SetOnlinePrefs(prefs()));
}

#[test]
fn online_window_estimates_runs_plots_and_cancels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, _) = setup(dir.path());
    let store = Store::open(&DataDir::at(&data).expect("dir").database_path()).expect("store");
    let mut harness = studio::studio(&data, egui::vec2(1400.0, 1000.0));
    open_window(&mut harness);

    harness.get_by_label("Estimate").click();
    step_until(&mut harness, "estimate", |app| {
        app.online().estimate.is_some() && !app.online().is_busy()
    });
    let estimate = harness.state().online().estimate.expect("estimate");
    assert_eq!(
        (estimate.products, estimate.steps, estimate.rounds),
        (2, 1, 2)
    );
    assert!(estimate.per_round() > 0.0);
    harness.get_by_label(&format!("Estimate (this CPU): {}", estimate.summary()));
    assert_eq!(
        render_count(&store, harness.state()),
        0,
        "estimating stores nothing"
    );

    harness.get_by_label("Start").click();
    step_until(&mut harness, "two rounds", |app| {
        app.online().rounds.len() == 2 && !app.online().is_busy()
    });
    let online = harness.state().online();
    let (text, error) = online.message.clone().expect("a message");
    assert!(!error && text.starts_with("Finished 2 round(s)"), "{text}");
    let names: Vec<String> = online.rounds.iter().map(|r| r.adapter.clone()).collect();
    assert!(
        names[0].ends_with("-r1") && names[1].ends_with("-r2"),
        "{names:?}"
    );
    // A product whose two suggestions come out identical, or whose pair
    // the reward model calls a tie, sits a round out (the tiny prompt
    // model often writes the same plan twice): at least one pair a round.
    assert!(
        online
            .rounds
            .iter()
            .all(|r| r.loss.is_finite() && (1..=2).contains(&r.pairs)),
        "{:?}",
        online.rounds.iter().map(|r| r.pairs).collect::<Vec<_>>()
    );
    // Each product that gave a pair stored its 2 renders; one that sat
    // the round out stored none.
    let reported: usize = online.rounds.iter().map(|r| r.renders).sum();
    assert!(
        online
            .rounds
            .iter()
            .all(|r| r.renders % 2 == 0 && r.renders >= 2 * r.pairs),
        "{:?}",
        online.rounds.iter().map(|r| r.renders).collect::<Vec<_>>()
    );
    assert_eq!(render_count(&store, harness.state()), reported);
    step_until(&mut harness, "adapters listed", |app| {
        app.adapters().listed.len() == 2
    });
    // The open product's new renders reach the gallery.
    let open = harness.state().products()[0].id;
    let open_renders = store.renders_for_product(open).expect("renders").len();
    assert!(open_renders <= reported);
    step_until(&mut harness, "renders in the gallery", |app| {
        app.gallery()
            .tiles
            .iter()
            .filter(|t| t.done().is_some())
            .count()
            == open_renders
    });
    for name in &names {
        // Listed in the Adapters section and in the window's round table.
        harness.get_by_role_and_label(Role::RadioButton, name);
        assert_eq!(harness.query_all_by_label(name.as_str()).count(), 2);
    }
    harness.get_by_label("2/2");

    // A second run, cancelled once its first round is done.
    harness.get_by_label("Start").click();
    let deadline = Instant::now() + Duration::from_secs(120);
    while harness.state().online().rounds.len() != 1 || !harness.state().online().is_busy() {
        harness.step();
        assert!(Instant::now() < deadline, "no first round of the new run");
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.get_by_label("Cancel").click();
    step_until(&mut harness, "cancelled", |app| !app.online().is_busy());
    let online = harness.state().online();
    assert_eq!(online.rounds.len(), 1);
    let (text, _) = online.message.clone().expect("a message");
    assert!(
        text.starts_with("Stopped after 1 finished round(s)"),
        "{text}"
    );
    assert_eq!(store.list_adapters().expect("adapters").len(), 3);
}
