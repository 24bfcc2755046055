//! Conversions between `image` buffers and the pipeline's tensors.

use candle_core::{DType, Device, Tensor};

use super::error::{DiffusionError, Result};

/// RGB image -> `(1, 3, h, w)` f32 tensor in [0, 1].
pub fn rgb_to_tensor(img: &image::RgbImage, device: &Device) -> Result<Tensor> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let data: Vec<f32> = img.as_raw().iter().map(|&v| f32::from(v) / 255.0).collect();
    Ok(Tensor::from_vec(data, (h, w, 3), device)?
        .permute((2, 0, 1))?
        .unsqueeze(0)?
        .contiguous()?)
}

/// Grayscale mask (255 = repaint, 0 = keep) -> `(1, 1, h, w)` in [0, 1].
pub fn mask_to_tensor(mask: &image::GrayImage, device: &Device) -> Result<Tensor> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let data: Vec<f32> = mask
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    Ok(Tensor::from_vec(data, (1, 1, h, w), device)?)
}

/// `(1, 3, h, w)` tensor in [0, 1] -> RGB image (values clamped, rounded).
pub fn tensor_to_rgb(t: &Tensor) -> Result<image::RgbImage> {
    let (b, c, h, w) = t.dims4()?;
    if b != 1 || c != 3 {
        return Err(DiffusionError::InvalidInput(format!(
            "image tensor of shape {:?}: expected (1, 3, h, w)",
            t.dims()
        )));
    }
    let data: Vec<u8> = t
        .squeeze(0)?
        .permute((1, 2, 0))?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?
        .into_iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    image::RgbImage::from_raw(w as u32, h as u32, data)
        .ok_or_else(|| DiffusionError::InvalidInput("image buffer size mismatch".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_round_trips_and_channels_land_in_planes() {
        let mut img = image::RgbImage::new(3, 2);
        img.put_pixel(2, 1, image::Rgb([255, 0, 51]));
        img.put_pixel(0, 0, image::Rgb([10, 20, 30]));
        let t = rgb_to_tensor(&img, &Device::Cpu).expect("tensor");
        assert_eq!(t.dims(), &[1, 3, 2, 3]);
        let v = t.flatten_all().expect("f").to_vec1::<f32>().expect("v");
        // Plane 0 (red) at (y=1, x=2) is index 5; plane 2 (blue) is 12 + 5.
        assert_eq!(v[5], 1.0);
        assert!((v[12 + 5] - 0.2).abs() < 1e-6);
        assert_eq!(tensor_to_rgb(&t).expect("back"), img);
        let mut m = image::GrayImage::new(2, 2);
        m.put_pixel(1, 0, image::Luma([255]));
        let mt = mask_to_tensor(&m, &Device::Cpu).expect("mask");
        assert_eq!(
            mt.flatten_all().expect("f").to_vec1::<f32>().expect("v"),
            vec![0.0, 1.0, 0.0, 0.0]
        );
    }
}
