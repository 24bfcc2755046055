//! The image side of training the multimodal (LLaVA) prompt model: the
//! frozen vision tower + projector as an [`ImageEncoder`], and the
//! per-epoch cache of the products' image features.
//!
//! Only the language decoder carries LoRA adapters; image features are
//! constants of the objective (detached), so each product's features are
//! computed once per epoch (or evaluation) and reused by every pair of the
//! product and by every pair that borrows it as the other product. A
//! patch-zeroed image is encoded when it is drawn.

use std::collections::HashMap;
use std::fmt::Debug;

use candle_core::Tensor;
use image::{DynamicImage, RgbImage};

use super::data::TrainingSet;
use super::error::{PcpoError, Result};
use crate::ml::prompt_model::{preprocess_image, Llava};

/// A frozen image encoder whose features stand in for the image tokens of
/// a prompt.
pub trait ImageEncoder: Debug + Send + Sync {
    /// Features (image tokens, decoder hidden size) of an RGB image, detached.
    fn features(&self, image: &RgbImage) -> Result<Tensor>;

    /// The prompt token whose positions take the features.
    fn image_token(&self) -> u32;

    /// How many image tokens one image fills.
    fn tokens_per_image(&self) -> usize;
}

impl ImageEncoder for Llava {
    /// LLaVA preprocessing (square padding, resize, CLIP normalisation),
    /// the vision tower and the projector.
    fn features(&self, image: &RgbImage) -> Result<Tensor> {
        let rgba = DynamicImage::ImageRgb8(image.clone()).to_rgba8();
        let size = self.config().vision.image_size;
        let pixels = preprocess_image(&rgba, size, self.decoder().device())?;
        Ok(self.image_features(&pixels)?.squeeze(0)?.detach())
    }

    fn image_token(&self) -> u32 {
        self.config().image_token_index
    }

    fn tokens_per_image(&self) -> usize {
        self.image_tokens()
    }
}

/// The products' image features of one training set, computed on first
/// use.
pub struct FeatureCache<'a> {
    encoder: &'a dyn ImageEncoder,
    images: &'a [RgbImage],
    cached: HashMap<usize, Tensor>,
    encoded: usize,
}

impl<'a> FeatureCache<'a> {
    /// An empty cache over `set`'s product images; fails when the set has
    /// none.
    pub fn new(encoder: &'a dyn ImageEncoder, set: &'a TrainingSet) -> Result<Self> {
        if !set.has_images() {
            return Err(PcpoError::Data(
                "the multimodal model needs the products' images".to_string(),
            ));
        }
        Ok(Self {
            encoder,
            images: &set.images,
            cached: HashMap::new(),
            encoded: 0,
        })
    }

    /// The encoder.
    pub fn encoder(&self) -> &dyn ImageEncoder {
        self.encoder
    }

    /// Features of product `product`'s image (encoded once).
    pub fn product(&mut self, product: usize) -> Result<Tensor> {
        if let Some(f) = self.cached.get(&product) {
            return Ok(f.clone());
        }
        let image = self.images.get(product).ok_or_else(|| {
            PcpoError::Data(format!(
                "image of product {product} of {}",
                self.images.len()
            ))
        })?;
        let f = self.of(image)?;
        self.cached.insert(product, f.clone());
        Ok(f)
    }

    /// Features of any image (not cached).
    pub fn of(&mut self, image: &RgbImage) -> Result<Tensor> {
        self.encoded += 1;
        self.encoder.features(image)
    }

    /// How many images went through the encoder so far.
    pub fn encoded(&self) -> usize {
        self.encoded
    }
}
