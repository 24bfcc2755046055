//! Preference pairs as PCPO training data: one prompt per product (the
//! first instruction phrasing with its title), the two answers tokenised.
//! For the text-only prompt model ([`encode_pairs`]) the prompt is text;
//! for the LLaVA model ([`encode_image_pairs`]) it starts with the
//! product's image, which the set carries (read from the store by
//! [`product_images`]). `pcpo train` and the online rounds both use these.

use std::collections::BTreeMap;

use anyhow::Context as _;
use image::{RgbImage, RgbaImage};

use crate::ml::pcpo::{
    answer_ids, image_product_prompt, product_prompt, PreferencePair, ProductPrompt, TrainingSet,
};
use crate::ml::prompt_model::{
    ChatMessage, MultimodalPromptModel, PromptModel, Role, TextTokenizer,
};
use crate::prefs::instruction_for;
use crate::product::load_product_bytes;
use crate::store::{ImageStore, ProductId, Store};

use super::adapter_record::PairText;

/// The products' images by product, as the multimodal model sees them.
pub type ProductImages = BTreeMap<ProductId, RgbImage>;

/// The token masked title tokens become: `<|endoftext|>` or `<unk>` when
/// the tokenizer has one, else 0.
pub fn mask_token_id(model: &PromptModel) -> u32 {
    mask_token_for(model.tokenizer())
}

/// [`mask_token_id`] for any tokenizer.
pub fn mask_token_for(tok: &TextTokenizer) -> u32 {
    ["<|endoftext|>", "<unk>"]
        .iter()
        .find_map(|t| tok.token_id(t))
        .unwrap_or(0)
}

/// Tokenises `pairs` (one prompt per product, built from its title).
pub fn encode_pairs(model: &PromptModel, pairs: &[PairText<'_>]) -> anyhow::Result<TrainingSet> {
    let tok = model.tokenizer();
    encode_with(tok, pairs, &mut |p| {
        let msg = [ChatMessage::new(Role::User, instruction_for(p.title))];
        Ok(product_prompt(tok, model.template(), &msg, p.title)?)
    })
}

/// Tokenises `pairs` for the LLaVA model: each product's prompt holds its
/// image's tokens (as suggestions prompt it) and the set carries each
/// product's image from `images`; a product without one is an error
/// naming it.
pub fn encode_image_pairs(
    model: &MultimodalPromptModel,
    pairs: &[PairText<'_>],
    images: &ProductImages,
) -> anyhow::Result<TrainingSet> {
    let tok = model.tokenizer();
    let llava = model.llava();
    let image = (
        model.image_placeholder(),
        llava.config().image_token_index,
        llava.image_tokens(),
    );
    let mut order = Vec::new();
    let mut set = encode_with(tok, pairs, &mut |p| {
        order.push(p.product);
        let msg = [ChatMessage::new(Role::User, instruction_for(p.title))];
        Ok(image_product_prompt(
            tok,
            model.template(),
            &msg,
            p.title,
            image,
        )?)
    })?;
    for id in order {
        let img = images
            .get(&id)
            .with_context(|| format!("product {id} has no image to train the LLaVA model on"))?;
        set.images.push(img.clone());
    }
    Ok(set)
}

/// Shared loop: one prompt per product (built by `prompt` the first time
/// the product appears), then each pair's answers.
fn encode_with(
    tok: &TextTokenizer,
    pairs: &[PairText<'_>],
    prompt: &mut dyn FnMut(&PairText<'_>) -> anyhow::Result<ProductPrompt>,
) -> anyhow::Result<TrainingSet> {
    let mut index: BTreeMap<ProductId, usize> = BTreeMap::new();
    let mut set = TrainingSet::default();
    for p in pairs {
        let product = match index.get(&p.product) {
            Some(&i) => i,
            None => {
                let made =
                    prompt(p).with_context(|| format!("product {} ({:?})", p.product, p.title))?;
                set.products.push(made);
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

/// `rgba` composited over white, exactly as the multimodal model's
/// preprocessing composites it (so an opaque result preprocesses to the
/// same pixels as the original).
pub fn over_white(rgba: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = a as f32 / 255.0;
        let over = |c: u8| (c as f32 * a + 255.0 * (1.0 - a)).round() as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The image hash of each product of `images` (SHA-256 of the stored
/// original, from the store), as adapters record it: `{"<id>": "<hash>"}`.
pub fn image_hashes(store: &Store, images: &ProductImages) -> anyhow::Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for id in images.keys() {
        let row = store
            .product(*id)
            .context("reading the products")?
            .with_context(|| format!("product {id} is not in the store"))?;
        out.insert(id.to_string(), serde_json::Value::String(row.image_hash));
    }
    Ok(serde_json::Value::Object(out))
}

/// The stored original images of `products` (composited over white), read
/// and decoded from the store; a missing product or image fails naming it.
pub fn product_images(
    store: &Store,
    images: &ImageStore,
    products: impl IntoIterator<Item = ProductId>,
) -> anyhow::Result<ProductImages> {
    let mut out = ProductImages::new();
    for id in products {
        if out.contains_key(&id) {
            continue;
        }
        let row = store
            .product(id)
            .context("reading the products")?
            .with_context(|| format!("product {id} is not in the store"))?;
        let bytes = images
            .read(&row.image_hash, &row.image_ext)
            .with_context(|| format!("reading the image of product {id} ({:?})", row.title))?;
        let decoded = load_product_bytes(&bytes)
            .with_context(|| format!("decoding the image of product {id} ({:?})", row.title))?;
        out.insert(id, over_white(&decoded.rgba));
    }
    Ok(out)
}
