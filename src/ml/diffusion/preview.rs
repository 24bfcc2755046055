//! Live previews of the denoised latents: TAESD's decoder at full size
//! when a TAESD model is loaded ([`PreviewDecoder::Taesd`]), else a fixed
//! linear projection of SD 1.x latents to RGB (no VAE), at latent
//! resolution (1/8 of the canvas side).

use candle_core::{DType, Tensor};

use super::convert::tensor_to_rgb;
use super::error::{DiffusionError, Result};
use super::taesd::Taesd;

/// How previews are made.
#[derive(Debug, Clone, Copy)]
pub enum PreviewDecoder<'a> {
    /// The linear projection ([`latents_to_rgb`]): 1/8 of the side, free.
    Latent,
    /// TAESD's decoder ([`taesd_preview`]): full size, a fraction of the
    /// VAE's cost.
    Taesd(&'a Taesd),
}

impl<'a> PreviewDecoder<'a> {
    /// TAESD when one is given, else the linear projection.
    pub fn new(taesd: Option<&'a Taesd>) -> Self {
        taesd.map_or(Self::Latent, Self::Taesd)
    }

    /// The preview of scaled diffusion latents `(1, 4, h, w)`.
    pub fn preview(&self, latents: &Tensor) -> Result<image::RgbImage> {
        match self {
            Self::Latent => latents_to_rgb(latents),
            Self::Taesd(taesd) => taesd_preview(taesd, latents),
        }
    }
}

/// Decodes scaled diffusion latents `(1, 4, h, w)` with TAESD to an RGB
/// image of the canvas size.
pub fn taesd_preview(taesd: &Taesd, latents: &Tensor) -> Result<image::RgbImage> {
    let (b, _, _, _) = latents.dims4()?;
    if b != 1 {
        return Err(DiffusionError::InvalidInput(format!(
            "preview needs one latent image, got {:?}",
            latents.dims()
        )));
    }
    tensor_to_rgb(&taesd.decode_to_image(latents)?)
}

/// Latent channel -> (R, G, B) weights for SD 1.x scaled latents (the
/// widely used approximation from the SD community).
const SD15_LATENT_RGB: [[f32; 3]; 4] = [
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
];

/// Projects latents `(1, 4, h, w)` to an `w x h` RGB image.
pub fn latents_to_rgb(latents: &Tensor) -> Result<image::RgbImage> {
    let (b, c, h, w) = latents.dims4()?;
    if b != 1 || c != 4 {
        return Err(DiffusionError::InvalidInput(format!(
            "preview needs latents of shape (1, 4, h, w), got {:?}",
            latents.dims()
        )));
    }
    let values = latents
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let plane = h * w;
    let mut img = image::RgbImage::new(w as u32, h as u32);
    for (i, px) in img.pixels_mut().enumerate() {
        let mut rgb = [0f32; 3];
        for (ch, weights) in SD15_LATENT_RGB.iter().enumerate() {
            let v = values[ch * plane + i];
            for k in 0..3 {
                rgb[k] += v * weights[k];
            }
        }
        px.0 = rgb.map(|x| (((x + 1.0) * 0.5).clamp(0.0, 1.0) * 255.0).round() as u8);
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn projection_is_linear_in_each_channel() {
        let mut v = vec![0f32; 4 * 2 * 3];
        v[0] = 1.0; // channel 0 at pixel (0, 0)
        v[3 * 6 + 5] = -1.0; // channel 3 at pixel (2, 1)
        let t = Tensor::from_vec(v, (1, 4, 2, 3), &Device::Cpu).expect("tensor");
        let img = latents_to_rgb(&t).expect("preview");
        assert_eq!(img.dimensions(), (3, 2));
        let expect = |w: [f32; 3], s: f32| w.map(|x| (((s * x + 1.0) * 0.5) * 255.0).round() as u8);
        assert_eq!(img.get_pixel(0, 0).0, expect(SD15_LATENT_RGB[0], 1.0));
        assert_eq!(img.get_pixel(2, 1).0, expect(SD15_LATENT_RGB[3], -1.0));
        assert_eq!(img.get_pixel(1, 0).0, [128, 128, 128]);
        let bad = Tensor::zeros((1, 9, 2, 2), DType::F32, &Device::Cpu).expect("t");
        assert!(latents_to_rgb(&bad).is_err());
    }
}
