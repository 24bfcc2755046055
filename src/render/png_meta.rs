//! PNG files carrying their render parameters: an AUTOMATIC1111-style
//! `parameters` text chunk (read by other tools) and an `adstudio` iTXt
//! chunk with the full JSON, which [`read_png_params`] recovers.

use std::io::Cursor;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::error::RenderError;
use super::request::RenderRequest;

/// Keyword of the AUTOMATIC1111-style chunk.
pub const PARAMETERS_KEY: &str = "parameters";
/// Keyword of the JSON chunk.
pub const ADSTUDIO_KEY: &str = "adstudio";

/// What the `adstudio` chunk holds: the single-variant request that
/// reproduces the image, plus where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PngParams {
    /// The request, with `seed` = this image's seed and `n_variants` = 1.
    pub request: RenderRequest,
    /// Index of the image in its batch.
    pub variant: usize,
    /// Seed of the batch's variant 0.
    pub batch_seed: u64,
}

/// The AUTOMATIC1111 `parameters` text for an image of `width x height`.
pub fn a1111_parameters(request: &RenderRequest, width: u32, height: u32) -> String {
    let mut s = request.params.prompt.clone();
    if !request.params.negative_prompt.is_empty() {
        s.push_str("\nNegative prompt: ");
        s.push_str(&request.params.negative_prompt);
    }
    s.push_str(&format!(
        "\nSteps: {}, Sampler: {}, CFG scale: {}, Seed: {}, Size: {width}x{height}, Model: {}",
        request.params.steps,
        request.params.scheduler.label(),
        request.params.guidance_scale,
        request.params.seed,
        request.models.checkpoint,
    ));
    if let Some(cn) = &request.models.controlnet {
        s.push_str(&format!(
            ", ControlNet 0: \"Module: canny, Model: {cn}, Weight: {}\"",
            request.params.conditioning_scale
        ));
    }
    s
}

fn png_err(context: &str, e: impl std::fmt::Display) -> RenderError {
    RenderError::Png {
        context: context.into(),
        message: e.to_string(),
    }
}

/// Encodes `image` as an 8-bit RGB PNG with both parameter chunks.
/// `params.request` should be the variant's own request
/// ([`RenderRequest::for_variant`]).
pub fn encode_png(image: &RgbImage, params: &PngParams) -> Result<Vec<u8>, RenderError> {
    let json = serde_json::to_string(params)
        .map_err(|e| RenderError::Metadata(format!("cannot serialise parameters: {e}")))?;
    let text = a1111_parameters(&params.request, image.width(), image.height());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, image.width(), image.height());
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let latin1 = text.chars().all(|c| u32::from(c) < 256);
        let added = if latin1 {
            enc.add_text_chunk(PARAMETERS_KEY.into(), text)
        } else {
            enc.add_itxt_chunk(PARAMETERS_KEY.into(), text)
        };
        added.map_err(|e| png_err("writing the parameters chunk", e))?;
        enc.add_itxt_chunk(ADSTUDIO_KEY.into(), json)
            .map_err(|e| png_err("writing the adstudio chunk", e))?;
        let mut writer = enc
            .write_header()
            .map_err(|e| png_err("writing the header", e))?;
        writer
            .write_image_data(image.as_raw())
            .map_err(|e| png_err("writing the pixels", e))?;
        writer
            .finish()
            .map_err(|e| png_err("finishing the file", e))?;
    }
    Ok(out)
}

/// The text chunks of a PNG as (keyword, text) pairs.
pub fn png_text_chunks(bytes: &[u8]) -> Result<Vec<(String, String)>, RenderError> {
    let reader = png::Decoder::new(Cursor::new(bytes))
        .read_info()
        .map_err(|e| png_err("reading", e))?;
    let info = reader.info();
    let mut chunks: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|c| (c.keyword.clone(), c.text.clone()))
        .collect();
    for c in &info.compressed_latin1_text {
        let text = c
            .get_text()
            .map_err(|e| png_err("reading a zTXt chunk", e))?;
        chunks.push((c.keyword.clone(), text));
    }
    for c in &info.utf8_text {
        let text = c
            .get_text()
            .map_err(|e| png_err("reading an iTXt chunk", e))?;
        chunks.push((c.keyword.clone(), text));
    }
    Ok(chunks)
}

/// Recovers the parameters from a PNG written by [`encode_png`].
pub fn read_png_params(bytes: &[u8]) -> Result<PngParams, RenderError> {
    let chunks = png_text_chunks(bytes)?;
    let json = chunks
        .iter()
        .find(|(k, _)| k == ADSTUDIO_KEY)
        .map(|(_, t)| t)
        .ok_or_else(|| {
            RenderError::Metadata(format!(
                "no `{ADSTUDIO_KEY}` chunk (not written by adstudio)"
            ))
        })?;
    serde_json::from_str(json)
        .map_err(|e| RenderError::Metadata(format!("invalid `{ADSTUDIO_KEY}` JSON: {e}")))
}
