//! `adstudio models list | path ROLE`: the model registry through the
//! binary, with every rule of the lookup (flag-free here: environment
//! variable, `<data dir>/models/ROLE`, `./models/ROLE`).

use std::path::Path;
use std::process::Command;

const ROLE_VARS: [&str; 5] = [
    "ADSTUDIO_SD15",
    "ADSTUDIO_CONTROLNET_CANNY",
    "ADSTUDIO_PROMPT_MODEL",
    "ADSTUDIO_REWARD_MODEL",
    "ADSTUDIO_U2NETP_ONNX",
];

/// The binary in `cwd` with data dir `data` and none of the roles'
/// variables set.
fn adstudio(cwd: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.current_dir(cwd).arg("--data-dir").arg(data);
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    cmd
}

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, b"x").expect("write");
}

fn stdout_of(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run adstudio");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_says_where_each_role_was_found_or_what_is_missing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (cwd, data) = (tmp.path().join("cwd"), tmp.path().join("data"));
    std::fs::create_dir_all(&cwd).expect("cwd");
    touch(&cwd.join("models/u2netp/u2netp.onnx"));
    touch(&data.join("models/prompt-model/SmolLM2.gguf"));
    touch(&data.join("models/sd15/unet/config.json"));
    let reward = tmp.path().join("elsewhere/rm.safetensors");
    touch(&reward);
    let (ok, out, err) = stdout_of(
        adstudio(&cwd, &data)
            .env("ADSTUDIO_REWARD_MODEL", &reward)
            .args(["models", "list"]),
    );
    assert!(ok, "{err}");
    let line = |role: &str| {
        out.lines()
            .find(|l| l.starts_with(role))
            .unwrap_or_else(|| panic!("no line for {role} in:\n{out}"))
            .to_string()
    };
    assert!(line("u2netp").contains("working directory"), "{out}");
    assert!(line("prompt-model").contains("SmolLM2.gguf"), "{out}");
    assert!(line("prompt-model").contains("data directory"), "{out}");
    assert!(
        line("reward-model").contains("environment variable"),
        "{out}"
    );
    let sd = line("sd15");
    assert!(sd.contains("MISSING"), "{sd}");
    assert!(
        sd.contains("vae, text_encoder, scheduler, tokenizer"),
        "{sd}"
    );
    assert!(line("controlnet-canny").contains("MISSING"), "{out}");
}

#[test]
fn path_prints_one_role_and_fails_for_a_missing_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    touch(&data.join("models/reward-model/compact-rm.safetensors"));
    let (ok, out, err) =
        stdout_of(adstudio(tmp.path(), &data).args(["models", "path", "reward-model"]));
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        data.join("models/reward-model/compact-rm.safetensors")
            .display()
            .to_string()
    );
    let (ok, _, err) = stdout_of(adstudio(tmp.path(), &data).args(["models", "path", "u2netp"]));
    assert!(!ok);
    assert!(err.contains("ADSTUDIO_U2NETP_ONNX"), "{err}");
    let (ok, _, err) = stdout_of(adstudio(tmp.path(), &data).args(["models", "path", "nope"]));
    assert!(!ok);
    assert!(err.contains("unknown model role"), "{err}");
}

#[test]
fn device_flag_cpu_is_used_and_cuda_without_the_feature_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (ok, out, err) =
        stdout_of(adstudio(tmp.path(), &data).args(["--device", "cpu", "models", "list"]));
    assert!(ok, "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("device: CPU (f32)"), "{out}");
    let (ok, _, err) =
        stdout_of(adstudio(tmp.path(), &data).args(["models", "list", "--device", "cuda"]));
    if cfg!(feature = "cuda") {
        return; // a CUDA build: whether it starts depends on the machine
    }
    assert!(!ok);
    assert!(err.contains("--device cuda:0"), "{err}");
    assert!(
        err.contains("this build has no CUDA support (rebuild with `--features cuda`)"),
        "{err}"
    );
    let (ok, _, err) =
        stdout_of(adstudio(tmp.path(), &data).args(["--device", "tpu", "models", "list"]));
    assert!(!ok);
    assert!(err.contains("unknown device"), "{err}");
}

#[test]
fn list_says_which_manifest_entries_are_pinned_and_a_user_entry_can_pin_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (cwd, data) = (tmp.path().join("cwd"), tmp.path().join("data"));
    std::fs::create_dir_all(&cwd).expect("cwd");
    // The manifest's entries are the indented lines (a role's status line
    // may start with the same name).
    let entry_line = |out: &str, name: &str| -> String {
        out.lines()
            .find(|l| l.starts_with(&format!("  {name} ")))
            .unwrap_or_else(|| panic!("no entry {name} in:\n{out}"))
            .to_string()
    };
    let (ok, out, err) = stdout_of(adstudio(&cwd, &data).args(["models", "list"]));
    assert!(ok, "{err}");
    let minilm = entry_line(&out, "all-minilm-l6-v2");
    assert!(minilm.contains("1110a243fd (pinned)"), "{minilm}");
    assert!(entry_line(&out, "u2netp").contains("- (pinned)"));
    let taesd = entry_line(&out, "taesd");
    assert!(taesd.contains("main (not pinned)"), "{taesd}");

    // The README's way to pin an entry: a user entry of the same name with
    // a commit and a sha256 per file.
    let sha = "ab".repeat(32);
    let commit = "0123456789".repeat(4);
    let user = format!(
        "[[model]]\nname = \"taesd\"\nrole = \"taesd\"\ndefault = true\nrepo = \"madebyollama/taesd\"\n\
         revision = \"{commit}\"\nlicence = \"mit\"\n\
         files = [{{ path = \"diffusion_pytorch_model.safetensors\", size = 9, sha256 = \"{sha}\" }}]\n"
    );
    std::fs::create_dir_all(data.join("models")).expect("mkdir");
    std::fs::write(data.join("models/manifest.toml"), user).expect("write");
    let (ok, out, err) = stdout_of(adstudio(&cwd, &data).args(["models", "list"]));
    assert!(ok, "{err}");
    let taesd = entry_line(&out, "taesd");
    assert!(taesd.contains("0123456789 (pinned)"), "{taesd}");
}
