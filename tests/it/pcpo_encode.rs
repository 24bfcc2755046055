//! Tokenising products and answers for PCPO: the title's token span covers
//! exactly the title (byte-level tokenizer: one token per byte), also with a
//! BOS token prepended; answers end with the end-of-turn token.

use crate::common::words;

use adstudio::ml::pcpo::{answer_ids, product_prompt};
use adstudio::ml::prompt_model::{ChatMessage, ChatTemplate, Role, TextTokenizer};

fn tokenizer(bos: bool) -> TextTokenizer {
    TextTokenizer::from_tokenizer(words::byte_tokenizer(false), Some(300), bos, vec![301])
}

#[test]
fn title_span_covers_exactly_the_title() {
    let title = "Red mug 350 ml";
    let msg = [
        ChatMessage::new(Role::System, "You write prompts."),
        ChatMessage::new(Role::User, format!("Product: {title}. Write a prompt.")),
    ];
    for bos in [false, true] {
        let tok = tokenizer(bos);
        let p = product_prompt(&tok, ChatTemplate::ChatMl, &msg, title).expect("prompt");
        assert_eq!(p.title.len(), title.len(), "bos {bos}");
        assert_eq!(tok.decode(&p.ids[p.title.clone()]).expect("decode"), title);
        let before = tok.decode(&p.ids[..p.title.start]).expect("decode");
        assert!(before.ends_with("Product: "), "{before:?}");
        assert_eq!(p.ids.first() == Some(&300), bos);
    }
    let tok = tokenizer(false);
    let err = product_prompt(&tok, ChatTemplate::ChatMl, &msg, "Blue shoe").expect_err("absent");
    assert!(err.to_string().contains("does not occur"), "{err}");
    let ids = answer_ids(&tok, " warm studio light ").expect("answer");
    assert_eq!(ids.last(), Some(&301));
    assert_eq!(
        tok.decode(&ids[..ids.len() - 1]).expect("decode"),
        "warm studio light"
    );
    assert!(answer_ids(&tok, "   ").is_err());
}
