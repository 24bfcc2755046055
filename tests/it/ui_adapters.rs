//! The Adapters section of the suggestions, driven headless with
//! egui_kittest: the tiny random Qwen2 of `ui_suggest` is the prompt model,
//! `adstudio pcpo train` (the binary) trains an adapter on it from a label
//! store; a second row records the same file for another base model (its
//! recorded hash differs). The panel lists both; the active choice persists
//! in the prefs; suggestions with the trained adapter carry its name (and a
//! used one records it in the render parameters); the foreign one is
//! refused naming both models and writes nothing; "None" is the base model
//! (at the warm run's seed it writes the same text twice, and not the
//! adapter's).

use std::path::Path;

use adstudio::app::{Command, StudioApp, UiPrefs};
use adstudio::paths::DataDir;
use adstudio::render::RenderRequest;
use adstudio::store::{NewAdapter, Store};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use serde_json::json;

use crate::cli_pcpo;
use crate::cli_pcpo_adapters::train;
use crate::common::studio::{self, step_until};
use crate::ui_suggest::{draw_product, install_tiny_prompt_model};

/// The words of `cli_pcpo`'s render prompts (the training pairs' texts),
/// given the last ids of the word-level vocabulary so that chosen and
/// rejected prompts tokenize apart.
const PROMPT_WORDS: [&str; 12] = [
    "sunlit", "wooden", "table", "golden", "luxury", "podium", "misty", "pine", "forest", "white",
    "studio", "backdrop",
];

const FOREIGN_HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Trains "warm" on the installed prompt model and records "foreign" (the
/// same file, for another base); returns warm's recorded base hash.
fn stored_adapters(data: &Path, model: &Path) -> String {
    cli_pcpo::store(data, 3);
    let (ok, stdout, stderr) = train(data, model, "warm", "1");
    assert!(ok, "{stdout}\n{stderr}");
    let store = Store::open(&DataDir::at(data).expect("data dir").database_path()).expect("store");
    let warm = store.adapter_by_name("warm").expect("read").expect("warm");
    let mut config = warm.config_json.clone();
    config["base_model"] = json!({ "id": "other-model", "hash": FOREIGN_HASH });
    store
        .insert_adapter(&NewAdapter {
            training_run_id: None,
            name: "foreign".into(),
            base_model: "other-model".into(),
            path: warm.path.clone(),
            config_json: config,
        })
        .expect("insert foreign");
    warm.config_json["base_model"]["hash"]
        .as_str()
        .expect("hash")
        .to_string()
}

/// `ui_suggest`'s tiny prompt model, with [`PROMPT_WORDS`] in its
/// vocabulary (ids 500 to 511 instead of `w500`..`w511`).
fn install_prompt_model(models_dir: &Path) -> std::path::PathBuf {
    install_tiny_prompt_model(models_dir);
    let model = models_dir.join("prompt-model");
    let file = model.join("tokenizer.json");
    let text = std::fs::read_to_string(&file).expect("tokenizer");
    let mut tokenizer: serde_json::Value = serde_json::from_str(&text).expect("tokenizer json");
    let vocab = tokenizer["model"]["vocab"]
        .as_object_mut()
        .expect("a vocabulary");
    for (i, word) in PROMPT_WORDS.iter().enumerate() {
        let id = 500 + i;
        vocab.remove(&format!("w{id}")).expect("a filler word");
        vocab.insert(word.to_string(), json!(id));
    }
    std::fs::write(&file, tokenizer.to_string()).expect("write tokenizer");
    model
}

fn suggest(harness: &mut Harness<'static, StudioApp>) {
    harness.get_by_label("Suggest").click();
    step_until(harness, "suggestions job ended", |app| {
        !app.suggestions().is_running() && app.suggestions().message.is_some()
    });
}

fn select(harness: &mut Harness<'static, StudioApp>, label: &str) {
    harness
        .get_by_role_and_label(Role::RadioButton, label)
        .click();
    harness.step();
}

fn message(app: &StudioApp) -> (String, bool) {
    app.suggestions().message.clone().expect("a message")
}

/// The adapter the loaded prompt model has applied now.
fn applied(app: &StudioApp) -> Option<i64> {
    app.models()
        .with_prompt_model(|engine| engine.adapter().map(|id| id.0))
        .expect("prompt model")
}

#[test]
fn adapters_are_listed_chosen_applied_refused_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product = dir.path().join("red_disc.png");
    draw_product(&product);
    let data = dir.path().join("data");
    let models_dir = DataDir::at(&data).expect("data dir").models_dir();
    let model = install_prompt_model(&models_dir);
    let base_hash = stored_adapters(&data, &model);

    let mut harness = studio::studio(&data, egui::vec2(1400.0, 1200.0));
    harness.state_mut().prefs_mut().suggest.count = 2;
    harness
        .state_mut()
        .handle_command(Command::OpenPath(product));
    step_until(&mut harness, "product opened and adapters listed", |app| {
        app.session().is_some_and(|s| s.mask.is_some()) && app.adapters().loaded
    });

    // Listed, newest first, with base model and validation accuracy.
    let listed = harness.state().adapters().listed.clone();
    let names: Vec<_> = listed.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["foreign", "warm"]);
    assert!(listed[1].valid_accuracy.is_some());
    for adapter in &listed {
        harness.get_by_role_and_label(Role::RadioButton, &adapter.name);
        harness.get_by_label(&adapter.details());
    }
    assert!(listed[1]
        .details()
        .starts_with("base prompt-model · created "));
    assert!(listed[0].details().starts_with("base other-model · "));
    assert_eq!(harness.state().prefs().prompt_adapter, None);

    // Another base model: refused by hash, naming both, nothing written.
    select(&mut harness, "foreign");
    assert_eq!(
        harness.state().prefs().prompt_adapter.as_deref(),
        Some("foreign")
    );
    suggest(&mut harness);
    let (refusal, is_error) = message(harness.state());
    assert!(is_error, "{refusal}");
    for part in [
        "other-model",
        FOREIGN_HASH,
        "prompt-model",
        base_hash.as_str(),
    ] {
        assert!(refusal.contains(part), "{part} in {refusal}");
    }
    // In the panel (and the status bar).
    assert!(harness.query_all_by_label_contains(FOREIGN_HASH).count() >= 1);
    assert!(harness.state().suggestions().entries.is_empty());
    assert_eq!(applied(harness.state()), None);

    // The trained adapter: applied, every suggestion labelled with it.
    select(&mut harness, "warm");
    suggest(&mut harness);
    let entries = harness.state().suggestions().entries.clone();
    assert_eq!(entries.len(), 2, "{:?}", message(harness.state()));
    assert!(entries.iter().all(|e| e.adapter.as_deref() == Some("warm")));
    assert_eq!(
        harness.query_all_by_label("adapter: warm").count(),
        2,
        "a label per suggestion"
    );
    assert_eq!(applied(harness.state()), Some(listed[1].id.0));
    let warm_candidates = candidate_texts(harness.state());

    // A used suggestion records the adapter in the render parameters
    // (params_json holds the request); typing over the prompt drops it.
    harness
        .get_all_by_role_and_label(Role::Button, "Use")
        .next()
        .expect("a Use button")
        .click();
    harness.step();
    let params = harness.state().prefs().render.clone();
    assert_eq!(params.prompt, entries[0].text.trim());
    assert_eq!(params.prompt_adapter.as_deref(), Some("warm"));
    let request = RenderRequest {
        params: params.clone(),
        ..RenderRequest::default()
    };
    let recorded = serde_json::to_value(&request).expect("json");
    assert_eq!(recorded["prompt_adapter"], json!("warm"));
    let mut typed = params.clone();
    typed.prompt.push_str(", at dusk");
    harness
        .state_mut()
        .handle_command(Command::SetRenderParams(typed));
    assert_eq!(harness.state().prefs().render.prompt_adapter, None);

    // The choice persists with the prefs.
    let saved = serde_json::to_string(harness.state().prefs()).expect("prefs json");
    let restored: UiPrefs = serde_json::from_str(&saved).expect("prefs back");
    assert_eq!(restored.prompt_adapter.as_deref(), Some("warm"));

    // None: the base model, no labels. Run twice with the warm run's
    // seed: the base writes the same candidates both times, and not the
    // adapter's.
    select(&mut harness, "None (base model)");
    assert_eq!(harness.state().prefs().prompt_adapter, None);
    let mut base_runs = Vec::new();
    for request in [2, 3] {
        harness.state_mut().prefs_mut().suggest.seed = seed_for(WARM_REQUEST_SEED, request);
        suggest(&mut harness);
        let entries = harness.state().suggestions().entries.clone();
        assert_eq!(entries.len(), 2, "{:?}", message(harness.state()));
        assert!(entries.iter().all(|e| e.adapter.is_none()));
        assert_eq!(harness.query_all_by_label_contains("adapter: ").count(), 0);
        assert_eq!(applied(harness.state()), None);
        base_runs.push(candidate_texts(harness.state()));
    }
    assert_eq!(base_runs[0], base_runs[1], "deterministic");
    assert_ne!(
        base_runs[0], warm_candidates,
        "the adapter changes the text"
    );
}

/// The seed the warm run (request 1, base seed 0) sampled with.
const WARM_REQUEST_SEED: u64 = SEED_STEP;
/// How far apart the seeds of consecutive requests are (`SuggestState`).
const SEED_STEP: u64 = 1_000_003;

/// The base seed that makes request number `request` sample with `seed`.
fn seed_for(seed: u64, request: u64) -> u64 {
    seed.wrapping_sub(request.wrapping_mul(SEED_STEP))
}

fn candidate_texts(app: &StudioApp) -> Vec<String> {
    app.suggestions()
        .candidates
        .iter()
        .map(|c| c.text.clone())
        .collect()
}
