//! Tokenised training data: product conditions (prompt ids with the title's
//! token span) and preference pairs (chosen / rejected answer ids).

use std::ops::Range;

use candle_core::{Device, Tensor};
use image::RgbImage;

use super::error::{PcpoError, Result};

/// The conditioning prompt of one product, tokenised: the full chat prompt
/// (instruction template + product title + generation header) and the
/// positions of the title's tokens in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrompt {
    /// Prompt token ids (the answer follows them).
    pub ids: Vec<u32>,
    /// Positions of the title's tokens in `ids` (the only ones masking may touch).
    pub title: Range<usize>,
}

/// One preference: for `product`, `chosen` is preferred over `rejected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencePair {
    /// Index into [`TrainingSet::products`].
    pub product: usize,
    /// Token ids of the preferred answer.
    pub chosen: Vec<u32>,
    /// Token ids of the other answer.
    pub rejected: Vec<u32>,
}

/// Products and the preference pairs over them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainingSet {
    /// Product conditions.
    pub products: Vec<ProductPrompt>,
    /// Preference pairs, each naming its product.
    pub pairs: Vec<PreferencePair>,
    /// The products' images (RGB, alpha composited over white), one per
    /// product, for the multimodal model; empty for the text-only model.
    /// With images, each prompt holds the image's tokens, whose embeddings
    /// become the image's features, and the corrupted condition zeroes
    /// image patches instead of masking title tokens.
    pub images: Vec<RgbImage>,
}

impl TrainingSet {
    /// Checks the set can be trained on: at least `min_pairs` pairs, every
    /// pair names a product, answers are non-empty and differ, every prompt
    /// is non-empty with a non-empty title span inside it; images, when
    /// given, are one non-empty image per product.
    pub fn validate(&self, min_pairs: usize) -> Result<()> {
        self.validate_products()?;
        let bad = |m: String| Err(PcpoError::Data(m));
        if self.pairs.len() < min_pairs.max(1) {
            return bad(format!(
                "{} preference pair(s); at least {} needed to train",
                self.pairs.len(),
                min_pairs.max(1)
            ));
        }
        for (i, pair) in self.pairs.iter().enumerate() {
            if pair.product >= self.products.len() {
                return bad(format!(
                    "pair {i} names product {} of {}",
                    pair.product,
                    self.products.len()
                ));
            }
            if pair.chosen.is_empty() || pair.rejected.is_empty() {
                return bad(format!("pair {i} has an empty answer"));
            }
            if pair.chosen == pair.rejected {
                return bad(format!(
                    "pair {i}: chosen and rejected answers are identical"
                ));
            }
        }
        Ok(())
    }

    /// Whether the set conditions on product images (multimodal model).
    pub fn has_images(&self) -> bool {
        !self.images.is_empty()
    }

    fn validate_products(&self) -> Result<()> {
        let bad = |m: String| Err(PcpoError::Data(m));
        for (i, p) in self.products.iter().enumerate() {
            if p.ids.is_empty() || p.title.is_empty() || p.title.end > p.ids.len() {
                return bad(format!(
                    "product {i}: title span {:?} is empty or outside its {}-token prompt",
                    p.title,
                    p.ids.len()
                ));
            }
        }
        if self.has_images() && self.images.len() != self.products.len() {
            return bad(format!(
                "{} product images for {} products",
                self.images.len(),
                self.products.len()
            ));
        }
        if let Some(i) = self
            .images
            .iter()
            .position(|im| im.width() == 0 || im.height() == 0)
        {
            return bad(format!("product {i}: the image is empty"));
        }
        Ok(())
    }
}

/// A prompt followed by an answer, with the answer's positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Prompt ids then answer ids.
    pub ids: Vec<u32>,
    /// Positions of the answer in `ids`.
    pub completion: Range<usize>,
}

impl Sequence {
    /// `prompt ++ answer`; the prompt must be non-empty (the first answer
    /// token is predicted from the last prompt token).
    pub fn new(prompt: &[u32], answer: &[u32]) -> Result<Self> {
        if prompt.is_empty() || answer.is_empty() {
            return Err(PcpoError::Data(
                "a training sequence needs a non-empty prompt and answer".to_string(),
            ));
        }
        let mut ids = prompt.to_vec();
        ids.extend_from_slice(answer);
        Ok(Self {
            completion: prompt.len()..ids.len(),
            ids,
        })
    }
}

/// Right-pads sequences with `pad` into a (rows, longest) u32 tensor and
/// returns it with the answer spans. With a causal decoder the padding after
/// a row's last token cannot change that row's scores.
pub fn pad_batch(
    rows: &[&Sequence],
    pad: u32,
    device: &Device,
) -> Result<(Tensor, Vec<Range<usize>>)> {
    let width = rows.iter().map(|s| s.ids.len()).max().unwrap_or(0);
    if width < 2 {
        return Err(PcpoError::Data("empty batch".to_string()));
    }
    let mut flat = Vec::with_capacity(rows.len() * width);
    for row in rows {
        flat.extend_from_slice(&row.ids);
        flat.extend(std::iter::repeat_n(pad, width - row.ids.len()));
    }
    let ids = Tensor::from_vec(flat, (rows.len(), width), device)?;
    Ok((ids, rows.iter().map(|s| s.completion.clone()).collect()))
}
