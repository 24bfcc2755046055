//! Drafts in the studio window, driven headless with egui_kittest on the
//! tiny models of `ui_render` plus a tiny LCM-LoRA and the tiny TAESD in
//! the models folder: "Draft" renders one 4-step LCM variant marked as a
//! draft with its seed; "Render final" on it renders the same prompt and
//! seed with the render panel's settings; a queued draft cancels; without
//! an LCM-LoRA the Draft button is disabled and says why.

use crate::common::draft::{copy_tiny_taesd, write_tiny_lora};
use crate::common::studio::step_until;
use crate::ui_render::{done_count, studio_with_product, write_tiny_models};

use adstudio::app::TileState;
use adstudio::ml::diffusion::SchedulerKind;
use egui_kittest::kittest::{NodeT, Queryable};

/// The studio with the tiny models, an LCM-LoRA and TAESD, product open.
fn studio_with_draft_models(
    root: &std::path::Path,
) -> egui_kittest::Harness<'static, adstudio::app::StudioApp> {
    let models = root.join("data").join("models");
    // The LoRA is made for the UNet's weights (written again, identical,
    // by `studio_with_product`).
    write_tiny_models(&models);
    write_tiny_lora(
        &models.join("sd15/unet/diffusion_pytorch_model.safetensors"),
        &models.join("lcm-lora/pytorch_lora_weights.safetensors"),
    );
    copy_tiny_taesd(&models.join("taesd"));
    studio_with_product(root)
}

#[test]
fn draft_then_render_final_keeps_prompt_and_seed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_draft_models(tmp.path());
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.prompt = "red disc on oak".into();
        render.seed = 40;
        render.steps = 2;
        render.n_variants = 3;
    }
    harness.run_steps(2);
    assert!(harness.query_by_label("Previews: taesd (TAESD)").is_some());
    harness.get_by_label("Draft").click();
    step_until(&mut harness, "draft rendered", |app| done_count(app) == 1);
    let app = harness.state();
    assert_eq!(app.gallery().tiles.len(), 1, "a draft is one variant");
    let tile = &app.gallery().tiles[0];
    assert!(tile.is_draft());
    let p = &tile.done().expect("done").params.request.params;
    assert!(p.draft);
    assert_eq!((p.seed, p.steps, p.n_variants), (40, 4, 1));
    assert_eq!(p.scheduler, SchedulerKind::Lcm);
    assert_eq!(p.prompt, "red disc on oak");
    assert!(harness.query_by_label("draft · seed 40").is_some());
    // The render panel keeps its own settings.
    assert_eq!(harness.state().prefs().render.steps, 2);

    harness.get_by_label("Render final").click();
    step_until(&mut harness, "final rendered", |app| done_count(app) == 2);
    let tiles = &harness.state().gallery().tiles;
    let last = tiles.last().expect("final tile");
    assert!(!last.is_draft());
    let f = &last.done().expect("done").params.request.params;
    assert!(!f.draft);
    assert_eq!((f.seed, f.steps, f.n_variants), (40, 2, 1));
    assert_eq!(f.scheduler, SchedulerKind::EulerAncestral);
    assert_eq!(f.prompt, "red disc on oak");
    assert!(harness.query_by_label("seed 40").is_some());
}

/// Steps frames until `done` holds (panics naming `what` after 60 s).
fn step_frames_until(
    harness: &mut egui_kittest::Harness<'static, adstudio::app::StudioApp>,
    what: &str,
    done: impl Fn(&egui_kittest::Harness<'static, adstudio::app::StudioApp>) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done(harness) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_queued_draft_cancels_from_its_tile() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_draft_models(tmp.path());
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.prompt = "red disc".into();
        render.steps = 1000;
        render.n_variants = 1;
    }
    harness.run_steps(2);
    harness.get_by_label("Render 1 variant").click();
    harness.run_steps(2);
    harness.get_by_label("Draft").click();
    harness.run_steps(2);
    assert_eq!(harness.state().gallery().tiles.len(), 2);
    assert!(harness.state().gallery().tiles[1].draft);
    // The draft waits behind the long render: cancel it from its tile
    // (once the only "Cancel" buttons are the two tiles': the status bar
    // has one too while the studio worker is busy).
    step_frames_until(&mut harness, "two tile Cancel buttons", |h| {
        h.get_all_by_label("Cancel").count() == 2
    });
    harness
        .get_all_by_label("Cancel")
        .nth(1)
        .expect("the draft's Cancel")
        .click_accesskit();
    harness.run_steps(2);
    assert!(matches!(
        harness.state().gallery().tiles[0].state,
        TileState::Queued | TileState::Rendering { .. }
    ));
    step_frames_until(&mut harness, "the model jobs' Cancel", |h| {
        h.query_by_label("Cancel model jobs").is_some()
    });
    // Pressed through AccessKit: a pointer click lands on the button's
    // last position, which moves while the tiles' states change (under
    // load this click missed and the render ran on).
    harness.get_by_label("Cancel model jobs").click_accesskit();
    step_until(&mut harness, "both cancelled", |app| {
        app.gallery()
            .tiles
            .iter()
            .all(|t| matches!(t.state, TileState::Cancelled))
    });
}

#[test]
fn without_lcm_lora_and_taesd_draft_is_disabled_and_previews_say_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_product(tmp.path());
    harness.run_steps(2);
    let reason = harness.state().draft_blocker().expect("no LCM-LoRA");
    assert!(reason.contains("lcm-lora"), "{reason}");
    assert!(harness.get_by_label("Draft").accesskit_node().is_disabled());
    assert!(harness
        .query_by_label_contains("Previews: latent approximation (no TAESD")
        .is_some());
}
