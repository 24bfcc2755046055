//! Where decoder weights come from: a candle `VarBuilder` (safetensors in the
//! Hugging Face layout) or a GGUF file (see [`super::gguf`]). Names are always
//! the Hugging Face checkpoint names.

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use super::error::{PromptModelError, Result};
use super::lora::LoraLinear;

/// A provider of named weights in the Hugging Face naming scheme.
pub trait WeightSource {
    /// A dense f32 tensor of the given shape.
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor>;
    /// Whether a tensor of that name exists.
    fn contains(&self, name: &str) -> bool;
    /// The device tensors are created on.
    fn device(&self) -> &Device;
    /// A linear layer `name.weight` `(out, in)` with optional `name.bias`.
    /// Sources holding quantised weights may return a quantised layer.
    fn linear(&self, name: &str, out: usize, inp: usize, bias: bool) -> Result<LoraLinear> {
        let weight = self.tensor(&format!("{name}.weight"), &[out, inp])?;
        let bias = if bias {
            Some(self.tensor(&format!("{name}.bias"), &[out])?)
        } else {
            None
        };
        LoraLinear::dense(name, weight, bias)
    }
    /// The output projection: like [`WeightSource::linear`], but a source may
    /// substitute a faster form of the (tied) embedding matrix.
    fn lm_head(
        &self,
        name: &str,
        embed: &Tensor,
        tied: bool,
        out: usize,
        inp: usize,
    ) -> Result<LoraLinear> {
        if tied || !self.contains(&format!("{name}.weight")) {
            LoraLinear::dense(name, embed.clone(), None)
        } else {
            self.linear(name, out, inp, false)
        }
    }
}

/// [`WeightSource`] over a candle [`VarBuilder`].
pub struct VarBuilderSource<'a> {
    vb: VarBuilder<'a>,
}

impl<'a> VarBuilderSource<'a> {
    /// Wraps a var builder rooted at the checkpoint's top level.
    pub fn new(vb: VarBuilder<'a>) -> Self {
        Self { vb }
    }
}

impl WeightSource for VarBuilderSource<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        self.vb
            .get(shape, name)
            .map_err(|e| PromptModelError::Tensor {
                name: name.to_string(),
                reason: format!("expected shape {shape:?}: {e}"),
            })
    }

    fn contains(&self, name: &str) -> bool {
        self.vb.contains_tensor(name)
    }

    fn device(&self) -> &Device {
        self.vb.device()
    }
}
