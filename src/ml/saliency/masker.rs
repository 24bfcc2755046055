//! The U²-Net-p model as the product module's salient-object masker, found
//! and loaded on first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::Device;
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

/// Where to look for `u2netp.onnx`, in order: an explicit path, the
/// `ADSTUDIO_U2NETP_ONNX` variable, `<models_dir>/u2netp/u2netp.onnx`.
pub fn locate_u2netp(explicit: Option<&Path>, models_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = explicit {
        candidates.push(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(U2NETP_ENV).filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(path));
    }
    if let Some(dir) = models_dir {
        candidates.push(dir.join("u2netp").join("u2netp.onnx"));
    }
    candidates
}

/// A salient-object masker that loads U²-Net-p the first time it is needed
/// (keying alone serves most studio shots, so most runs never load it).
pub struct LazySaliency {
    candidates: Vec<PathBuf>,
    device: Device,
    model: OnceLock<Result<SaliencyModel, String>>,
}

impl LazySaliency {
    /// A masker that will try these files in order.
    pub fn new(candidates: Vec<PathBuf>, device: Device) -> Self {
        Self {
            candidates,
            device,
            model: OnceLock::new(),
        }
    }

    /// Loads the model now (or returns the earlier outcome).
    pub fn model(&self) -> Result<&SaliencyModel, ProductError> {
        self.model
            .get_or_init(|| self.load())
            .as_ref()
            .map_err(|detail| ProductError::SaliencyUnavailable {
                detail: detail.clone(),
            })
    }

    fn load(&self) -> Result<SaliencyModel, String> {
        let Some(path) = self.candidates.iter().find(|p| p.is_file()) else {
            let tried: Vec<String> = self
                .candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            return Err(format!(
                "u2netp.onnx not found (tried: {}); set {U2NETP_ENV} or copy it to models/u2netp/",
                if tried.is_empty() {
                    "nothing".to_string()
                } else {
                    tried.join(", ")
                }
            ));
        };
        SaliencyModel::load(path, &self.device).map_err(|e| e.to_string())
    }
}

impl SalientObjectMasker for LazySaliency {
    fn salient_mask(&self, rgba: &RgbaImage) -> Result<GrayImage, ProductError> {
        self.model()?.salient_mask(rgba)
    }
}
