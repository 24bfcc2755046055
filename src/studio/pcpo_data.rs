//! Preference pairs as PCPO training data for the text-only prompt model:
//! one prompt per product (the first instruction phrasing with its title),
//! the two answers tokenised. `pcpo train` and the online rounds both use
//! [`encode_pairs`].

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::ml::pcpo::{answer_ids, product_prompt, PreferencePair, TrainingSet};
use crate::ml::prompt_model::{ChatMessage, PromptModel, Role};
use crate::prefs::instruction_for;
use crate::store::ProductId;

use super::adapter_record::PairText;

/// The token masked title tokens become: `<|endoftext|>` or `<unk>` when
/// the tokenizer has one, else 0.
pub fn mask_token_id(model: &PromptModel) -> u32 {
    let tok = model.tokenizer();
    ["<|endoftext|>", "<unk>"]
        .iter()
        .find_map(|t| tok.token_id(t))
        .unwrap_or(0)
}

/// Tokenises `pairs` (one prompt per product, built from its title).
pub fn encode_pairs(model: &PromptModel, pairs: &[PairText<'_>]) -> anyhow::Result<TrainingSet> {
    let tok = model.tokenizer();
    let mut index: BTreeMap<ProductId, usize> = BTreeMap::new();
    let mut set = TrainingSet::default();
    for p in pairs {
        let product = match index.get(&p.product) {
            Some(&i) => i,
            None => {
                let msg = [ChatMessage::new(Role::User, instruction_for(p.title))];
                let prompt = product_prompt(tok, model.template(), &msg, p.title)
                    .with_context(|| format!("product {} ({:?})", p.product, p.title))?;
                set.products.push(prompt);
                index.insert(p.product, set.products.len() - 1);
                set.products.len() - 1
            }
        };
        set.pairs.push(PreferencePair {
            product,
            chosen: answer_ids(tok, p.chosen)?,
            rejected: answer_ids(tok, p.rejected)?,
        });
    }
    Ok(set)
}
