//! A synthetic click world for tests and demos.
//!
//! Each product has a colour (hue), a shape and a hidden base appeal. Each
//! of its creatives is an ad image drawn from four visible properties, all
//! in [0, 1]:
//! - `brightness`: value (HSV) of the background;
//! - `harmony`: how close the background hue is to the product hue
//!   (1 = same hue, 0 = complementary hue);
//! - `clutter`: how many small distracting shapes litter the background;
//! - `scale`: how large the product is drawn.
//!
//! The true click-through rate is a known logistic function of these
//! properties (see [`true_ctr`]); impressions are drawn log-uniformly and
//! clicks binomially from the true CTR, so observed CTRs carry realistic
//! sampling noise. Nuisance variation that does not affect the CTR (product
//! position jitter, background gradient, clutter colours, which side of the
//! colour wheel the background hue lies on) keeps the task honest.

use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::clicklog::ClickRow;
use super::draw::{hsv_to_rgb, Canvas, ProductShape, ShapeSpec};
use super::error::{Result, RewardError};

/// Logit of the CTR of an average creative of an average product.
pub const CTR_LOGIT_BASE: f64 = -3.6;
/// Logit gained per unit of `harmony` (0 to 1).
pub const CTR_HARMONY_WEIGHT: f64 = 1.4;
/// Logit gained per unit of `clutter` (negative: clutter hurts).
pub const CTR_CLUTTER_WEIGHT: f64 = -1.2;
/// Logit gained per unit of `scale`.
pub const CTR_SCALE_WEIGHT: f64 = 1.0;
/// Logit gained per unit of `brightness`.
pub const CTR_BRIGHTNESS_WEIGHT: f64 = 0.6;

/// The visible properties of one synthetic creative, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreativeTraits {
    /// Background value (dark to bright).
    pub brightness: f64,
    /// Background hue closeness to the product hue (complementary to equal).
    pub harmony: f64,
    /// Amount of background clutter (none to heavy).
    pub clutter: f64,
    /// Product size (small to large).
    pub scale: f64,
}

/// The true CTR of a creative: `sigmoid(CTR_LOGIT_BASE + product_offset +
/// sum_k weight_k * (trait_k - 0.5))` with the `CTR_*_WEIGHT` constants.
pub fn true_ctr(product_offset: f64, t: &CreativeTraits) -> f64 {
    let logit = CTR_LOGIT_BASE
        + product_offset
        + CTR_HARMONY_WEIGHT * (t.harmony - 0.5)
        + CTR_CLUTTER_WEIGHT * (t.clutter - 0.5)
        + CTR_SCALE_WEIGHT * (t.scale - 0.5)
        + CTR_BRIGHTNESS_WEIGHT * (t.brightness - 0.5);
    1.0 / (1.0 + (-logit).exp())
}

/// Draws one binomial sample (number of successes in `n` trials of
/// probability `p`) by summing geometric waiting times, which is exact and
/// costs about `n * min(p, 1 - p)` steps.
pub fn sample_binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - sample_binomial(rng, n, 1.0 - p);
    }
    let log_q = (1.0 - p).ln();
    let mut successes = 0u64;
    let mut position = 0u64;
    loop {
        // 1 - U lies in (0, 1], so its log is finite.
        let u: f64 = 1.0 - rng.random::<f64>();
        let skip = (u.ln() / log_q).floor();
        if skip >= (n - position) as f64 {
            return successes;
        }
        position += skip as u64 + 1;
        successes += 1;
        if position >= n {
            return successes;
        }
    }
}

/// Size and randomness of a synthetic world.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorldConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of products.
    pub products: usize,
    /// Number of creatives per product.
    pub creatives_per_product: usize,
    /// Side of the square ad images, in pixels (at least 8).
    pub image_size: u32,
    /// Impressions are drawn log-uniformly in this inclusive range.
    pub impressions: (u64, u64),
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            products: 100,
            creatives_per_product: 6,
            image_size: 32,
            impressions: (800, 50_000),
        }
    }
}

/// A synthetic product.
#[derive(Debug, Clone)]
pub struct SyntheticProduct {
    /// Product id (`p0000`, `p0001`...).
    pub id: String,
    /// Product hue in degrees.
    pub hue: f64,
    /// Product outline.
    pub shape: ProductShape,
    /// Hidden per-product logit offset (base appeal).
    pub offset: f64,
}

/// A synthetic creative: its image, the properties it was drawn from, its
/// true CTR and its sampled click log.
#[derive(Debug, Clone)]
pub struct SyntheticCreative {
    /// Creative id (`p0003_c2`...).
    pub id: String,
    /// Index of the product in [`SyntheticWorld::products`].
    pub product: usize,
    /// The visible properties.
    pub traits: CreativeTraits,
    /// The true CTR.
    pub true_ctr: f64,
    /// Sampled impressions.
    pub impressions: u64,
    /// Sampled clicks (binomial in impressions and the true CTR).
    pub clicks: u64,
    /// The ad image.
    pub image: RgbImage,
}

impl SyntheticCreative {
    /// Observed CTR = clicks / impressions.
    pub fn observed_ctr(&self) -> f64 {
        if self.impressions == 0 {
            0.0
        } else {
            self.clicks as f64 / self.impressions as f64
        }
    }
}

/// A generated world: products and their creatives.
#[derive(Debug, Clone)]
pub struct SyntheticWorld {
    /// The configuration it was generated from.
    pub config: WorldConfig,
    /// The products.
    pub products: Vec<SyntheticProduct>,
    /// All creatives, grouped by product in product order.
    pub creatives: Vec<SyntheticCreative>,
}

impl SyntheticWorld {
    /// Generates a world deterministically from its configuration.
    pub fn generate(config: &WorldConfig) -> Result<Self> {
        if config.image_size < 8 {
            return Err(RewardError::Config(format!(
                "synthetic image_size must be at least 8, got {}",
                config.image_size
            )));
        }
        let (lo, hi) = config.impressions;
        if lo == 0 || hi < lo {
            return Err(RewardError::Config(format!(
                "synthetic impressions range must satisfy 0 < lo <= hi, got ({lo}, {hi})"
            )));
        }
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut products = Vec::with_capacity(config.products);
        let mut creatives = Vec::with_capacity(config.products * config.creatives_per_product);
        for p in 0..config.products {
            let product = SyntheticProduct {
                id: format!("p{p:04}"),
                hue: rng.random_range(0.0..360.0),
                shape: ProductShape::ALL[rng.random_range(0..ProductShape::ALL.len())],
                offset: rng.random_range(-0.4..0.4),
            };
            for c in 0..config.creatives_per_product {
                let traits = CreativeTraits {
                    brightness: rng.random(),
                    harmony: rng.random(),
                    clutter: rng.random(),
                    scale: rng.random(),
                };
                let image = render_creative(&product, &traits, config.image_size, &mut rng);
                let ctr = true_ctr(product.offset, &traits);
                let log_imp = rng.random_range((lo as f64).ln()..=(hi as f64).ln());
                let impressions = (log_imp.exp().round() as u64).clamp(lo, hi);
                let clicks = sample_binomial(&mut rng, impressions, ctr);
                creatives.push(SyntheticCreative {
                    id: format!("{}_c{c}", product.id),
                    product: p,
                    traits,
                    true_ctr: ctr,
                    impressions,
                    clicks,
                    image,
                });
            }
            products.push(product);
        }
        Ok(Self {
            config: config.clone(),
            products,
            creatives,
        })
    }

    /// The click log of the world, one row per creative, with image paths
    /// `<creative id>.png` (relative; the images themselves are in memory).
    pub fn click_rows(&self) -> Vec<ClickRow> {
        self.creatives
            .iter()
            .map(|c| ClickRow {
                creative_id: c.id.clone(),
                product_id: self.products[c.product].id.clone(),
                image_path: format!("{}.png", c.id).into(),
                impressions: c.impressions,
                clicks: c.clicks,
            })
            .collect()
    }
}

/// Draws one ad image for a product with the given visible properties.
/// `rng` supplies the nuisance variation (it does not change the CTR).
pub fn render_creative<R: Rng + ?Sized>(
    product: &SyntheticProduct,
    traits: &CreativeTraits,
    size: u32,
    rng: &mut R,
) -> RgbImage {
    // Background: hue offset from the product by (1 - harmony) * 180 deg on
    // a random side of the wheel, value = brightness, slight gradient.
    let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let bg_hue = product.hue + side * (1.0 - traits.harmony) * 180.0;
    let value = 0.15 + 0.8 * traits.brightness;
    let tilt: f64 = rng.random_range(-0.08..0.08);
    let top = hsv_to_rgb(bg_hue as f32, 0.55, (value + tilt).clamp(0.0, 1.0) as f32);
    let bottom = hsv_to_rgb(bg_hue as f32, 0.55, (value - tilt).clamp(0.0, 1.0) as f32);
    let mut canvas = Canvas::gradient(size, top, bottom);

    // Clutter: up to 24 small shapes of random colour anywhere.
    let n_clutter = (traits.clutter * 24.0).round() as usize;
    for _ in 0..n_clutter {
        let spec = ShapeSpec {
            shape: ProductShape::ALL[rng.random_range(0..ProductShape::ALL.len())],
            cx: rng.random_range(0.0..1.0),
            cy: rng.random_range(0.0..1.0),
            radius: rng.random_range(0.03..0.08),
            color: hsv_to_rgb(
                rng.random_range(0.0..360.0),
                rng.random_range(0.3..1.0),
                rng.random_range(0.2..1.0),
            ),
        };
        canvas.draw(&spec);
    }

    // Product: radius 0.15 to 0.40 of the canvas, centre jittered.
    let radius = (0.15 + 0.25 * traits.scale) as f32;
    let cx = 0.5 + rng.random_range(-0.08..0.08);
    let cy = 0.5 + rng.random_range(-0.08..0.08);
    let body = ShapeSpec {
        shape: product.shape,
        cx,
        cy,
        radius,
        color: hsv_to_rgb(product.hue as f32, 0.8, 0.85),
    };
    canvas.draw(&body);
    // A lighter highlight so that the product reads as an object.
    canvas.draw(&ShapeSpec {
        cx: cx - radius * 0.2,
        cy: cy - radius * 0.2,
        radius: radius * 0.35,
        color: hsv_to_rgb(product.hue as f32, 0.45, 1.0),
        ..body
    });
    canvas.into_image()
}
