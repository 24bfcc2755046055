//! Real model files for the tests marked
//! `#[ignore = "needs <model>: set ADSTUDIO_..."]`.
//!
//! Such a test runs only when asked for (`cargo test -- --include-ignored`
//! or `--ignored`); it then fails with a clear message when its variable is
//! unset or names no file, and never passes without the model.
#![allow(dead_code)]

use std::path::PathBuf;

/// The file named by `var`, for a test that needs the model `what`; panics
/// naming the variable and the script that fetches the model (`fetch`) when
/// the variable is unset, empty or names no file.
pub fn required(var: &str, what: &str, fetch: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "this test needs {what}: set {var} to its file (`{fetch}` fetches it and prints the path)"
        ),
    };
    assert!(
        path.is_file(),
        "this test needs {what}: {var}={} is not a file (`{fetch}` fetches it)",
        path.display()
    );
    path
}

/// U²-Net-p's ONNX file, from `ADSTUDIO_U2NETP_ONNX`.
pub fn u2netp_onnx() -> PathBuf {
    required(
        "ADSTUDIO_U2NETP_ONNX",
        "U2-Net-p",
        ".ci/fetch-u2netp.sh DIR",
    )
}

/// SmolLM2-135M-Instruct's Q4_1 GGUF, from `ADSTUDIO_SMOLLM2_GGUF`.
pub fn smollm2_gguf() -> PathBuf {
    required(
        "ADSTUDIO_SMOLLM2_GGUF",
        "SmolLM2-135M-Instruct (GGUF)",
        "eval \"$(.ci/fetch-smollm2.sh DIR)\"",
    )
}

/// The folder named by `var`, for a test that needs the model folder
/// `what`; panics like [`required`] when the variable is unset, empty or
/// names no folder.
pub fn required_dir(var: &str, what: &str, fetch: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "this test needs {what}: set {var} to its folder (`{fetch}` fetches it and prints the export)"
        ),
    };
    assert!(
        path.is_dir(),
        "this test needs {what}: {var}={} is not a folder (`{fetch}` fetches it)",
        path.display()
    );
    path
}

/// all-MiniLM-L6-v2's folder (config.json, tokenizer.json,
/// model.safetensors), from `ADSTUDIO_MINILM`.
pub fn minilm_dir() -> PathBuf {
    required_dir(
        "ADSTUDIO_MINILM",
        "all-MiniLM-L6-v2",
        "eval \"$(.ci/fetch-minilm.sh DIR)\"",
    )
}
