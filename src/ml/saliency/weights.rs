//! Maps the numerically named initializers of `u2netp.onnx` to our layers.
//!
//! The exported graph names most tensors by number ("1967", "1968", ...),
//! so names cannot be matched. Instead the Conv nodes are walked in graph
//! order (the order PyTorch ran them) and paired with
//! [`U2NetConfig::conv_specs`]; each pair is checked tensor by tensor:
//! weight and bias present and of the layer's shape, and kernel, dilation,
//! padding, stride and groups as the layer needs. Any mismatch is an error
//! naming the layer and the tensor, never a silent misload.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use super::config::{ConvSpec, U2NetConfig};
use super::error::SaliencyError;
use super::onnx::{OnnxGraph, OnnxNode, OnnxTensor};

/// Builds the checkpoint map (`"<layer>.weight"`, `"<layer>.bias"` -> tensor)
/// for `cfg` from an ONNX graph. `path` is only used in error messages.
pub fn map_conv_weights(
    graph: &OnnxGraph,
    cfg: &U2NetConfig,
    path: &Path,
    device: &Device,
) -> Result<HashMap<String, Tensor>, SaliencyError> {
    cfg.validate()?;
    check_graph_input(graph, cfg, path)?;
    let specs = cfg.conv_specs();
    let convs: Vec<&OnnxNode> = graph.nodes_of_type("Conv").collect();
    if convs.len() != specs.len() {
        return Err(SaliencyError::ConvCount {
            path: path.to_path_buf(),
            expected: specs.len(),
            found: convs.len(),
        });
    }
    if graph.initializers.len() != 2 * specs.len() {
        return Err(SaliencyError::InitializerCount {
            path: path.to_path_buf(),
            expected: 2 * specs.len(),
            found: graph.initializers.len(),
        });
    }
    let mut out = HashMap::with_capacity(2 * specs.len());
    for (spec, node) in specs.iter().zip(convs) {
        check_attributes(spec, node)?;
        let weight_shape = vec![spec.out_ch, spec.in_ch, spec.kernel, spec.kernel];
        let weight = conv_input(graph, spec, node, 1, "weight", &weight_shape, device)?;
        let bias = conv_input(graph, spec, node, 2, "bias", &[spec.out_ch], device)?;
        out.insert(format!("{}.weight", spec.key), weight);
        out.insert(format!("{}.bias", spec.key), bias);
    }
    Ok(out)
}

fn check_graph_input(
    graph: &OnnxGraph,
    cfg: &U2NetConfig,
    path: &Path,
) -> Result<(), SaliencyError> {
    // Initializers may also be listed as inputs in old exports: take the first
    // input that is not one.
    let input = graph
        .inputs
        .iter()
        .find(|i| graph.initializer(&i.name).is_none());
    if let Some(input) = input {
        let channels_ok = input.dims.len() == 4
            && input.dims[1].is_none_or(|c| usize::try_from(c).ok() == Some(cfg.in_ch));
        if !channels_ok {
            return Err(SaliencyError::GraphInput {
                path: path.to_path_buf(),
                input: input.name.clone(),
                channels: cfg.in_ch,
                found: input.dims.clone(),
            });
        }
    }
    Ok(())
}

fn check_attributes(spec: &ConvSpec, node: &OnnxNode) -> Result<(), SaliencyError> {
    let k = spec.kernel as i64;
    let d = spec.dilation as i64;
    let p = spec.padding as i64;
    // (attribute, expected, ONNX default when absent)
    let checks: [(&'static str, Vec<i64>, Vec<i64>); 4] = [
        ("kernel_shape", vec![k, k], vec![k, k]),
        ("dilations", vec![d, d], vec![1, 1]),
        ("pads", vec![p, p, p, p], vec![0, 0, 0, 0]),
        ("strides", vec![1, 1], vec![1, 1]),
    ];
    for (attribute, expected, default) in checks {
        let found = node.ints(attribute).map_or(default, <[i64]>::to_vec);
        if found != expected {
            return Err(SaliencyError::ConvAttribute {
                layer: spec.key.clone(),
                node: node.label(),
                attribute,
                expected: expected.into(),
                found: found.into(),
            });
        }
    }
    let group = node.int("group").unwrap_or(1);
    if group != 1 {
        return Err(SaliencyError::ConvAttribute {
            layer: spec.key.clone(),
            node: node.label(),
            attribute: "group",
            expected: Box::new([1]),
            found: Box::new([group]),
        });
    }
    Ok(())
}

fn conv_input(
    graph: &OnnxGraph,
    spec: &ConvSpec,
    node: &OnnxNode,
    index: usize,
    role: &'static str,
    expected: &[usize],
    device: &Device,
) -> Result<Tensor, SaliencyError> {
    let missing = || SaliencyError::MissingTensor {
        layer: spec.key.clone(),
        node: node.label(),
        role,
    };
    let name = node.inputs.get(index).ok_or_else(missing)?;
    let t: &OnnxTensor = graph.initializer(name).ok_or_else(missing)?;
    if t.shape() != expected || t.dims.iter().any(|&d| d < 0) {
        return Err(SaliencyError::TensorShape {
            layer: spec.key.clone(),
            tensor: t.name.clone(),
            role,
            expected: expected.into(),
            found: t.shape().into(),
        });
    }
    let values = t.to_f32()?;
    Ok(Tensor::from_vec(values, expected, device)?)
}
