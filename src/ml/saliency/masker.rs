//! The U²-Net-p model as the product module's salient-object masker.
//! (Finding and loading it on first use is the studio's model hub's job.)

use image::{GrayImage, RgbaImage};

use crate::product::{ProductError, SalientObjectMasker};

use super::SaliencyModel;

/// Environment variable naming the `u2netp.onnx` file.
pub const U2NETP_ENV: &str = "ADSTUDIO_U2NETP_ONNX";

impl SalientObjectMasker for SaliencyModel {
    fn salient_mask(&self, rgba: &RgbaImage) -> Result<GrayImage, ProductError> {
        self.mask_rgba(rgba).map_err(|e| ProductError::Saliency {
            detail: e.to_string(),
        })
    }
}
