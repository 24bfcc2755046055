//! Fixture lookup and tiny model folders shared by several test files.
//!
//! Include with `#[path = "common/fixtures.rs"] mod fixtures;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The fixture root: `$ADSTUDIO_FIXTURES`, or `tests/fixtures` in the repo.
pub fn root() -> PathBuf {
    match std::env::var_os("ADSTUDIO_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

/// One fixture set under [`root`] (e.g. `sd_tiny`).
pub fn fixture_dir(set: &str) -> PathBuf {
    root().join(set)
}

/// Copies the files (not sub-folders) of `from` into `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

/// A CLIP BPE tokenizer folder (`vocab.json` + `merges.txt`) with one
/// token per printable ASCII character (vocab 1000, start 998, end 999),
/// for the tiny text encoders whose vocabularies have 1000 entries.
pub fn write_tiny_clip_tokenizer(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut vocab = serde_json::Map::new();
    for (i, c) in (33u8..=126).enumerate() {
        let c = char::from(c).to_string();
        vocab.insert(format!("{c}</w>"), (2 * i as u64 + 1).into());
        vocab.insert(c, (2 * i as u64).into());
    }
    vocab.insert("<|startoftext|>".into(), 998u64.into());
    vocab.insert("<|endoftext|>".into(), 999u64.into());
    std::fs::write(
        dir.join("vocab.json"),
        serde_json::Value::Object(vocab).to_string(),
    )
    .expect("vocab");
    std::fs::write(dir.join("merges.txt"), "#version: 0.2\n").expect("merges");
}
