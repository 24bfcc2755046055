//! The model manager in the studio, under egui_kittest: the first start
//! opens it with the recommended set picked and its total size; a download
//! from a fake hub (HF_ENDPOINT) runs on its own thread with progress,
//! installs where the registry finds it, and can be cancelled.

use std::path::Path;
use std::time::{Duration, Instant};

use adstudio::app::{human_size, Command, StudioApp, StudioConfig};
use adstudio::paths::DataDir;
use adstudio::studio::{Manifest, ModelRole};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use crate::common::hub_server::{payload, HubServer};
use crate::common::studio::step_until;

fn studio(data: &Path, first_run_manager: bool) -> Harness<'static, StudioApp> {
    let config = StudioConfig {
        data_dir: DataDir::at(data).expect("data dir"),
        open_path: None,
        reopen_last: false,
        first_run_manager,
    };
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| StudioApp::new(cc, config).expect("studio starts"))
}

#[test]
fn the_first_start_opens_the_manager_with_the_recommended_set_and_its_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut harness = studio(&data, true);
    step_until(&mut harness, "start-up", |_| true);
    let manager = harness.state().model_manager();
    assert!(manager.open && manager.first_run);
    let builtin = Manifest::builtin().expect("manifest");
    let recommended: Vec<String> = builtin
        .recommended()
        .iter()
        .filter(|e| e.repo.is_some())
        .map(|e| e.name.clone())
        .collect();
    assert!(recommended.len() >= 5, "{recommended:?}");
    let picked: Vec<String> = manager.selected.iter().cloned().collect();
    let mut expected = recommended.clone();
    expected.sort();
    assert_eq!(picked, expected);
    let total: u64 = builtin
        .recommended()
        .iter()
        .filter(|e| e.repo.is_some())
        .map(|e| e.approx_size())
        .sum();
    assert_eq!(manager.selected_size(), total);
    harness.get_by_label(&format!("Download ({})", human_size(total)));
    harness.get_by_label("Welcome. adstudio needs model weights from the Hugging Face hub; the recommended set is picked below. Download it now, or later from Models….");
    // The recommended SD 1.5 checkpoint's licence must be accepted first.
    harness
        .get_by_label(&format!("Download ({})", human_size(total)))
        .click();
    harness.run_steps(2);
    let (message, error) = harness
        .state()
        .model_manager()
        .message
        .clone()
        .expect("message");
    assert!(
        error && message.contains("creativeml-openrail-m"),
        "{message}"
    );
    assert!(harness.state().model_manager().download.is_none());
    harness.get_by_label("Device: CPU (f32)");
    drop(harness);
    // The second start (the store exists now) does not open it.
    let mut harness = studio(&data, true);
    step_until(&mut harness, "start-up", |_| true);
    assert!(!harness.state().model_manager().open);
}

const REPO: &str = "test/tiny-taesd";
const WEIGHTS: &str = "diffusion_pytorch_model.safetensors";

fn wait_for(harness: &mut Harness<'_, StudioApp>, what: &str, done: impl Fn(&StudioApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn downloads_run_off_the_ui_thread_with_progress_cancel_and_install() {
    let server = HubServer::start();
    server.add(REPO, "config.json", b"{}".to_vec());
    server.add(REPO, WEIGHTS, payload(400_000, 3));
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let hf_home = tmp.path().join("hf");
    std::fs::create_dir_all(data.join("models")).expect("mkdir");
    std::fs::write(
        data.join("models/manifest.toml"),
        format!(
            "[[model]]\nname = \"tiny-taesd\"\nrole = \"taesd\"\ndefault = true\nrepo = \"{REPO}\"\n\
             licence = \"mit\"\nfiles = [{{ path = \"config.json\" }}, {{ path = \"{WEIGHTS}\", size = 400000 }}]\n"
        ),
    )
    .expect("manifest");
    // Only this test downloads in this process.
    std::env::set_var("HF_ENDPOINT", &server.endpoint);
    std::env::set_var("HF_HOME", &hf_home);
    let mut harness = studio(&data, false);
    step_until(&mut harness, "start-up", |_| true);
    harness.get_by_label("Models…").click();
    harness.run_steps(2);
    assert!(harness.state().model_manager().open);
    harness
        .state_mut()
        .handle_command(Command::OfferFetch(ModelRole::Taesd));
    harness.run_steps(2);
    assert!(harness
        .state()
        .model_manager()
        .selected
        .contains("tiny-taesd"));

    // A slow transfer: cancelled while it runs.
    server.set_slow(true);
    harness.get_by_label("Download (400 KB)").click();
    wait_for(&mut harness, "bytes arriving", |app| {
        app.model_manager()
            .download
            .as_ref()
            .is_some_and(|d| d.done > 0)
    });
    // The progress row may have appeared in this very frame; let the
    // window settle its size before pressing (a pointer click lands on
    // the button's last position), and press through AccessKit.
    harness.run_steps(2);
    harness.get_by_label("Cancel download").click_accesskit();
    wait_for(&mut harness, "the cancel", |app| {
        app.model_manager().download.is_none()
    });
    let (message, error) = harness
        .state()
        .model_manager()
        .message
        .clone()
        .expect("message");
    assert!(error && message.contains("cancelled"), "{message}");
    assert!(!data.join("models/taesd").exists());

    // Then a full download: installed where the registry finds it.
    server.set_slow(false);
    harness.get_by_label("Download (400 KB)").click();
    wait_for(&mut harness, "the download", |app| {
        app.model_manager()
            .message
            .as_ref()
            .is_some_and(|(m, _)| m.contains("installed"))
            && app.model_manager().download.is_none()
    });
    let (message, error) = harness
        .state()
        .model_manager()
        .message
        .clone()
        .expect("message");
    assert!(
        !error && message.contains("tiny-taesd installed"),
        "{message}"
    );
    let found = harness
        .state()
        .models()
        .locate(ModelRole::Taesd)
        .expect("taesd found");
    assert_eq!(found.path, data.join("models/taesd"));
    assert_eq!(
        harness.state().model_manager().role_found(ModelRole::Taesd),
        Some(true)
    );
}
