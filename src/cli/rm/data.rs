//! The stored creatives as training/evaluation data: click rows, decoded
//! images, pairs and the by-product split shared by `rm train` and
//! `rm eval`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use image::RgbImage;

use crate::ml::reward::clicklog::ClickRow;
use crate::ml::reward::pairs::{make_pairs, CreativePair, PairSet, PairingConfig, ProductSplit};
use crate::store::{ImageStore, Store};

/// How pairs are built and split (saved next to a checkpoint so that
/// `rm eval` uses the same held-out products as `rm train`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairingOptions {
    /// Both creatives need strictly more impressions than this.
    pub min_impressions: u64,
    /// Inclusive CTR-ratio band (higher / lower), if any.
    pub band: Option<(f64, f64)>,
    /// Fraction of products held out for validation.
    pub validation_fraction: f64,
    /// Seed of the product split.
    pub split_seed: u64,
}

impl Default for PairingOptions {
    /// More than 1000 impressions, no band, 20% of products held out, seed 5.
    fn default() -> Self {
        Self {
            min_impressions: 1000,
            band: None,
            validation_fraction: 0.2,
            split_seed: 5,
        }
    }
}

impl PairingOptions {
    /// The sidecar file holding these options for a checkpoint
    /// (`<checkpoint>.pairing.json`).
    pub fn sidecar_path(checkpoint: &Path) -> PathBuf {
        let mut name = checkpoint.as_os_str().to_owned();
        name.push(".pairing.json");
        PathBuf::from(name)
    }

    /// Writes the sidecar of `checkpoint`.
    pub fn save_for(&self, checkpoint: &Path) -> anyhow::Result<()> {
        let path = Self::sidecar_path(checkpoint);
        let text = serde_json::to_string_pretty(self).context("serialising pairing options")?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// Reads the sidecar of `checkpoint`, if there is one.
    pub fn load_for(checkpoint: &Path) -> anyhow::Result<Option<Self>> {
        let path = Self::sidecar_path(checkpoint);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let options =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Some(options))
    }
}

/// The stored creatives with their images.
pub struct StoredCreatives {
    /// One click row per creative (image path = the stored image file).
    pub rows: Vec<ClickRow>,
    /// `images[i]` is the ad image of `rows[i]`.
    pub images: Vec<RgbImage>,
}

/// Pairs of the stored creatives split by product.
pub struct SplitPairs {
    /// All pairs and what was left out.
    pub set: PairSet,
    /// Pairs of training products.
    pub train: Vec<CreativePair>,
    /// Pairs of held-out products.
    pub validation: Vec<CreativePair>,
}

impl StoredCreatives {
    /// Reads every stored creative and decodes its image.
    pub fn load(store: &Store, images: &ImageStore) -> anyhow::Result<Self> {
        let creatives = store.creatives().context("reading the stored creatives")?;
        if creatives.is_empty() {
            anyhow::bail!(
                "the store {} has no creatives: run `adstudio rm import FILE` first",
                store.path().display()
            );
        }
        let mut rows = Vec::with_capacity(creatives.len());
        let mut decoded = Vec::with_capacity(creatives.len());
        for c in creatives {
            let path = images.local_path(&c.image_hash, &c.image_ext)?;
            let img = image::open(&path)
                .with_context(|| {
                    format!(
                        "decoding the image of creative {} ({})",
                        c.creative_id,
                        path.display()
                    )
                })?
                .to_rgb8();
            decoded.push(img);
            rows.push(ClickRow {
                creative_id: c.creative_id,
                product_id: c.product_key,
                image_path: path,
                impressions: c.impressions,
                clicks: c.clicks,
            });
        }
        Ok(Self {
            rows,
            images: decoded,
        })
    }

    /// The images as references (the form the reward APIs take).
    pub fn image_refs(&self) -> Vec<&RgbImage> {
        self.images.iter().collect()
    }

    /// Builds pairs and splits them by product.
    pub fn split(&self, options: &PairingOptions) -> anyhow::Result<SplitPairs> {
        let config = PairingConfig {
            min_impressions: options.min_impressions,
            ctr_ratio_band: options.band,
        };
        let set = make_pairs(&self.rows, &config)?;
        let split = ProductSplit::new(&self.rows, options.validation_fraction, options.split_seed)?;
        let (train, validation) = split.split_pairs(&self.rows, &set.pairs);
        Ok(SplitPairs {
            set,
            train,
            validation,
        })
    }
}
