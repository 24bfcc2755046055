//! The compact reward model's per-image backbone: a small CNN trained from
//! scratch, or a frozen CLIP vision tower ([`ClipTower`]).

use candle_core::{Device, Tensor, D};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use super::clip_tower::{ClipBackboneConfig, ClipTower};
use super::compact::{conv3x3, CompactConfig};
use super::error::{Result, RewardError};

/// Which backbone a compact reward model uses (serialised as the
/// checkpoint's `backbone` metadata, e.g. `{"kind":"cnn"}` or
/// `{"kind":"clip","dir":"...","pooling":"cls","project":false,
/// "cache_features":true}`; a checkpoint without it is a CNN).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackboneConfig {
    /// The small CNN of [`CompactConfig::channels`], trained with the heads.
    #[default]
    Cnn,
    /// A frozen CLIP vision tower loaded from a Hugging Face folder; the
    /// model's `image_size` must equal the tower's.
    Clip(ClipBackboneConfig),
}

/// The small CNN: 3x3 conv + ReLU blocks with 2x2 max-pools between them,
/// then global average and max pooling.
#[derive(Debug, Clone)]
pub struct CnnTower {
    convs: Vec<Conv2d>,
}

impl CnnTower {
    /// Builds the convolutions `tower.{i}.{weight,bias}` from `vb`.
    pub fn new(config: &CompactConfig, vb: &VarBuilder) -> Result<Self> {
        let conv_cfg = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let mut convs = Vec::with_capacity(config.channels.len());
        let mut c_in = 3;
        for (i, &c_out) in config.channels.iter().enumerate() {
            let conv = candle_nn::conv2d(c_in, c_out, 3, conv_cfg, vb.pp(format!("tower.{i}")))
                .map_err(RewardError::candle(format!("building tower.{i}")))?;
            convs.push(conv);
            c_in = c_out;
        }
        Ok(Self { convs })
    }

    /// Features [N, 2 * channels.last()] of images [N, 3, S, S].
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        let mut x = images.clone();
        for (i, conv) in self.convs.iter().enumerate() {
            let dims = x.dims().to_vec();
            let ctx = || format!("tower.{i} on {dims:?}");
            x = conv3x3(&x, conv)
                .and_then(|y| y.relu())
                .map_err(RewardError::candle(ctx()))?;
            if i + 1 < self.convs.len() {
                x = x.max_pool2d(2).map_err(RewardError::candle(ctx()))?;
            }
        }
        x.flatten_from(2)
            .and_then(|y| Tensor::cat(&[y.mean(D::Minus1)?, y.max(D::Minus1)?], 1))
            .map_err(RewardError::candle("global pooling"))
    }
}

/// A built backbone.
#[derive(Debug, Clone)]
pub enum VisionBackbone {
    /// The trainable CNN.
    Cnn(CnnTower),
    /// The frozen CLIP tower.
    Clip(Box<ClipTower>),
}

impl VisionBackbone {
    /// Builds the backbone: the CNN's weights come from `vb` (trainable
    /// variables in training), the CLIP tower's from its folder.
    pub fn build(
        backbone: &BackboneConfig,
        model: &CompactConfig,
        vb: &VarBuilder,
        device: &Device,
    ) -> Result<Self> {
        match backbone {
            BackboneConfig::Cnn => Ok(Self::Cnn(CnnTower::new(model, vb)?)),
            BackboneConfig::Clip(clip) => {
                let tower = ClipTower::load(clip, device)?;
                if tower.image_size() != model.image_size {
                    return Err(RewardError::Config(format!(
                        "the CLIP tower in {} takes {}x{} images but the reward model's \
                         image_size is {}",
                        clip.dir.display(),
                        tower.image_size(),
                        tower.image_size(),
                        model.image_size
                    )));
                }
                Ok(Self::Clip(Box::new(tower)))
            }
        }
    }

    /// Width of one image's feature vector.
    pub fn feature_dim(&self, model: &CompactConfig) -> usize {
        match self {
            Self::Cnn(_) => model.feature_dim(),
            Self::Clip(tower) => tower.feature_dim(),
        }
    }

    /// Whether the backbone's weights are frozen (not trained).
    pub fn is_frozen(&self) -> bool {
        matches!(self, Self::Clip(_))
    }

    /// Whether training may compute each image's features once per `fit`.
    pub fn caches_features(&self) -> bool {
        match self {
            Self::Cnn(_) => false,
            Self::Clip(tower) => tower.config().cache_features,
        }
    }

    /// Per-image features of images [N, 3, S, S] in [-1, 1].
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        match self {
            Self::Cnn(cnn) => cnn.features(images),
            Self::Clip(tower) => tower.features(images),
        }
    }
}
