//! The compact reward model: a per-image backbone (a small CNN trained from
//! scratch, or a frozen CLIP vision tower, see [`super::backbone`]) applied
//! to each image with shared weights, a fusion MLP on `[f_left, f_right,
//! f_left - f_right]`, a 2-way choice head (left/right) and a point head
//! (CTR of left and right).

use candle_core::{Device, Module, Tensor};
use candle_nn::{Conv2d, Linear, VarBuilder};
use image::RgbImage;

use super::backbone::{BackboneConfig, VisionBackbone};
use super::error::{Result, RewardError};
pub use super::prepare::images_to_tensor;
use super::prepare::{all_pairs, prepare_pairs, PairImage, PreparedPairs};
use super::{PairScore, RewardModel, ScoreMatrix};

/// Architecture of the compact reward model (serialised in checkpoints).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CompactConfig {
    /// Side of the square input images (they are resized to it).
    pub image_size: usize,
    /// Output channels of the 3x3 conv blocks of the CNN backbone; each
    /// block is conv + ReLU + 2x2 max-pool, the last one is followed by
    /// global average and max pooling (feature width `2 * channels.last()`).
    /// Unused with a CLIP backbone.
    pub channels: Vec<usize>,
    /// Width of the fusion MLP (two ReLU layers).
    pub hidden: usize,
    /// The point head predicts `ctr * ctr_scale` (CTRs are small numbers).
    pub ctr_scale: f64,
}

impl Default for CompactConfig {
    fn default() -> Self {
        Self {
            image_size: 32,
            channels: vec![16, 32, 64],
            hidden: 64,
            ctr_scale: 10.0,
        }
    }
}

impl CompactConfig {
    /// Checks that the configuration describes a buildable model.
    pub fn validate(&self) -> Result<()> {
        let pools = self.channels.len() as u32;
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err(RewardError::Config(format!(
                "compact channels must be non-empty and positive, got {:?}",
                self.channels
            )));
        }
        if self.image_size >> pools == 0 {
            return Err(RewardError::Config(format!(
                "image_size {} is too small for {} pooling blocks",
                self.image_size, pools
            )));
        }
        if self.hidden == 0 || self.ctr_scale.is_nan() || self.ctr_scale <= 0.0 {
            return Err(RewardError::Config(format!(
                "hidden must be > 0 and ctr_scale > 0, got {} and {}",
                self.hidden, self.ctr_scale
            )));
        }
        Ok(())
    }

    /// Width of the CNN backbone's per-image feature vector (see
    /// [`CompactRewardModel::feature_dim`] for the built model's).
    pub fn feature_dim(&self) -> usize {
        2 * self.channels.last().copied().unwrap_or(0)
    }
}

/// Raw outputs for a batch of ordered pairs.
#[derive(Debug, Clone)]
pub struct PairOutput {
    /// Choice logits [B, 2]: index 0 = left wins, 1 = right wins.
    pub logits: Tensor,
    /// Point-head predictions [B, 2] (left, right), in `ctr * ctr_scale`
    /// units.
    pub ctr_scaled: Tensor,
}

/// Position-debiased scores for a batch of pairs (each a [B] tensor).
#[derive(Debug, Clone)]
pub struct DebiasedOutput {
    /// Probability that the left image wins, averaged over both orders.
    pub p_left: Tensor,
    /// Predicted CTR of the left image, averaged over both orders.
    pub ctr_left: Tensor,
    /// Predicted CTR of the right image, averaged over both orders.
    pub ctr_right: Tensor,
}

/// The compact pairwise reward model.
#[derive(Debug, Clone)]
pub struct CompactRewardModel {
    config: CompactConfig,
    backbone_config: BackboneConfig,
    backbone: VisionBackbone,
    feature_dim: usize,
    fusion: [Linear; 2],
    choice_head: Linear,
    point_head: Linear,
    device: Device,
}

impl CompactRewardModel {
    /// Builds the model with the CNN backbone; weights are named
    /// `tower.{i}.{weight,bias}`, `fusion.{0,1}.*`, `choice_head.*`,
    /// `point_head.*`.
    pub fn new(config: &CompactConfig, vb: VarBuilder) -> Result<Self> {
        Self::with_backbone(config, &BackboneConfig::Cnn, vb)
    }

    /// Builds the model with the given backbone. The fusion MLP and heads
    /// (and the CNN) come from `vb`; a CLIP tower is loaded from its folder
    /// (frozen) and must take `config.image_size` images.
    pub fn with_backbone(
        config: &CompactConfig,
        backbone_config: &BackboneConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        config.validate()?;
        let device = vb.device().clone();
        let backbone = VisionBackbone::build(backbone_config, config, &vb, &device)?;
        let f = backbone.feature_dim(config);
        let h = config.hidden;
        let lin = |i: usize, o: usize, name: &str| {
            candle_nn::linear(i, o, vb.pp(name))
                .map_err(RewardError::candle(format!("building {name}")))
        };
        Ok(Self {
            config: config.clone(),
            backbone_config: backbone_config.clone(),
            backbone,
            feature_dim: f,
            fusion: [lin(3 * f, h, "fusion.0")?, lin(h, h, "fusion.1")?],
            choice_head: lin(h, 2, "choice_head")?,
            point_head: lin(h, 2, "point_head")?,
            device,
        })
    }

    /// Which backbone the model uses.
    pub fn backbone_config(&self) -> &BackboneConfig {
        &self.backbone_config
    }

    /// The built backbone (e.g. the CLIP tower, for parity checks).
    pub fn backbone(&self) -> &VisionBackbone {
        &self.backbone
    }

    /// Width of one image's feature vector.
    pub fn feature_dim(&self) -> usize {
        self.feature_dim
    }

    /// The architecture.
    pub fn config(&self) -> &CompactConfig {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Per-image features: [N, 3, S, S] in [-1, 1] to [N, feature_dim]
    /// (through the CNN, or the CLIP tower after CLIP normalisation).
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        let s = self.config.image_size;
        match images.dims() {
            [_, 3, h, w] if *h == s && *w == s => {}
            dims => {
                return Err(RewardError::Input(format!(
                    "compact RM images have shape {dims:?}, want [N, 3, {s}, {s}]"
                )))
            }
        }
        self.backbone.features(images)
    }

    /// Scores ordered pairs from their features (each [B, feature_dim]).
    pub fn pair_forward(&self, f_left: &Tensor, f_right: &Tensor) -> Result<PairOutput> {
        let f = self.feature_dim;
        if f_left.dims().len() != 2
            || f_left.dims() != f_right.dims()
            || f_left.dim(1).ok() != Some(f)
        {
            return Err(RewardError::Input(format!(
                "pair features have shapes {:?} and {:?}, want equal [B, {f}]",
                f_left.dims(),
                f_right.dims()
            )));
        }
        let run = || -> candle_core::Result<PairOutput> {
            let diff = (f_left - f_right)?;
            let x = Tensor::cat(&[f_left, f_right, &diff], 1)?;
            let x = self.fusion[0].forward(&x)?.relu()?;
            let x = self.fusion[1].forward(&x)?.relu()?;
            Ok(PairOutput {
                logits: self.choice_head.forward(&x)?,
                ctr_scaled: self.point_head.forward(&x)?,
            })
        };
        run().map_err(RewardError::candle("fusion and heads"))
    }

    /// Position-debiased scores: both orders are scored and averaged, so
    /// swapping the inputs gives exactly `1 - p_left`.
    pub fn debiased(&self, f_a: &Tensor, f_b: &Tensor) -> Result<DebiasedOutput> {
        let ab = self.pair_forward(f_a, f_b)?;
        let ba = self.pair_forward(f_b, f_a)?;
        let scale = self.config.ctr_scale;
        let run = || -> candle_core::Result<DebiasedOutput> {
            let p_ab = candle_nn::ops::softmax(&ab.logits, 1)?;
            let p_ba = candle_nn::ops::softmax(&ba.logits, 1)?;
            let p_left = ((p_ab.narrow(1, 0, 1)? + p_ba.narrow(1, 1, 1)?)? * 0.5)?.squeeze(1)?;
            let avg =
                |a: &Tensor, ia: usize, b: &Tensor, ib: usize| -> candle_core::Result<Tensor> {
                    ((a.narrow(1, ia, 1)? + b.narrow(1, ib, 1)?)? * (0.5 / scale))?.squeeze(1)
                };
            Ok(DebiasedOutput {
                p_left,
                ctr_left: avg(&ab.ctr_scaled, 0, &ba.ctr_scaled, 1)?,
                ctr_right: avg(&ab.ctr_scaled, 1, &ba.ctr_scaled, 0)?,
            })
        };
        run().map_err(RewardError::candle("debiasing"))
    }

    /// Converts images to the model's input tensor ([N, 3, S, S] in
    /// [-1, 1]), resizing those of another size.
    pub fn images_to_tensor(&self, images: &[&RgbImage]) -> Result<Tensor> {
        images_to_tensor(images, self.config.image_size, &self.device)
    }

    /// Features of prepared pixels (`[N, 3, S, S]` in [-1, 1]), computed in
    /// chunks of `chunk` images without keeping a backprop graph.
    fn features_in_chunks(&self, pixels: &Tensor, chunk: usize) -> Result<Tensor> {
        let n = pixels.dim(0).map_err(RewardError::candle("image batch"))?;
        let chunk = chunk.max(1);
        let mut parts = Vec::with_capacity(n.div_ceil(chunk));
        for start in (0..n).step_by(chunk) {
            let x = pixels
                .narrow(0, start, chunk.min(n - start))
                .map_err(RewardError::candle("image batch"))?;
            parts.push(self.features(&x)?.detach());
        }
        if parts.is_empty() {
            return Err(RewardError::Input("no images to score".into()));
        }
        Tensor::cat(&parts, 0).map_err(RewardError::candle("concatenating features"))
    }

    /// Scores the pairs of [`super::prepare::prepare_pairs`]
    /// (position-debiased) into a matrix over its images: `p[i][j]` for each
    /// pair (i, j) and `p[j][i] = 1 - p[i][j]` (0.5 where no pair was
    /// scored); each image's CTR is the mean of its predictions over its
    /// pairs.
    pub fn score_prepared(&self, prepared: &PreparedPairs) -> Result<ScoreMatrix> {
        let n = prepared.image_count();
        let mut p = vec![vec![0.5f32; n]; n];
        let mut ctr_sum = vec![0.0f32; n];
        let mut ctr_count = vec![0usize; n];
        if prepared.pair_count() > 0 {
            let feats = self.features_in_chunks(&prepared.pixels, 64)?;
            let select = |idx: &[u32]| -> Result<Tensor> {
                Tensor::from_slice(idx, idx.len(), &self.device)
                    .and_then(|i| feats.index_select(&i, 0))
                    .map_err(RewardError::candle("selecting pair features"))
            };
            let out = self.debiased(&select(&prepared.left)?, &select(&prepared.right)?)?;
            let read = |t: &Tensor| {
                t.to_vec1::<f32>()
                    .map_err(RewardError::candle("reading scores"))
            };
            let (pl, cl, cr) = (
                read(&out.p_left)?,
                read(&out.ctr_left)?,
                read(&out.ctr_right)?,
            );
            for (k, (&i, &j)) in prepared.left.iter().zip(&prepared.right).enumerate() {
                let (i, j) = (i as usize, j as usize);
                p[i][j] = pl[k];
                p[j][i] = 1.0 - pl[k];
                ctr_sum[i] += cl[k];
                ctr_sum[j] += cr[k];
                ctr_count[i] += 1;
                ctr_count[j] += 1;
            }
        }
        let ctr = ctr_sum
            .iter()
            .zip(&ctr_count)
            .map(|(c, &k)| c / k.max(1) as f32)
            .collect();
        Ok(ScoreMatrix { p, ctr })
    }

    /// Features of many images, computed in chunks of `chunk` images
    /// without keeping a backprop graph.
    pub fn features_of(&self, images: &[&RgbImage], chunk: usize) -> Result<Tensor> {
        self.features_in_chunks(&self.images_to_tensor(images)?, chunk)
    }
}

/// A 3x3, stride-1, padding-1 convolution written as im2col + matmul. It
/// computes the same function as `conv.forward`, but its backward pass is
/// a matmul and cheap slicing, where candle's CPU conv backward goes through
/// a much slower transposed convolution.
pub fn conv3x3(x: &Tensor, conv: &Conv2d) -> candle_core::Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let weight = conv.weight();
    let (o, c_w, kh, kw) = weight.dims4()?;
    if c_w != c || kh != 3 || kw != 3 {
        candle_core::bail!(
            "conv3x3: input {:?} does not fit kernel {:?}",
            x.dims(),
            weight.dims()
        )
    }
    let xp = x.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?;
    let mut taps = Vec::with_capacity(9);
    for dy in 0..3 {
        for dx in 0..3 {
            taps.push(xp.narrow(2, dy, h)?.narrow(3, dx, w)?);
        }
    }
    // [N, C, 9, H, W] -> [N, C * 9, H * W]; channel-major like the kernel.
    let cols = Tensor::stack(&taps, 2)?.reshape((n, c * 9, h * w))?;
    let y = weight.reshape((o, c * 9))?.broadcast_matmul(&cols)?;
    let y = y.reshape((n, o, h, w))?;
    match conv.bias() {
        Some(b) => y.broadcast_add(&b.reshape((1, o, 1, 1))?),
        None => Ok(y),
    }
}

impl RewardModel for CompactRewardModel {
    fn prefer(&self, left: &RgbImage, right: &RgbImage) -> Result<PairScore> {
        let f = self.features_of(&[left, right], 2)?;
        let run = || -> candle_core::Result<(Tensor, Tensor)> {
            Ok((f.narrow(0, 0, 1)?, f.narrow(0, 1, 1)?))
        };
        let (fa, fb) = run().map_err(RewardError::candle("splitting features"))?;
        let out = self.debiased(&fa, &fb)?;
        let get = |t: &Tensor| -> Result<f32> {
            t.to_vec1::<f32>()
                .map_err(RewardError::candle("reading scores"))?
                .first()
                .copied()
                .ok_or_else(|| RewardError::Input("empty score tensor".into()))
        };
        Ok(PairScore {
            p_left: get(&out.p_left)?,
            ctr_left: get(&out.ctr_left)?,
            ctr_right: get(&out.ctr_right)?,
        })
    }

    fn score_all(&self, images: &[&RgbImage]) -> Result<ScoreMatrix> {
        let sources: Vec<PairImage<'_>> = images.iter().map(|&i| PairImage::Decoded(i)).collect();
        let prepared = prepare_pairs(
            &sources,
            &all_pairs(images.len()),
            self.config.image_size,
            &self.device,
        )?;
        self.score_prepared(&prepared)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::DType;
    use candle_nn::VarMap;

    use super::*;

    fn image(shade: u8) -> RgbImage {
        RgbImage::from_fn(40, 24, |x, y| {
            image::Rgb([shade, (x * 6) as u8, (y * 10) as u8])
        })
    }

    #[test]
    fn prepared_subsets_score_like_all_pairs() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = CompactRewardModel::new(&CompactConfig::default(), vb).expect("model");
        let images = [image(10), image(120), image(250)];
        let refs: Vec<&RgbImage> = images.iter().collect();
        let all = model.score_all(&refs).expect("all pairs");

        let sources: Vec<PairImage<'_>> = refs.iter().map(|&i| PairImage::Decoded(i)).collect();
        let prepared = prepare_pairs(&sources, &[(2, 0)], 32, &Device::Cpu).expect("prepare");
        let one = model.score_prepared(&prepared).expect("one pair");
        assert!(
            (one.p[2][0] - all.p[2][0]).abs() < 1e-5,
            "{one:?} vs {all:?}"
        );
        assert!((one.p[0][2] + one.p[2][0] - 1.0).abs() < 1e-6);
        // Image 1 is in no pair: neutral row, no CTR.
        assert_eq!(one.p[1], vec![0.5; 3]);
        assert_eq!(one.ctr[1], 0.0);
        let pair = model.prefer(refs[2], refs[0]).expect("prefer");
        assert!(
            (one.ctr[2] - pair.ctr_left).abs() < 1e-5,
            "{one:?} vs {pair:?}"
        );
        assert!(
            (one.ctr[0] - pair.ctr_right).abs() < 1e-5,
            "{one:?} vs {pair:?}"
        );
        assert!(
            (one.p[2][0] - pair.p_left).abs() < 1e-5,
            "{one:?} vs {pair:?}"
        );
    }
}
