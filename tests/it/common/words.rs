//! Word-level tokenizers for the tiny random language models (vocabulary
//! 512): the words are `w0`, `w1`, ..., unknown words map to `w0`, and text
//! is split on white space.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tokenizers::decoders::wordpiece::WordPiece;
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{AddedToken, Tokenizer};

/// The vocabulary size of the tiny models.
pub const VOCAB: u32 = 512;

/// The `<image>` placeholder of the tiny LLaVA (the last id, 511).
pub const IMAGE_TOKEN: &str = "<image>";

/// `w0`..`w511`, split on white space.
pub fn tokenizer() -> Tokenizer {
    build(false)
}

/// `w0`..`w510` and `<image>` = 511 as a special token, split on white
/// space.
pub fn tokenizer_with_image() -> Tokenizer {
    build(true)
}

/// [`tokenizer_with_image`] with a WordPiece decoder (decoded words are
/// joined by spaces).
pub fn tokenizer_with_image_and_decoder() -> Tokenizer {
    let mut tok = build(true);
    tok.with_decoder(Some(WordPiece::default()));
    tok
}

/// A copy of the tiny model folder `from` (`config.json` and
/// `model.safetensors`) at `to`, with `tok` saved as its `tokenizer.json`
/// when given; returns `to`.
pub fn model_folder(from: &Path, to: &Path, tok: Option<&Tokenizer>) -> PathBuf {
    std::fs::create_dir_all(to).expect("mkdir");
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(from.join(f), to.join(f)).expect("copy model file");
    }
    if let Some(tok) = tok {
        tok.save(to.join("tokenizer.json"), false)
            .expect("save tokenizer.json");
    }
    to.to_path_buf()
}

fn build(image: bool) -> Tokenizer {
    let vocab = (0..VOCAB)
        .map(|i| {
            let word = if image && i == VOCAB - 1 {
                IMAGE_TOKEN.to_string()
            } else {
                format!("w{i}")
            };
            (word, i)
        })
        .collect();
    let wordlevel = WordLevel::builder()
        .vocab(vocab)
        .unk_token("w0".to_string())
        .build()
        .expect("word-level model");
    let mut tok = Tokenizer::new(wordlevel);
    tok.with_pre_tokenizer(Some(Whitespace {}));
    if image {
        tok.add_special_tokens(&[AddedToken::from(IMAGE_TOKEN, true)]);
    }
    tok
}

/// A byte-level tokenizer for the tiny models: one token per byte (ids
/// 0..=255, no merges), fillers up to 510 and, with `image`, `<image>` as
/// the special token 511. Text round-trips exactly, so constrained
/// decoding over English phrases works with it.
pub fn byte_tokenizer(image: bool) -> Tokenizer {
    use tokenizers::models::bpe::BPE;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
    alphabet.sort_unstable();
    let mut vocab: Vec<(String, u32)> = alphabet
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i as u32))
        .collect();
    for i in alphabet.len() as u32..VOCAB - 1 {
        vocab.push((format!("<f{i}>"), i));
    }
    let vocab: [(String, u32); VOCAB as usize - 1] =
        vocab.try_into().expect("511 vocabulary entries");
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, vec![])
        .build()
        .expect("byte-level BPE");
    let mut tok = Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
    tok.with_decoder(Some(ByteLevel::default()));
    if image {
        tok.add_special_tokens(&[AddedToken::from(IMAGE_TOKEN, true)]);
    }
    tok
}
