//! Errors of the salient-object model.

use std::path::PathBuf;

use thiserror::Error;

use super::onnx::OnnxError;

/// Everything that can go wrong loading or running U²-Net-p.
#[derive(Debug, Error)]
pub enum SaliencyError {
    /// The ONNX file could not be read or decoded.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// The file decodes but holds a different network (wrong number of convolutions).
    #[error(
        "{path}: found {found} Conv nodes, U²-Net-p has {expected}: not the expected u2netp.onnx"
    )]
    ConvCount {
        /// The ONNX file.
        path: PathBuf,
        /// Convolutions the architecture needs.
        expected: usize,
        /// Convolutions in the file.
        found: usize,
    },
    /// The file holds a different number of weight tensors than the network needs.
    #[error("{path}: found {found} initializers, U²-Net-p needs {expected}")]
    InitializerCount {
        /// The ONNX file.
        path: PathBuf,
        /// Tensors the architecture needs (weight and bias per convolution).
        expected: usize,
        /// Initializers in the file.
        found: usize,
    },
    /// A convolution node lacks its weight or bias initializer.
    #[error("layer {layer}: Conv node {node} has no {role} initializer")]
    MissingTensor {
        /// The layer of our network.
        layer: String,
        /// The ONNX node.
        node: String,
        /// "weight" or "bias".
        role: &'static str,
    },
    /// A tensor's shape differs from the layer it is mapped to.
    #[error("layer {layer}: {role} tensor {tensor} has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The layer of our network.
        layer: String,
        /// The ONNX initializer name.
        tensor: String,
        /// "weight" or "bias".
        role: &'static str,
        /// Shape the layer needs.
        expected: Box<[usize]>,
        /// Shape in the file.
        found: Box<[usize]>,
    },
    /// A convolution attribute (dilation, padding, stride, groups) differs.
    #[error("layer {layer}: Conv node {node} has {attribute} = {found:?}, expected {expected:?}")]
    ConvAttribute {
        /// The layer of our network.
        layer: String,
        /// The ONNX node.
        node: String,
        /// The attribute name.
        attribute: &'static str,
        /// Value the layer needs.
        expected: Box<[i64]>,
        /// Value in the file.
        found: Box<[i64]>,
    },
    /// The graph input does not take the expected number of channels.
    #[error("{path}: graph input {input} has dims {found:?}, expected (1, {channels}, H, W)")]
    GraphInput {
        /// The ONNX file.
        path: PathBuf,
        /// Input name.
        input: String,
        /// Channels the network takes.
        channels: usize,
        /// Dims in the file (None = symbolic).
        found: Vec<Option<i64>>,
    },
    /// The configuration does not describe a U²-Net (6 encoder and 5 decoder stages).
    #[error("invalid U²-Net config: {0}")]
    Config(String),
    /// A tensor given to `forward` has the wrong shape.
    #[error("input tensor has shape {found:?}, expected (N, {channels}, H, W)")]
    InputShape {
        /// Expected channels.
        channels: usize,
        /// Shape given.
        found: Vec<usize>,
    },
    /// The image is too small to find an object in.
    #[error("image is {width}x{height}, both sides must be at least {min} px")]
    ImageTooSmall {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Minimum side.
        min: u32,
    },
    /// The image is too elongated: squashing it to a square would destroy the object.
    #[error("image is {width}x{height}: aspect ratio above {max_aspect}:1 is not supported")]
    ImageTooWide {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Largest accepted ratio of long to short side.
        max_aspect: u32,
    },
    /// Benchmark options that cannot produce a figure.
    #[error("benchmark needs at least one run")]
    NoRuns,
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}
