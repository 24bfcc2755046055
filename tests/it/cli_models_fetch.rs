//! `adstudio models fetch | verify | path` against a fake hub on 127.0.0.1
//! (`HF_ENDPOINT`), with `HF_HOME` and `HF_TOKEN` set: the files land in
//! the hf-hub cache and in the role's folder the registry then finds;
//! checksum mismatches, dropped connections, an unreachable or silent hub,
//! a missing file and an unaccepted licence.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::hub_server::{closed_endpoint, payload, silent_server, HubServer, COMMIT};

const REPO: &str = "test/tiny-taesd";
const WEIGHTS: &str = "diffusion_pytorch_model.safetensors";
const WEIGHTS_LEN: usize = 700_000;

struct Setup {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    hf_home: PathBuf,
}

fn setup(manifest: &str) -> Setup {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let hf_home = tmp.path().join("hf");
    std::fs::create_dir_all(data.join("models")).expect("mkdir");
    std::fs::write(data.join("models/manifest.toml"), manifest).expect("manifest");
    Setup {
        _tmp: tmp,
        data,
        hf_home,
    }
}

/// A user manifest with one taesd entry from [`REPO`]; `extra` goes into
/// the weights' file table (e.g. a sha256).
fn manifest(name: &str, licence: &str, extra: &str) -> String {
    format!(
        "[[model]]\nname = \"{name}\"\nrole = \"taesd\"\ndefault = true\nrepo = \"{REPO}\"\n\
         licence = \"{licence}\"\nfiles = [\n  {{ path = \"config.json\" }},\n  \
         {{ path = \"{WEIGHTS}\", size = {WEIGHTS_LEN}{extra} }},\n]\n"
    )
}

fn serve_repo() -> (HubServer, Vec<u8>) {
    let server = HubServer::start();
    let weights = payload(WEIGHTS_LEN, 7);
    server.add(
        REPO,
        "config.json",
        b"{\"_class_name\": \"AutoencoderTiny\"}".to_vec(),
    );
    server.add(REPO, WEIGHTS, weights.clone());
    (server, weights)
}

fn adstudio(s: &Setup, endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.current_dir(s.data.parent().expect("parent"))
        .arg("--data-dir")
        .arg(&s.data)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", &s.hf_home)
        .env("HF_TOKEN", "secret-token")
        .env_remove("ADSTUDIO_TAESD")
        .env("RUST_LOG", "warn");
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run adstudio");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn installed(s: &Setup) -> PathBuf {
    s.data.join("models/taesd")
}

fn blobs(s: &Setup) -> PathBuf {
    s.hf_home.join("hub/models--test--tiny-taesd/blobs")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn fetch_lands_where_the_registry_finds_it_and_verify_checks_it() {
    let (server, weights) = serve_repo();
    let s = setup(&manifest("tiny-taesd", "mit", ""));
    let (out, stdout, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("fetched {WEIGHTS}")), "{stdout}");
    assert_eq!(
        std::fs::read(installed(&s).join(WEIGHTS)).expect("installed"),
        weights
    );
    // The hf-hub cache under HF_HOME holds the blob and the snapshot.
    assert_eq!(files_in(&blobs(&s)).len(), 2, "{:?}", files_in(&blobs(&s)));
    let snapshot = s.hf_home.join(format!(
        "hub/models--test--tiny-taesd/snapshots/{COMMIT}/{WEIGHTS}"
    ));
    assert_eq!(std::fs::read(snapshot).expect("snapshot"), weights);
    // HF_TOKEN went out as a bearer token on every request.
    let seen = server.seen();
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(
        seen.iter()
            .all(|r| r.headers.get("authorization").map(String::as_str)
                == Some("Bearer secret-token"))
    );
    let (out, stdout, _) = run(adstudio(&s, &server.endpoint).args(["models", "path", "taesd"]));
    assert!(out.status.success());
    assert_eq!(stdout.trim(), installed(&s).display().to_string());
    let (_, stdout, _) = run(adstudio(&s, &server.endpoint).args(["models", "list"]));
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("tiny-taesd"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("installed"), "{line}");
    let (out, stdout, stderr) = run(adstudio(&s, &server.endpoint).args(["models", "verify"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("ok  {WEIGHTS}")), "{stdout}");
    // A changed byte is found by verify, naming the file.
    let mut changed = weights.clone();
    changed[1234] ^= 0xff;
    std::fs::remove_file(installed(&s).join(WEIGHTS)).expect("rm");
    std::fs::write(installed(&s).join(WEIGHTS), changed).expect("write");
    let (out, _, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "verify", "tiny-taesd"]));
    assert!(!out.status.success());
    assert!(
        stderr.contains(WEIGHTS) && stderr.contains("does not match"),
        "{stderr}"
    );
}

#[test]
fn a_checksum_mismatch_is_refused_naming_the_file_and_nothing_is_installed() {
    let (server, weights) = serve_repo();
    let wrong = "ab".repeat(32);
    let s = setup(&manifest(
        "tiny-taesd",
        "mit",
        &format!(", sha256 = \"{wrong}\""),
    ));
    let (out, stdout, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "tiny-taesd"]));
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(
        stderr.contains(WEIGHTS) && stderr.contains(&wrong),
        "{stderr}"
    );
    assert!(!installed(&s).exists());
    // The weights' blob and part file are gone; config.json stays cached.
    let weights_blob = crate::common::hub_server::sha256_hex(&weights);
    let left = files_in(&blobs(&s));
    assert!(
        left.iter().all(|f| !f.starts_with(&weights_blob)),
        "{left:?}"
    );
    assert_eq!(left.len(), 1, "{left:?}");
    // The hub's own ETag (the sha256 of LFS files) is checked too.
    let s = setup(&manifest("tiny-taesd", "mit", ""));
    server.set_etag(REPO, WEIGHTS, &"cd".repeat(32));
    let (out, _, stderr) = run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(!out.status.success());
    assert!(
        stderr.contains("checksum mismatch for diffusion_pytorch_model"),
        "{stderr}"
    );
    assert!(!installed(&s).exists());
}

#[test]
fn an_interrupted_transfer_is_resumed_in_the_same_run_and_across_runs() {
    let (server, weights) = serve_repo();
    server.drop_once_after(REPO, WEIGHTS, 200_000);
    let s = setup(&manifest("tiny-taesd", "mit", ""));
    let (out, stdout, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("connection lost; resuming"), "{stdout}");
    let ranges: Vec<String> = server
        .seen()
        .iter()
        .filter(|r| r.path.ends_with(WEIGHTS))
        .filter_map(|r| r.headers.get("range").cloned())
        .collect();
    assert!(
        ranges.iter().any(|r| r.starts_with("bytes=200000-")),
        "{ranges:?}"
    );
    assert_eq!(
        std::fs::read(installed(&s).join(WEIGHTS)).expect("read"),
        weights
    );

    // A `.part` left by an earlier run is continued, not restarted.
    let s = setup(&manifest("tiny-taesd", "mit", ""));
    let etag = crate::common::hub_server::sha256_hex(&weights);
    std::fs::create_dir_all(blobs(&s)).expect("mkdir");
    std::fs::write(blobs(&s).join(format!("{etag}.part")), &weights[..300_000]).expect("part");
    let before = server.seen().len();
    let (out, stdout, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("resuming diffusion_pytorch_model.safetensors at 300000"),
        "{stdout}"
    );
    let resumed = server.seen()[before..]
        .iter()
        .any(|r| r.headers.get("range").map(String::as_str) == Some("bytes=300000-699999"));
    assert!(resumed, "{:?}", &server.seen()[before..]);
    assert_eq!(
        std::fs::read(installed(&s).join(WEIGHTS)).expect("read"),
        weights
    );
}

fn assert_offline_message(endpoint: &str) {
    let s = setup(&manifest("tiny-taesd", "mit", ""));
    let started = Instant::now();
    let (out, _, stderr) = run(adstudio(&s, endpoint).args(["models", "fetch", "taesd"]));
    let took = started.elapsed();
    assert!(!out.status.success());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        stderr.contains(&format!("cannot reach {endpoint}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.json") && stderr.contains(WEIGHTS),
        "{stderr}"
    );
    assert!(
        stderr.contains(&installed(&s).display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains("adstudio models fetch tiny-taesd"),
        "{stderr}"
    );
    assert!(!installed(&s).exists());
}

#[test]
fn a_closed_port_gives_the_offline_message_quickly() {
    assert_offline_message(&closed_endpoint());
}

#[test]
fn a_hub_that_never_answers_gives_the_offline_message_within_ten_seconds() {
    assert_offline_message(&silent_server());
}

#[test]
fn a_missing_file_and_an_unaccepted_licence_are_clear_errors() {
    let (server, _) = serve_repo();
    let s = setup(&manifest("tiny-taesd", "mit", "").replace("config.json", "gone.json"));
    let (out, _, stderr) = run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(!out.status.success());
    assert!(
        stderr.contains("test/tiny-taesd has no file gone.json at revision main (HTTP 404)"),
        "{stderr}"
    );
    let s = setup(&manifest("tiny-taesd", "creativeml-openrail-m", ""));
    let before = server.seen().len();
    let (out, stdout, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd"]));
    assert!(!out.status.success());
    assert!(
        stdout.contains("creativeml-openrail-m licence restricts"),
        "{stdout}"
    );
    assert!(stderr.contains("--accept-licence"), "{stderr}");
    assert_eq!(
        server.seen().len(),
        before,
        "nothing is downloaded before acceptance"
    );
    let (out, _, stderr) =
        run(adstudio(&s, &server.endpoint).args(["models", "fetch", "taesd", "--accept-licence"]));
    assert!(out.status.success(), "{stderr}");
    assert!(installed(&s).join(WEIGHTS).is_file());
}

#[test]
fn a_corrupt_user_manifest_is_a_clear_error() {
    let s = setup("[[model]]\nname = \"x\"\nrole = \"sd15\"\nfiles = 3\n");
    let (out, _, stderr) = run(adstudio(&s, &closed_endpoint()).args(["models", "list"]));
    assert!(!out.status.success());
    assert!(stderr.contains("manifest.toml"), "{stderr}");
    assert!(stderr.contains("files"), "{stderr}");
}
