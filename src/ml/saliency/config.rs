//! U²-Net architecture description and the ordered list of its convolutions.

use serde::Deserialize;

use super::error::SaliencyError;

/// The kind of residual U-block (RSU) of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RsuKind {
    /// RSU-7: 7 levels, 5 poolings.
    Rsu7,
    /// RSU-6.
    Rsu6,
    /// RSU-5.
    Rsu5,
    /// RSU-4.
    Rsu4,
    /// RSU-4F: 4 levels with dilations 1/2/4/8 instead of pooling.
    Rsu4F,
}

impl RsuKind {
    /// Number of levels L (the block has L encoder convolutions after the input one).
    pub fn depth(self) -> usize {
        match self {
            Self::Rsu7 => 7,
            Self::Rsu6 => 6,
            Self::Rsu5 => 5,
            Self::Rsu4 | Self::Rsu4F => 4,
        }
    }

    /// True when levels are separated by 2x2 max pooling (all but RSU-4F).
    pub fn pooled(self) -> bool {
        self != Self::Rsu4F
    }

    /// Dilation of encoder convolution `i` (1-based, `1..=depth`).
    pub fn encoder_dilation(self, i: usize) -> usize {
        match self {
            Self::Rsu4F => 1 << (i - 1),
            _ if i == self.depth() => 2,
            _ => 1,
        }
    }

    /// Dilation of decoder convolution `i` (1-based, `1..depth`).
    pub fn decoder_dilation(self, i: usize) -> usize {
        match self {
            Self::Rsu4F => 1 << (i - 1),
            _ => 1,
        }
    }
}

/// One stage: an RSU block with its channel widths.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StageConfig {
    /// Checkpoint prefix, e.g. "stage1" or "stage5d".
    pub name: String,
    /// Block kind.
    pub kind: RsuKind,
    /// Input channels.
    pub in_ch: usize,
    /// Channels inside the block.
    pub mid_ch: usize,
    /// Output channels.
    pub out_ch: usize,
}

/// A U²-Net: 6 encoder stages, 5 decoder stages, 6 side outputs and a fused 1x1 output.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct U2NetConfig {
    /// Input channels (3 for RGB).
    pub in_ch: usize,
    /// Output channels of each side map and of the fused map (1).
    pub out_ch: usize,
    /// Side length of the square input the weights were trained for (320).
    pub input_size: usize,
    /// Encoder stages, shallow to deep (stage1..stage6).
    pub encoder: Vec<StageConfig>,
    /// Decoder stages, deep to shallow (stage5d..stage1d).
    pub decoder: Vec<StageConfig>,
}

/// One convolution of the network, in the order the forward pass runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvSpec {
    /// Checkpoint path of the layer, e.g. "stage1.rebnconvin.conv_s1".
    pub key: String,
    /// Input channels.
    pub in_ch: usize,
    /// Output channels.
    pub out_ch: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Dilation.
    pub dilation: usize,
    /// Zero padding on every side.
    pub padding: usize,
}

impl U2NetConfig {
    /// U²-Net-p (the 4.7 MB "small" model): every stage has 16 inner and 64 outer channels.
    pub fn u2netp() -> Self {
        let stage = |name: &str, kind, in_ch| StageConfig {
            name: name.to_owned(),
            kind,
            in_ch,
            mid_ch: 16,
            out_ch: 64,
        };
        Self {
            in_ch: 3,
            out_ch: 1,
            input_size: 320,
            encoder: vec![
                stage("stage1", RsuKind::Rsu7, 3),
                stage("stage2", RsuKind::Rsu6, 64),
                stage("stage3", RsuKind::Rsu5, 64),
                stage("stage4", RsuKind::Rsu4, 64),
                stage("stage5", RsuKind::Rsu4F, 64),
                stage("stage6", RsuKind::Rsu4F, 64),
            ],
            decoder: vec![
                stage("stage5d", RsuKind::Rsu4F, 128),
                stage("stage4d", RsuKind::Rsu4, 128),
                stage("stage3d", RsuKind::Rsu5, 128),
                stage("stage2d", RsuKind::Rsu6, 128),
                stage("stage1d", RsuKind::Rsu7, 128),
            ],
        }
    }

    /// Checks the stage counts and that channel widths chain up.
    pub fn validate(&self) -> Result<(), SaliencyError> {
        let err = |m: String| Err(SaliencyError::Config(m));
        if self.encoder.len() != 6 || self.decoder.len() != 5 {
            return err(format!(
                "need 6 encoder and 5 decoder stages, got {} and {}",
                self.encoder.len(),
                self.decoder.len()
            ));
        }
        if self.encoder[0].in_ch != self.in_ch {
            return err(format!(
                "{} takes {} channels, the input has {}",
                self.encoder[0].name, self.encoder[0].in_ch, self.in_ch
            ));
        }
        for w in self.encoder.windows(2) {
            if w[1].in_ch != w[0].out_ch {
                return err(format!(
                    "{} takes {} channels, {} gives {}",
                    w[1].name, w[1].in_ch, w[0].name, w[0].out_ch
                ));
            }
        }
        let mut below = self.encoder[5].out_ch;
        for (j, d) in self.decoder.iter().enumerate() {
            let skip = self.encoder[4 - j].out_ch;
            if d.in_ch != below + skip {
                return err(format!(
                    "{} takes {} channels, gets {} + {}",
                    d.name, d.in_ch, below, skip
                ));
            }
            below = d.out_ch;
        }
        Ok(())
    }

    /// Channels feeding side output `i` (1-based): decoder stage outputs, then stage6.
    pub fn side_in_ch(&self, i: usize) -> usize {
        if i == 6 {
            self.encoder[5].out_ch
        } else {
            self.decoder[5 - i].out_ch
        }
    }

    /// Every convolution in forward order: encoder stages, decoder stages,
    /// side1..side6, outconv. This is the order PyTorch exported them in, so
    /// the ONNX graph's Conv nodes map onto it one to one.
    pub fn conv_specs(&self) -> Vec<ConvSpec> {
        let mut out = Vec::new();
        for s in self.encoder.iter().chain(&self.decoder) {
            out.extend(rsu_conv_specs(s));
        }
        for i in 1..=6 {
            out.push(ConvSpec {
                key: format!("side{i}"),
                in_ch: self.side_in_ch(i),
                out_ch: self.out_ch,
                kernel: 3,
                dilation: 1,
                padding: 1,
            });
        }
        out.push(ConvSpec {
            key: "outconv".to_owned(),
            in_ch: 6 * self.out_ch,
            out_ch: self.out_ch,
            kernel: 1,
            dilation: 1,
            padding: 0,
        });
        out
    }
}

/// Name of the REBNCONV (conv + folded batch-norm + ReLU) inside an RSU block.
pub fn rebnconv_name(level: usize, decoder: bool) -> String {
    if decoder {
        format!("rebnconv{level}d")
    } else {
        format!("rebnconv{level}")
    }
}

/// The convolutions of one RSU block in forward order: in, 1..L, (L-1)d..1d.
pub fn rsu_conv_specs(s: &StageConfig) -> Vec<ConvSpec> {
    let depth = s.kind.depth();
    let spec = |name: String, in_ch, out_ch, dilation| ConvSpec {
        key: format!("{}.{name}.conv_s1", s.name),
        in_ch,
        out_ch,
        kernel: 3,
        dilation,
        padding: dilation,
    };
    let mut out = vec![spec("rebnconvin".to_owned(), s.in_ch, s.out_ch, 1)];
    for i in 1..=depth {
        let in_ch = if i == 1 { s.out_ch } else { s.mid_ch };
        out.push(spec(
            rebnconv_name(i, false),
            in_ch,
            s.mid_ch,
            s.kind.encoder_dilation(i),
        ));
    }
    for i in (1..depth).rev() {
        let out_ch = if i == 1 { s.out_ch } else { s.mid_ch };
        out.push(spec(
            rebnconv_name(i, true),
            2 * s.mid_ch,
            out_ch,
            s.kind.decoder_dilation(i),
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn u2netp_has_119_convolutions_and_valid_widths() {
        let cfg = U2NetConfig::u2netp();
        cfg.validate().unwrap();
        let specs = cfg.conv_specs();
        assert_eq!(specs.len(), 119);
        assert_eq!(specs[0].key, "stage1.rebnconvin.conv_s1");
        assert_eq!(
            (specs[7].dilation, specs[7].key.as_str()),
            (2, "stage1.rebnconv7.conv_s1")
        );
        let f: Vec<usize> = rsu_conv_specs(&cfg.encoder[4])
            .iter()
            .map(|s| s.dilation)
            .collect();
        assert_eq!(f, vec![1, 1, 2, 4, 8, 4, 2, 1]);
        assert_eq!(specs[118].key, "outconv");
    }

    #[test]
    fn broken_config_is_rejected() {
        let mut cfg = U2NetConfig::u2netp();
        cfg.decoder[2].in_ch = 64;
        assert!(cfg.validate().is_err());
    }
}
