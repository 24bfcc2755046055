//! The Suggestions section, driven headless with egui_kittest against the
//! tiny random Qwen2 of `$ADSTUDIO_FIXTURES/qwen2_tiny` (its text is
//! gibberish, but the whole flow runs: lazy model load on the model worker,
//! batched candidates streamed and screened, the best-rejected fallback,
//! the candidates view, editing, Use, regenerate one, cancel).
//!
//! The fixture has no tokenizer, so the test writes a word-level
//! `tokenizer.json` covering its 512 ids (`[UNK]`, `<s>`, `</s>`, then
//! `w3`..`w511`), and copies its `config.json` with
//! `max_position_embeddings` raised to 1024 (RoPE tables are computed, not
//! weights; the few-shot suggestion prompt is longer than the fixture's 256).

use crate::common::fixtures;
use crate::common::product_images;
use crate::common::studio;

use std::path::Path;

use adstudio::app::{Command, StudioApp};
use adstudio::paths::DataDir;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use studio::step_until;

/// The studio on `data_dir` in this file's window size.
fn open_studio(data_dir: &Path) -> Harness<'static, StudioApp> {
    studio::studio(data_dir, egui::vec2(1400.0, 1000.0))
}

/// A 120x100 red disc on transparency.
pub(crate) fn draw_product(path: &Path) {
    product_images::save_disc_product(path, 120, 100, 40.0, [200, 60, 40]);
}

/// Installs qwen2_tiny (with a word-level tokenizer) as the prompt model.
pub(crate) fn install_tiny_prompt_model(models_dir: &Path) {
    let src = fixtures::fixture_dir("qwen2_tiny");
    let dst = models_dir.join("prompt-model");
    std::fs::create_dir_all(&dst).expect("model dir");
    std::fs::copy(src.join("model.safetensors"), dst.join("model.safetensors"))
        .expect("copy weights");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).expect("config"))
            .expect("config json");
    config["max_position_embeddings"] = serde_json::json!(1024);
    std::fs::write(dst.join("config.json"), config.to_string()).expect("write config");
    let mut vocab = serde_json::Map::new();
    for (id, word) in ["[UNK]", "<s>", "</s>"].iter().enumerate() {
        vocab.insert(word.to_string(), serde_json::json!(id));
    }
    for id in 3..512 {
        vocab.insert(format!("w{id}"), serde_json::json!(id));
    }
    let tokenizer = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": { "type": "Whitespace" },
        "post_processor": null,
        "decoder": null,
        "model": { "type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]" }
    });
    std::fs::write(dst.join("tokenizer.json"), tokenizer.to_string()).expect("write tokenizer");
}

fn texts(app: &StudioApp) -> Vec<String> {
    app.suggestions()
        .entries
        .iter()
        .map(|e| e.text.clone())
        .collect()
}

fn message(app: &StudioApp) -> String {
    app.suggestions()
        .message
        .clone()
        .map(|(m, _)| m)
        .unwrap_or_default()
}

/// Without a model the message names `<data>/models/prompt-model`; with
/// qwen2_tiny installed, Suggest fills K = 4 non-empty entries. Its
/// word-level gibberish (`w17 w302 …`) never passes the screening, so after
/// two rounds (12 candidates, then 8) the entries are the best rejected
/// ones, each marked "rejected: <reason>" on screen, the message says none
/// passed, and the collapsed candidates header ("Candidates: 0 of 20
/// passed · 20 rejected") opens on the per-reason counts and every candidate. Typing
/// into entry 2 and pressing its Use puts exactly the edited text into the
/// render prompt (and drops its mark); Again on entry 3 (one suggestion:
/// rounds of 3 and 2 candidates) changes entry 3 and no other; a cancelled
/// regeneration and a cancelled Suggest leave the list unchanged and say
/// so.
#[test]
fn suggest_edit_use_regenerate_and_cancel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let product = dir.path().join("red_disc.png");
    draw_product(&product);
    let data = dir.path().join("data");
    let models_dir = DataDir::at(&data).expect("data dir").models_dir();
    let mut harness = open_studio(&data);
    harness
        .state_mut()
        .handle_command(Command::OpenPath(product));
    step_until(&mut harness, "product opened", |app| {
        app.session().is_some_and(|s| s.mask.is_some())
    });

    // No model yet: a clear message naming the folder.
    harness.get_by_label("Suggest").click();
    step_until(&mut harness, "missing-model message", |app| {
        !app.suggestions().is_running() && app.suggestions().message.is_some()
    });
    let missing = message(harness.state());
    assert!(
        missing.contains(&models_dir.join("prompt-model").display().to_string()),
        "{missing}"
    );
    assert!(harness.state().suggestions().entries.is_empty());

    install_tiny_prompt_model(&models_dir);
    assert_eq!(harness.state().prefs().suggest.count, 4, "default K");
    harness.get_by_label("Suggest").click();
    step_until(&mut harness, "suggestions written", |app| {
        !app.suggestions().is_running() && app.suggestions().message.is_some()
    });
    let first = texts(harness.state());
    assert_eq!(first.len(), 4, "{first:?} / {}", message(harness.state()));
    assert!(first.iter().all(|t| !t.trim().is_empty()), "{first:?}");
    assert!(harness
        .state()
        .suggestions()
        .entries
        .iter()
        .all(|e| !e.generating));
    shows_best_rejected_and_candidates(&mut harness, 20);

    // Edit entry 2 by typing into its text field, then use it.
    let field = harness.get_by_label("Suggestion 2");
    field.focus();
    harness.step();
    harness.key_press(egui::Key::End);
    harness.get_by_label("Suggestion 2").type_text(" edited");
    harness.step();
    let edited = texts(harness.state())[1].clone();
    assert!(edited.ends_with(" edited"), "{edited:?}");
    assert_eq!(edited.trim_end_matches(" edited"), first[1].trim_end());
    harness
        .get_all_by_role_and_label(Role::Button, "Use")
        .nth(1)
        .expect("a Use button per entry")
        .click();
    harness.step();
    assert_eq!(harness.state().prefs().render.prompt, edited.trim());
    assert_eq!(harness.state().suggestions().entries[1].rejected, None);
    assert_eq!(marks_shown(&harness), 3, "the edited entry lost its mark");

    // Regenerate entry 3 only.
    let before = texts(harness.state());
    harness
        .get_all_by_role_and_label(Role::Button, "Again")
        .nth(2)
        .expect("a regenerate button per entry")
        .click();
    step_until(&mut harness, "entry 3 rewritten", |app| {
        !app.suggestions().is_running()
    });
    let after = texts(harness.state());
    assert_eq!(after.len(), 4);
    assert_eq!(harness.state().suggestions().candidates.len(), 5);
    assert!(harness.state().suggestions().entries[2].rejected.is_some());
    assert_ne!(after[2], before[2], "entry 3 changed");
    for i in [0, 1, 3] {
        assert_eq!(after[i], before[i], "entry {} unchanged", i + 1);
    }

    // Cancel a regeneration and a full Suggest (the Stop button pushes
    // CancelSuggestions; sent right after the request, the job is cancelled
    // before it writes anything).
    for request in [Command::RegenerateSuggestion(0), Command::Suggest] {
        harness.state_mut().handle_command(request);
        assert!(harness.state().suggestions().is_running());
        harness
            .state_mut()
            .handle_command(Command::CancelSuggestions);
        step_until(&mut harness, "cancelled", |app| {
            !app.suggestions().is_running()
        });
        assert_eq!(texts(harness.state()), after, "list unchanged");
        assert_eq!(message(harness.state()), "Suggestions cancelled");
    }
}

/// How many "rejected: <reason>" marks the panel shows.
fn marks_shown(harness: &Harness<'static, StudioApp>) -> usize {
    harness.query_all_by_label_contains("rejected: ").count()
}

/// After a job where nothing passed: every entry is marked with its reason
/// (and shows its relevance when it was ranked), the message says none
/// passed, and the candidates header opens on demand on the per-reason
/// counts and the `candidates` candidates.
fn shows_best_rejected_and_candidates(
    harness: &mut Harness<'static, StudioApp>,
    candidates: usize,
) {
    let state = harness.state().suggestions().clone();
    for entry in &state.entries {
        let reason = entry.rejected.clone().expect("gibberish never passes");
        let mark = format!("rejected: {reason}");
        assert!(harness.query_all_by_label(&mark).count() >= 1, "{mark}");
        if let Some(relevance) = entry.relevance {
            let shown = format!("{relevance:.2}");
            assert!(harness.query_all_by_label(&shown).count() >= 1, "{shown}");
        }
    }
    assert_eq!(marks_shown(harness), state.entries.len());
    let (text, is_error) = state.message.clone().expect("a message");
    assert!(is_error);
    assert!(
        text.starts_with(&format!("None of the {candidates} candidates passed")),
        "{text}"
    );
    assert!(text.contains("best rejected"), "{text}");
    assert!(harness.query_by_label_contains(&text[..20]).is_some());

    let summary = format!("Candidates: 0 of {candidates} passed · {candidates} rejected");
    assert_eq!(
        state.candidates_summary().as_deref(),
        Some(summary.as_str())
    );
    assert_eq!(
        state.rejected_counts.iter().map(|(_, n)| n).sum::<usize>(),
        candidates
    );
    let (reason, count) = state.rejected_counts[0].clone();
    let count_line = format!("{reason}: {count}");
    assert!(harness.query_by_label(&count_line).is_none(), "collapsed");
    harness.get_by_label(&summary).click();
    harness.step();
    harness.step();
    for (reason, count) in &state.rejected_counts {
        harness.get_by_label(&format!("{reason}: {count}"));
    }
    let first = state
        .candidates
        .iter()
        .find(|c| !c.text.trim().is_empty())
        .expect("a candidate with text");
    let line = format!(
        "{} [{}]",
        first.text,
        first.rejected.as_deref().expect("rejected")
    );
    assert!(harness.query_all_by_label(&line).count() >= 1, "{line}");
    // Closed again, so the rest of the test sees the list as before.
    harness.get_by_label(&summary).click();
    harness.step();
    harness.step();
}
