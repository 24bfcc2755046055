//! Turning images into the reward model's input: the one place where image
//! files are decoded, resized and normalised for scoring, evaluation and
//! training, and where the pairs to score become row indices into that
//! batch. Position debiasing (scoring each pair in both orders and
//! averaging) is done by the model on these pairs
//! ([`super::compact::CompactRewardModel::debiased`]).

use std::borrow::Cow;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use image::imageops::FilterType;
use image::RgbImage;

use super::error::{Result, RewardError};

/// An image for the reward model: a file to decode, or one in memory.
#[derive(Debug, Clone, Copy)]
pub enum PairImage<'a> {
    /// An image file (any format the `image` crate reads; alpha is dropped).
    File(&'a Path),
    /// A decoded image.
    Decoded(&'a RgbImage),
}

/// Images ready for the reward model and the ordered pairs to score.
#[derive(Debug, Clone)]
pub struct PreparedPairs {
    /// Every image once, `[N, 3, S, S]` f32 in [-1, 1], in the order given.
    pub pixels: Tensor,
    /// Row of `pixels` of each pair's left image.
    pub left: Vec<u32>,
    /// Row of `pixels` of each pair's right image.
    pub right: Vec<u32>,
}

impl PreparedPairs {
    /// Number of images (rows of `pixels`).
    pub fn image_count(&self) -> usize {
        self.pixels.dims().first().copied().unwrap_or(0)
    }

    /// Number of pairs.
    pub fn pair_count(&self) -> usize {
        self.left.len()
    }
}

/// Every unordered pair of `n` images once, as `(i, j)` with `i < j`.
pub fn all_pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect()
}

/// Prepares `images` for the reward model: files are decoded (the error
/// names the file), every image is resized to `size` x `size` (triangle
/// filter, unless it already has that size) and scaled to [-1, 1] into one
/// `[N, 3, size, size]` tensor on `device`; `pairs` (left, right) index
/// into `images`. Use [`all_pairs`] to score every pair of a set.
pub fn prepare_pairs(
    images: &[PairImage<'_>],
    pairs: &[(usize, usize)],
    size: usize,
    device: &Device,
) -> Result<PreparedPairs> {
    if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a.max(b) >= images.len()) {
        return Err(RewardError::Input(format!(
            "pair ({a}, {b}) indexes past {} images",
            images.len()
        )));
    }
    let decoded = images
        .iter()
        .map(|image| match image {
            PairImage::File(path) => decode(path).map(Cow::Owned),
            PairImage::Decoded(img) => Ok(Cow::Borrowed(*img)),
        })
        .collect::<Result<Vec<Cow<'_, RgbImage>>>>()?;
    let refs: Vec<&RgbImage> = decoded.iter().map(AsRef::as_ref).collect();
    Ok(PreparedPairs {
        pixels: images_to_tensor(&refs, size, device)?,
        left: pairs.iter().map(|&(a, _)| a as u32).collect(),
        right: pairs.iter().map(|&(_, b)| b as u32).collect(),
    })
}

/// Decodes an image file to RGB (alpha dropped).
fn decode(path: &Path) -> Result<RgbImage> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|source| RewardError::Image {
            path: path.to_path_buf(),
            source,
        })
}

/// Converts RGB images to a [N, 3, size, size] f32 tensor in [-1, 1]
/// (resizing with a triangle filter when needed).
pub fn images_to_tensor(images: &[&RgbImage], size: usize, device: &Device) -> Result<Tensor> {
    let plane = size * size;
    let mut data = vec![0f32; images.len() * 3 * plane];
    for (n, img) in images.iter().enumerate() {
        let resized;
        let img: &RgbImage = if img.width() as usize == size && img.height() as usize == size {
            img
        } else {
            resized = image::imageops::resize(*img, size as u32, size as u32, FilterType::Triangle);
            &resized
        };
        let base = n * 3 * plane;
        for (i, p) in img.pixels().enumerate() {
            for c in 0..3 {
                data[base + c * plane + i] = p.0[c] as f32 / 127.5 - 1.0;
            }
        }
    }
    Tensor::from_vec(data, (images.len(), 3, size, size), device)
        .and_then(|t| t.to_dtype(DType::F32))
        .map_err(RewardError::candle("building the image tensor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_images_give_the_same_pixels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let img = RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 255]));
        let path = dir.path().join("a.png");
        img.save(&path).expect("save");
        let prepared = prepare_pairs(
            &[PairImage::File(&path), PairImage::Decoded(&img)],
            &all_pairs(2),
            4,
            &Device::Cpu,
        )
        .expect("prepare");
        assert_eq!(prepared.pixels.dims(), &[2, 3, 4, 4]);
        assert_eq!(
            (prepared.left.clone(), prepared.right.clone()),
            (vec![0], vec![1])
        );
        let rows = prepared.pixels.flatten_from(1).expect("flat");
        let rows = rows.to_vec2::<f32>().expect("vec");
        assert_eq!(rows[0], rows[1]);
        // Blue is 255 everywhere: +1 after scaling.
        assert!(rows[0][2 * 16..].iter().all(|&v| (v - 1.0).abs() < 1e-6));
    }

    #[test]
    fn bad_files_and_pairs_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"not an image").expect("write");
        let err = prepare_pairs(&[PairImage::File(&bad)], &[], 4, &Device::Cpu)
            .expect_err("bad image")
            .to_string();
        assert!(err.contains("bad.png"), "{err}");

        let img = RgbImage::new(4, 4);
        let err = prepare_pairs(&[PairImage::Decoded(&img)], &[(0, 1)], 4, &Device::Cpu)
            .expect_err("pair out of range")
            .to_string();
        assert!(err.contains("(0, 1)"), "{err}");
        assert_eq!(all_pairs(3), vec![(0, 1), (0, 2), (1, 2)]);
    }
}
