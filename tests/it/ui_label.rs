//! The studio's labelling mode, driven headless with egui_kittest on a
//! temporary data dir holding a product with drawn renders: every key
//! (A, Left, L, Right, T, C, S, Backspace, Ctrl+Z) against the
//! `preferences` rows; the mode opened by its button and by Ctrl+L; the
//! labeler's name asked once and persisted; blind labelling (no prompt or
//! seed in the accesskit tree before the label, shown after); a render
//! deleted while shown.

use std::collections::HashMap;
use std::path::Path;

use adstudio::app::{Answer, Command, LabelScope, PairItem, StudioApp, UiPrefs};
use adstudio::store::{Outcome, PreferenceRow, PreferenceSource, Store};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use crate::common::label_store::{add_drawn_renders, database, drawn_ad, drawn_products};
use crate::common::studio::{step_until, studio};

/// The prompt of render `r` of product `p`: words that appear nowhere else
/// in the UI.
fn prompt(p: usize, r: usize) -> String {
    format!("sunlit marble counter {p}-{r}")
}

fn open_studio(data: &Path) -> Harness<'static, StudioApp> {
    studio(data, egui::vec2(1400.0, 900.0))
}

/// A studio whose saved labeler name is `name`.
fn studio_named(data: &Path, name: &str) -> Harness<'static, StudioApp> {
    let mut harness = open_studio(data);
    harness.state_mut().prefs_mut().labeler = name.to_string();
    harness.step();
    harness
}

/// The shown pair (left, right).
fn shown(app: &StudioApp) -> Option<(PairItem, PairItem)> {
    let pair = app.labelling().screen.as_ref()?.pair.as_ref()?;
    Some((pair.shown.left.item, pair.shown.right.item))
}

fn rows(data: &Path) -> Vec<PreferenceRow> {
    Store::open(&database(data))
        .expect("store")
        .preferences()
        .expect("preferences")
}

/// Steps until the labelling worker has answered and a pair is shown.
fn wait_for_pair(harness: &mut Harness<'_, StudioApp>, what: &str) {
    step_until(harness, what, |app| {
        app.labelling().job.is_none() && shown(app).is_some()
    });
}

/// Clicks the top bar's Label button and waits for the first pair.
fn open_by_button(harness: &mut Harness<'_, StudioApp>) {
    harness.get_by_label("Label").click();
    wait_for_pair(harness, "first pair shown");
}

/// The row of an answer to the pair shown as (left, right), as it must be
/// stored: `a` and `b` in canonical order, `left_is_a` the side `a` was
/// shown on, the outcome naming the preferred item.
fn check_row(row: &PreferenceRow, (left, right): (PairItem, PairItem), answer: Answer) {
    let (a, b) = if left < right {
        (left, right)
    } else {
        (right, left)
    };
    assert_eq!((row.a, row.b), (a, b), "canonical pair");
    assert_eq!(row.left_is_a, Some(left == a), "stored side");
    let expected = match answer {
        Answer::Left if left == a => Outcome::A,
        Answer::Left => Outcome::B,
        Answer::Right if right == a => Outcome::A,
        Answer::Right => Outcome::B,
        Answer::Tie => Outcome::Tie,
        Answer::CantTell => Outcome::CantTell,
        Answer::Skip => Outcome::Skip,
    };
    assert_eq!(row.outcome, expected, "{answer:?} on {left:?} | {right:?}");
    assert_eq!(row.source, PreferenceSource::Human);
    assert_eq!(row.labeler, "ana");
    assert!(row.is_active());
}

/// Each answer key labels the pair on screen with one committed row; the
/// next pair is another one. Backspace then Ctrl+Z retract the last two
/// labels (rows kept, retracted) and show their pairs again.
#[test]
fn every_key_labels_the_shown_pair_and_undo_retracts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 5, prompt);
    let mut harness = studio_named(&data, "ana");
    open_by_button(&mut harness);

    let keys = [
        (Key::A, Answer::Left),
        (Key::ArrowLeft, Answer::Left),
        (Key::L, Answer::Right),
        (Key::ArrowRight, Answer::Right),
        (Key::T, Answer::Tie),
        (Key::C, Answer::CantTell),
        (Key::S, Answer::Skip),
    ];
    let mut labelled = Vec::new();
    for (i, (key, answer)) in keys.into_iter().enumerate() {
        let pair = shown(harness.state()).expect("a pair is shown");
        harness.key_press(key);
        step_until(&mut harness, &format!("{key:?} stored"), |app| {
            app.labelling().job.is_none() && rows(&data).len() == i + 1
        });
        let all = rows(&data);
        check_row(&all[i], pair, answer);
        assert_ne!(shown(harness.state()), Some(pair), "the next pair is shown");
        labelled.push(pair);
    }
    let progress = harness
        .state()
        .labelling()
        .screen
        .as_ref()
        .expect("screen")
        .progress
        .clone();
    assert_eq!(progress.overall.labelled, 7);
    assert_eq!(progress.overall.remaining, 3);

    harness.key_press(Key::Backspace);
    step_until(&mut harness, "backspace undo", |app| {
        app.labelling().job.is_none() && rows(&data)[6].retracted_at.is_some()
    });
    assert_eq!(
        shown(harness.state()),
        Some(labelled[6]),
        "skipped pair back"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    step_until(&mut harness, "ctrl+z undo", |app| {
        app.labelling().job.is_none() && rows(&data)[5].retracted_at.is_some()
    });
    assert_eq!(shown(harness.state()), Some(labelled[5]));
    let all = rows(&data);
    assert_eq!(all.len(), 7, "undo keeps the rows");
    assert_eq!(all.iter().filter(|r| r.is_active()).count(), 5);
    assert!(harness.query_by_label_contains("undone").is_some());

    // The pair shown again is labelled anew on its stored side.
    let pair = shown(harness.state()).expect("pair");
    harness.key_press(Key::T);
    step_until(&mut harness, "relabelled", |app| {
        app.labelling().job.is_none() && rows(&data).len() == 8
    });
    check_row(&rows(&data)[7], pair, Answer::Tie);
}

/// The buttons do what the keys do.
#[test]
fn answer_buttons_label_like_the_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 3, prompt);
    let mut harness = studio_named(&data, "ana");
    open_by_button(&mut harness);
    let buttons = [
        ("Left better (A or Left)", Answer::Left),
        ("Right better (L or Right)", Answer::Right),
    ];
    for (i, (label, answer)) in buttons.into_iter().enumerate() {
        let pair = shown(harness.state()).expect("pair");
        harness.get_by_label(label).click();
        step_until(&mut harness, label, |app| {
            app.labelling().job.is_none() && rows(&data).len() == i + 1
        });
        check_row(&rows(&data)[i], pair, answer);
    }
    harness.get_by_label("Undo (Backspace / Ctrl+Z)").click();
    step_until(&mut harness, "undo button", |app| {
        app.labelling().job.is_none() && rows(&data)[1].retracted_at.is_some()
    });

    // Split view: one image over the other with the compare split.
    assert!(harness.query_by_label("Left image").is_some());
    harness.get_by_label("Split view").click();
    harness.run_steps(2);
    assert!(harness.state().labelling().split_view);
    assert!(harness.query_by_label("Left image").is_none());
    harness.get_by_role_and_label(egui::accesskit::Role::Slider, "Split");
    harness.state_mut().handle_command(Command::SetSplit(0.25));
    harness.step();
    assert_eq!(harness.state().gallery().split, 0.25);
    let pair = shown(harness.state()).expect("pair");
    harness.key_press(Key::A);
    step_until(&mut harness, "labelled in split view", |app| {
        app.labelling().job.is_none() && rows(&data).len() == 3
    });
    check_row(&rows(&data)[2], pair, Answer::Left);
}

/// An in-memory eframe storage.
#[derive(Default)]
struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

/// Ctrl+L opens the mode and asks the name; the name starts labelling;
/// Esc leaves; the button and Ctrl+L open it again without asking; the
/// name is in the saved prefs, and a studio started with them does not
/// ask either; Change name asks again.
#[test]
fn mode_opens_by_button_and_shortcut_and_the_name_is_asked_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 3, prompt);
    let mut harness = open_studio(&data);
    harness.step();
    assert!(!harness.state().labelling().open);

    harness.key_press_modifiers(Modifiers::COMMAND, Key::L);
    harness.run_steps(2);
    assert!(harness.state().labelling().open, "Ctrl+L opens the mode");
    assert!(harness.state().labelling().asking_name);
    harness.get_by_label("Who is labelling?");
    harness.get_by_label("Your name").focus();
    harness.step();
    harness.get_by_label("Your name").type_text("ana");
    harness.step();
    harness.key_press(Key::Enter);
    wait_for_pair(&mut harness, "pair after the name (Enter)");
    assert_eq!(harness.state().prefs().labeler, "ana");
    assert!(harness.query_by_label_contains("as ana").is_some());

    harness.key_press(Key::Escape);
    harness.run_steps(2);
    assert!(!harness.state().labelling().open, "Esc leaves");
    open_by_button(&mut harness);
    assert!(!harness.state().labelling().asking_name, "asked once");
    harness.get_by_label("Label").click();
    harness.run_steps(2);
    assert!(!harness.state().labelling().open, "the button leaves too");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::L);
    wait_for_pair(&mut harness, "reopened by Ctrl+L");
    assert!(!harness.state().labelling().asking_name);

    let mut storage = MemoryStorage::default();
    harness.state().prefs().save(&mut storage);
    let saved = UiPrefs::load(Some(&storage));
    assert_eq!(saved.labeler, "ana");
    drop(harness);

    let mut harness = open_studio(&data);
    *harness.state_mut().prefs_mut() = saved;
    harness.step();
    open_by_button(&mut harness);
    assert!(!harness.state().labelling().asking_name, "persisted name");
    harness.key_press(Key::A);
    step_until(&mut harness, "label after restart", |app| {
        app.labelling().job.is_none() && rows(&data).len() == 1
    });
    assert_eq!(rows(&data)[0].labeler, "ana");
    harness.get_by_label("Change name").click();
    harness.run_steps(2);
    assert!(harness.state().labelling().asking_name);
    assert_eq!(harness.state().labelling().name_draft, "ana");
    harness.get_by_label("Your name").type_text(" b");
    harness.step();
    harness.get_by_label("Start labelling").click();
    wait_for_pair(&mut harness, "pair after the new name");
    assert_eq!(harness.state().prefs().labeler, "ana b");
    assert!(!harness.state().labelling().asking_name);
}

/// Before a label the UI names no prompt and no seed of the shown pair;
/// after it, the reveal shows both prompts and seeds and the answer, while
/// the next pair is already shown; the reveal goes after its time.
#[test]
fn labelling_is_blind_until_the_label_is_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 4, prompt);
    let mut harness = studio_named(&data, "ana");
    open_by_button(&mut harness);
    assert!(
        harness.query_by_label_contains("sunlit marble").is_none(),
        "no prompt before the label"
    );
    assert!(harness.query_by_label_contains("seed 100").is_none());
    assert!(harness
        .query_by_label_contains("Which ad is better?")
        .is_some());

    let pair = shown(harness.state()).expect("pair");
    harness.key_press(Key::T);
    step_until(&mut harness, "revealed", |app| {
        app.labelling().job.is_none() && app.labelling().reveal.is_some()
    });
    let reveal = harness.state().labelling().reveal.clone().expect("reveal");
    assert_eq!((reveal.reveal.left.item, reveal.reveal.right.item), pair);
    for item in [&reveal.reveal.left, &reveal.reveal.right] {
        let prompt = item.hidden.prompt.clone().expect("prompt");
        assert!(
            harness.query_by_label_contains(&prompt).is_some(),
            "{prompt} revealed"
        );
        let seed = format!("seed {}", item.hidden.seed.expect("seed"));
        assert!(harness.query_by_label_contains(&seed).is_some(), "{seed}");
    }
    assert!(harness
        .query_by_label_contains("you answered tie")
        .is_some());
    assert_ne!(shown(harness.state()), Some(pair), "next pair shown");

    // The reveal goes after its time (the harness advances 0.25 s a frame).
    harness.run_steps(12);
    assert!(harness.state().labelling().reveal.is_none());
    assert!(harness.query_by_label_contains("sunlit marble").is_none());
}

/// A key press as the windowing backend reports it.
fn press(key: Key) -> egui::Event {
    egui::Event::Key {
        key,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::NONE,
    }
}

/// Keys pressed while a label is being saved are not applied to a pair
/// the labeler has not seen: two keys in one frame give one label, and a
/// key that arrives after the worker has answered but before the next
/// pair was drawn is ignored too. The message says so.
#[test]
fn keys_while_a_label_is_saved_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 4, prompt);
    let mut harness = studio_named(&data, "ana");
    open_by_button(&mut harness);
    let pair = shown(harness.state()).expect("pair");
    harness
        .input_mut()
        .events
        .extend([press(Key::A), press(Key::L)]);
    harness.step();
    step_until(&mut harness, "first answer saved", |app| {
        app.labelling().job.is_none()
    });
    let all = rows(&data);
    assert_eq!(all.len(), 1, "one label for one shown pair");
    check_row(&all[0], pair, Answer::Left);
    assert_eq!(harness.state().labelling().ignored_keys, 1);
    assert!(harness
        .query_by_label_contains("1 key was ignored")
        .is_some());

    // The worker has answered, but its next pair is not drawn yet.
    let second = shown(harness.state()).expect("second pair");
    harness.input_mut().events.push(press(Key::T));
    harness.step();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while harness.state().is_busy() {
        assert!(std::time::Instant::now() < deadline, "worker answers");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    harness.input_mut().events.push(press(Key::S));
    step_until(&mut harness, "second answer shown", |app| {
        app.labelling().job.is_none()
    });
    let all = rows(&data);
    assert_eq!(
        all.len(),
        2,
        "the S before the third pair was drawn is ignored"
    );
    check_row(&all[1], second, Answer::Tie);
    assert_eq!(harness.state().labelling().ignored_keys, 2);
}

/// The scope selector offers the open product's pairs only; an empty pool
/// says what to do.
#[test]
fn scope_of_the_open_product_and_the_empty_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    let mut harness = studio_named(&empty, "ana");
    harness.get_by_label("Label").click();
    step_until(&mut harness, "empty screen", |app| {
        app.labelling().job.is_none() && app.labelling().screen.is_some()
    });
    assert!(harness
        .query_by_label_contains("render at least two variants of a product, or import creatives")
        .is_some());
    drop(harness);

    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 3, prompt);
    let bag_image = dir.path().join("bag.png");
    drawn_ad(1, 0, 96).save(&bag_image).expect("bag image");
    let mut harness = studio_named(&data, "ana");
    harness
        .state_mut()
        .handle_command(Command::OpenPath(bag_image));
    step_until(&mut harness, "bag open", |app| app.session().is_some());
    let bag = harness.state().session().expect("session").product.id;
    harness
        .state_mut()
        .handle_command(Command::SetTitle("Leather bag".into()));
    step_until(&mut harness, "title saved", |app| {
        app.session()
            .is_some_and(|s| s.product.title == "Leather bag")
    });
    let bag_renders = add_drawn_renders(&data, bag, 1, 3, &prompt);
    open_by_button(&mut harness);
    harness.get_by_label("this product (Leather bag)").click();
    wait_for_pair(&mut harness, "bag pairs");
    assert_eq!(harness.state().labelling().scope, LabelScope::OpenProduct);
    for _ in 0..3 {
        let (left, right) = shown(harness.state()).expect("pair");
        for item in [left, right] {
            let PairItem::Render(id) = item else {
                panic!("a render expected");
            };
            assert!(bag_renders.contains(&id), "{id:?} is the bag's");
        }
        harness.key_press(Key::S);
        step_until(&mut harness, "skipped", |app| app.labelling().job.is_none());
    }
    assert!(
        shown(harness.state()).is_none(),
        "the bag's 3 pairs are done"
    );
    assert!(harness
        .query_by_label_contains("Every pair in this scope is labelled")
        .is_some());
}

/// A render deleted while its pair is shown: the answer fails with the
/// store's reason on screen, nothing is recorded, and the next answer
/// labels a pair of the remaining renders.
#[test]
fn a_render_deleted_meanwhile_is_an_error_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    drawn_products(&data, &["Ceramic mug"], 4, prompt);
    let mut harness = studio_named(&data, "ana");
    open_by_button(&mut harness);
    harness.key_press(Key::A);
    step_until(&mut harness, "first label", |app| {
        app.labelling().job.is_none() && rows(&data).len() == 1
    });
    let first = rows(&data)[0].clone();
    let (left, right) = shown(harness.state()).expect("pair");
    let gone = [left, right]
        .into_iter()
        .find(|item| *item != first.a && *item != first.b)
        .expect("an item without a label");
    let PairItem::Render(gone_id) = gone else {
        panic!("render expected");
    };
    let conn = rusqlite::Connection::open(database(&data)).expect("sqlite");
    conn.execute("DELETE FROM renders WHERE id = ?1", [gone_id.0])
        .expect("delete render");
    drop(conn);

    harness.key_press(Key::A);
    step_until(&mut harness, "refused", |app| app.labelling().job.is_none());
    let message = harness
        .state()
        .labelling()
        .message
        .clone()
        .expect("message");
    assert!(message.1, "an error: {message:?}");
    assert_eq!(rows(&data).len(), 1, "nothing recorded");
    assert!(rows(&data)[0].is_active(), "the earlier label is kept");
    let next = shown(harness.state()).expect("a pair of the remaining renders");
    assert!(next.0 != gone && next.1 != gone);
    harness.key_press(Key::L);
    step_until(&mut harness, "labelled after the error", |app| {
        app.labelling().job.is_none() && rows(&data).len() == 2
    });
    check_row(&rows(&data)[1], next, Answer::Right);
}

/// Writes the data dir of the README's labelling screenshots to
/// `$ADSTUDIO_LABEL_SHOTS` (a temporary folder without it): two products
/// with drawn renders, and labels of two people so that the statistics
/// window has numbers; then checks that the data dir holds them and that
/// the labelling pool offers pairs of both products.
#[test]
fn write_label_screenshot_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = std::env::var_os("ADSTUDIO_LABEL_SHOTS")
        .map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let scenes = [
        "on a sunlit oak table, warm morning light",
        "on dark slate, moody evening glow",
        "beside a potted fern, fresh green studio",
        "on a white marble counter, soft daylight",
        "on pink linen with a warm lamp",
        "on a lilac shelf, pastel studio light",
    ];
    let products = drawn_products(
        &data,
        &["Red ceramic mug 350 ml", "Blue enamel camping mug"],
        6,
        |_, r| scenes[r % scenes.len()].to_string(),
    );
    let store = Store::open(&database(&data)).expect("store");
    for (_, renders) in &products {
        score_as_the_studio_does(&store, renders, &[0.9, -0.4, 0.3, 0.6, -0.1, 0.1]);
    }
    let items: Vec<PairItem> = products[1].1.iter().map(|&r| PairItem::Render(r)).collect();
    let outcomes = [Outcome::A, Outcome::B, Outcome::A, Outcome::Tie, Outcome::B];
    for (labeler, flip) in [("lena", false), ("jon", true)] {
        for (k, (i, j)) in [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5)]
            .into_iter()
            .enumerate()
        {
            let outcome = match (outcomes[k], flip && k % 2 == 1) {
                (Outcome::A, true) => Outcome::B,
                (Outcome::B, true) => Outcome::A,
                (o, _) => o,
            };
            store
                .record_preference(&adstudio::store::NewPreference::human(
                    items[i], items[j], outcome, labeler,
                ))
                .expect("label");
        }
    }
    assert_eq!(store.list_products().expect("products").len(), 2);
    assert_eq!(store.active_preferences().expect("labels").len(), 10);
    let dir = adstudio::paths::DataDir::at(&data).expect("data dir");
    let images = adstudio::store::ImageStore::new(dir.images_dir());
    let pool = adstudio::studio::labelling::LabelPool::load(&store, &images).expect("pool");
    assert_eq!(pool.groups.len(), 2);
    assert_eq!(pool.pair_count(), 2 * 15);
}

/// Stores reward-model scores of `renders` the way the studio's scoring
/// does: Bradley-Terry strengths, a CTR and P(win) against every other
/// render (sigmoid of the strength difference).
fn score_as_the_studio_does(
    store: &Store,
    renders: &[adstudio::store::RenderId],
    strengths: &[f64],
) {
    for (i, &id) in renders.iter().enumerate() {
        let p_win: serde_json::Map<String, serde_json::Value> = renders
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, other)| {
                let p = 1.0 / (1.0 + (strengths[j] - strengths[i]).exp());
                (other.0.to_string(), serde_json::json!(p))
            })
            .collect();
        store
            .insert_score(&adstudio::store::NewScore {
                render_id: id,
                model_id: "compact-rm:compact-rm.safetensors@epoch8".into(),
                score: strengths[i],
                ctr: Some(0.018 + 0.004 * strengths[i]),
                details_json: serde_json::json!({"kind": "pairwise-rm", "p_win": p_win}),
            })
            .expect("score");
    }
}
