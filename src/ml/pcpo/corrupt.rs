//! The corrupted product condition of PCPO (pure and seeded).
//!
//! For a pair of product `p`, with probability 1/2 the product's own
//! condition is degraded — text-only model: 75% of the title's tokens are
//! replaced by a mask token; multimodal model: 75% of the image's 32x32
//! patches are zeroed (black), the prompt unchanged — otherwise the
//! condition of another product (chosen uniformly among the others: its
//! prompt, and for the multimodal model its image) is used. Either way the
//! answer scored under the corrupted condition is `p`'s own chosen answer.
//!
//! The patches are cut from the product image as stored (alpha composited
//! over white), before the vision tower's preprocessing (square padding,
//! resizing), so "32x32" means 32x32 pixels of the product photo.
//!
//! "75%" means `round(0.75 * n)` with halves rounded up, and at least one
//! (see [`corrupted_count`]); the positions are a uniform sample without
//! replacement. Only tokens inside [`ProductPrompt::title`] are ever masked.

use image::RgbImage;
use rand::Rng;

use super::data::ProductPrompt;
use super::error::{PcpoError, Result};

/// Probability that the product's own condition is degraded (otherwise another
/// product's condition is used).
pub const DEGRADE_PROBABILITY: f64 = 0.5;

/// Side of the square image patches that may be zeroed, in pixels.
pub const PATCH_SIZE: u32 = 32;

/// How many of `n` title tokens or image patches are corrupted:
/// `floor(0.75 * n + 0.5)`, at least 1 when `n > 0`.
pub fn corrupted_count(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((3 * n + 2) / 4).max(1)
    }
}

/// Which kind of corruption a pair gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorruptionChoice {
    /// Degrade the product's own condition (mask title tokens / zero patches).
    Degrade,
    /// Use product `donor`'s condition instead.
    Swap {
        /// The other product.
        donor: usize,
    },
}

/// Draws the corruption of a pair of `product` among `products` products:
/// a fair coin (one draw, always taken) picks degrade or swap; the donor of a
/// swap is uniform among the other products. With a single product every
/// pair is degraded.
pub fn choose_corruption<R: Rng>(products: usize, product: usize, rng: &mut R) -> CorruptionChoice {
    let degrade = rng.random_bool(DEGRADE_PROBABILITY);
    if degrade || products < 2 {
        return CorruptionChoice::Degrade;
    }
    let k = rng.random_range(0..products - 1);
    CorruptionChoice::Swap {
        donor: if k >= product { k + 1 } else { k },
    }
}

/// What was done to a text prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextCorruption {
    /// These prompt positions (sorted, all inside the title span) now hold
    /// the mask token.
    MaskedTitle {
        /// Masked positions.
        positions: Vec<usize>,
    },
    /// The prompt is product `donor`'s prompt, unchanged.
    Swapped {
        /// The other product.
        donor: usize,
    },
}

/// A corrupted prompt and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptedPrompt {
    /// The prompt ids to score the chosen answer under.
    pub ids: Vec<u32>,
    /// What was done.
    pub corruption: TextCorruption,
}

/// Replaces [`corrupted_count`] of the title's tokens of `prompt`, chosen
/// uniformly without replacement, by `mask_id`.
pub fn mask_title<R: Rng>(
    prompt: &ProductPrompt,
    mask_id: u32,
    rng: &mut R,
) -> Result<CorruptedPrompt> {
    let span = prompt.title.clone();
    if span.is_empty() || span.end > prompt.ids.len() {
        return Err(PcpoError::Data(format!(
            "title span {span:?} is empty or outside the {}-token prompt",
            prompt.ids.len()
        )));
    }
    let n = span.len();
    let mut positions: Vec<usize> = rand::seq::index::sample(rng, n, corrupted_count(n))
        .into_iter()
        .map(|i| span.start + i)
        .collect();
    positions.sort_unstable();
    let mut ids = prompt.ids.clone();
    for &p in &positions {
        ids[p] = mask_id;
    }
    Ok(CorruptedPrompt {
        ids,
        corruption: TextCorruption::MaskedTitle { positions },
    })
}

/// The corrupted condition of a pair of `product` for the text-only model
/// (see the module documentation).
pub fn corrupt_text<R: Rng>(
    products: &[ProductPrompt],
    product: usize,
    mask_id: u32,
    rng: &mut R,
) -> Result<CorruptedPrompt> {
    let own = products
        .get(product)
        .ok_or_else(|| PcpoError::Data(format!("product {product} of {}", products.len())))?;
    match choose_corruption(products.len(), product, rng) {
        CorruptionChoice::Degrade => mask_title(own, mask_id, rng),
        CorruptionChoice::Swap { donor } => Ok(CorruptedPrompt {
            ids: products[donor].ids.clone(),
            corruption: TextCorruption::Swapped { donor },
        }),
    }
}

/// Columns and rows of the 32x32 patch grid of a `width` x `height` image
/// (partial patches at the right and bottom edges count).
pub fn patch_grid(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(PATCH_SIZE), height.div_ceil(PATCH_SIZE))
}

/// Sets [`corrupted_count`] of the image's 32x32 patches (uniform, without
/// replacement) to black; returns their (column, row) grid cells, sorted by
/// row then column.
pub fn zero_patches<R: Rng>(image: &mut RgbImage, rng: &mut R) -> Vec<(u32, u32)> {
    let (cols, rows) = patch_grid(image.width(), image.height());
    let n = (cols * rows) as usize;
    let mut cells: Vec<(u32, u32)> = rand::seq::index::sample(rng, n, corrupted_count(n))
        .into_iter()
        .map(|i| (i as u32 % cols, i as u32 / cols))
        .collect();
    cells.sort_unstable_by_key(|&(c, r)| (r, c));
    for &(c, r) in &cells {
        let x_end = ((c + 1) * PATCH_SIZE).min(image.width());
        let y_end = ((r + 1) * PATCH_SIZE).min(image.height());
        for y in r * PATCH_SIZE..y_end {
            for x in c * PATCH_SIZE..x_end {
                image.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
    }
    cells
}

/// What was done to a product image (the multimodal model's condition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageCorruption {
    /// The product's own prompt with a copy of its image in which these
    /// 32x32 cells (sorted by row then column) are black.
    Zeroed {
        /// The corrupted image.
        image: RgbImage,
        /// The zeroed (column, row) cells.
        cells: Vec<(u32, u32)>,
    },
    /// Product `donor`'s prompt and image, unchanged.
    Swapped {
        /// The other product.
        donor: usize,
    },
}

/// The corrupted condition of a pair of `product` for the multimodal model
/// (see the module documentation): the same coin and donor draw as
/// [`corrupt_text`], then, when degrading, [`zero_patches`] on a copy of
/// the product's image.
pub fn corrupt_image<R: Rng>(
    images: &[RgbImage],
    product: usize,
    rng: &mut R,
) -> Result<ImageCorruption> {
    let own = images.get(product).ok_or_else(|| {
        PcpoError::Data(format!("image of product {product} of {}", images.len()))
    })?;
    match choose_corruption(images.len(), product, rng) {
        CorruptionChoice::Degrade => {
            let mut image = own.clone();
            let cells = zero_patches(&mut image, rng);
            Ok(ImageCorruption::Zeroed { image, cells })
        }
        CorruptionChoice::Swap { donor } => Ok(ImageCorruption::Swapped { donor }),
    }
}
