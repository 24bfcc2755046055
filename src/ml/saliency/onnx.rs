//! Reads the parts of an ONNX model file that a hand-written port needs.
//!
//! ONNX files are protobuf `ModelProto` messages. This module decodes
//! `ModelProto -> GraphProto -> {NodeProto, TensorProto (initializers),
//! ValueInfoProto}` with the wire reader in [`super::wire`], so no protobuf
//! compiler is needed at build time. Field numbers follow `onnx.proto`.
//! Unknown fields are skipped; tensors stored in external files are
//! rejected.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::wire::{Field, Reader, WireError};

/// ONNX `TensorProto.DataType` value for 32-bit floats.
pub const DATA_TYPE_FLOAT: i32 = 1;

/// Reading or decoding an ONNX file failed.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The file could not be read.
    #[error("cannot read ONNX file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid protobuf message of the expected shape.
    #[error("{path} is not a valid ONNX model ({context}): {source}")]
    Wire {
        /// The file.
        path: PathBuf,
        /// Which message was being decoded.
        context: &'static str,
        /// The wire-format error.
        source: WireError,
    },
    /// The message decoded but has no graph or no IR version.
    #[error("{path} is not an ONNX model: {reason}")]
    NotAModel {
        /// The file.
        path: PathBuf,
        /// What is missing.
        reason: &'static str,
    },
    /// An initializer's data is stored in a separate file.
    #[error("tensor {tensor}: external data is not supported")]
    ExternalData {
        /// The tensor name.
        tensor: String,
    },
    /// An initializer whose element type is not float32.
    #[error("tensor {tensor}: data type {data_type} is not float32 (1)")]
    UnsupportedDataType {
        /// The tensor name.
        tensor: String,
        /// The ONNX data type code.
        data_type: i32,
    },
    /// An initializer whose data length does not match its dims.
    #[error("tensor {tensor}: dims {dims:?} need {expected} floats, data holds {found}")]
    BadDataLength {
        /// The tensor name.
        tensor: String,
        /// Its dims.
        dims: Vec<i64>,
        /// Number of elements the dims imply.
        expected: usize,
        /// Number of elements stored.
        found: usize,
    },
}

/// A decoded ONNX model: the header fields and the main graph.
#[derive(Debug, Clone, Default)]
pub struct OnnxModel {
    /// `ModelProto.ir_version`.
    pub ir_version: i64,
    /// `ModelProto.producer_name` (e.g. "pytorch").
    pub producer_name: String,
    /// Operator sets imported, as (domain, version).
    pub opsets: Vec<(String, i64)>,
    /// The main graph.
    pub graph: OnnxGraph,
}

/// `GraphProto`: nodes in topological order, initializers, inputs, outputs.
#[derive(Debug, Clone, Default)]
pub struct OnnxGraph {
    /// Graph name.
    pub name: String,
    /// The nodes in the order stored (topological, as exported).
    pub nodes: Vec<OnnxNode>,
    /// Constant tensors (the weights).
    pub initializers: Vec<OnnxTensor>,
    /// Graph inputs.
    pub inputs: Vec<ValueInfo>,
    /// Graph outputs.
    pub outputs: Vec<ValueInfo>,
}

impl OnnxGraph {
    /// The initializer with this name.
    pub fn initializer(&self, name: &str) -> Option<&OnnxTensor> {
        self.initializers.iter().find(|t| t.name == name)
    }

    /// The nodes with this operator type, in graph order.
    pub fn nodes_of_type<'a>(&'a self, op_type: &'a str) -> impl Iterator<Item = &'a OnnxNode> {
        self.nodes.iter().filter(move |n| n.op_type == op_type)
    }
}

/// `NodeProto`: one operator application.
#[derive(Debug, Clone, Default)]
pub struct OnnxNode {
    /// Node name (may be empty).
    pub name: String,
    /// Operator, e.g. "Conv".
    pub op_type: String,
    /// Names of the input values.
    pub inputs: Vec<String>,
    /// Names of the output values.
    pub outputs: Vec<String>,
    /// Attributes.
    pub attributes: Vec<Attribute>,
}

impl OnnxNode {
    /// The attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    /// The integer-list attribute with this name, if present.
    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.attribute(name) {
            Some(AttrValue::Ints(v)) => Some(v),
            _ => None,
        }
    }

    /// The integer attribute with this name, if present.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.attribute(name) {
            Some(AttrValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// A readable identity for error messages: name or first output.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!(
                "{} -> {}",
                self.op_type,
                self.outputs.first().map(String::as_str).unwrap_or("?")
            )
        } else {
            format!("{} ({})", self.name, self.op_type)
        }
    }
}

/// `AttributeProto`: a named attribute value.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Its value.
    pub value: AttrValue,
}

/// The attribute kinds this reader decodes; the rest are [`AttrValue::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A float.
    Float(f32),
    /// An int64.
    Int(i64),
    /// A byte string.
    String(Vec<u8>),
    /// A list of floats.
    Floats(Vec<f32>),
    /// A list of int64.
    Ints(Vec<i64>),
    /// Tensors, graphs and other kinds (not decoded).
    Other,
}

/// `ValueInfoProto`: a named graph input/output with its tensor shape.
#[derive(Debug, Clone, Default)]
pub struct ValueInfo {
    /// Value name.
    pub name: String,
    /// Element type (ONNX data type code, 0 when absent).
    pub elem_type: i32,
    /// Dimensions; `None` for symbolic or unknown dimensions.
    pub dims: Vec<Option<i64>>,
}

/// `TensorProto`: a named constant tensor.
#[derive(Debug, Clone, Default)]
pub struct OnnxTensor {
    /// Tensor name.
    pub name: String,
    /// Dimensions.
    pub dims: Vec<i64>,
    /// ONNX data type code.
    pub data_type: i32,
    /// Little-endian `raw_data` bytes (empty when `float_data` is used).
    pub raw_data: Vec<u8>,
    /// `float_data` values (empty when `raw_data` is used).
    pub float_data: Vec<f32>,
    /// True when the data lives in an external file.
    pub external: bool,
}

impl OnnxTensor {
    /// Dims as `usize` (negative dims count as 0, which fails the length check).
    pub fn shape(&self) -> Vec<usize> {
        self.dims
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .collect()
    }

    /// The values as f32, checked against the element type and the dims.
    pub fn to_f32(&self) -> Result<Vec<f32>, OnnxError> {
        if self.external {
            return Err(OnnxError::ExternalData {
                tensor: self.name.clone(),
            });
        }
        if self.data_type != DATA_TYPE_FLOAT {
            return Err(OnnxError::UnsupportedDataType {
                tensor: self.name.clone(),
                data_type: self.data_type,
            });
        }
        let expected: usize = self.shape().iter().product();
        let ok = if self.raw_data.is_empty() {
            self.float_data.len() == expected
        } else {
            self.raw_data.len() == expected * 4
        };
        if !ok {
            return Err(OnnxError::BadDataLength {
                tensor: self.name.clone(),
                dims: self.dims.clone(),
                expected,
                found: if self.raw_data.is_empty() {
                    self.float_data.len()
                } else {
                    self.raw_data.len() / 4
                },
            });
        }
        if self.raw_data.is_empty() {
            return Ok(self.float_data.clone());
        }
        Ok(self
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// Reads and decodes an ONNX file.
pub fn read_onnx(path: &Path) -> Result<OnnxModel, OnnxError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_onnx(&bytes, path)
}

/// Decodes ONNX bytes; `path` is only used in error messages.
pub fn parse_onnx(bytes: &[u8], path: &Path) -> Result<OnnxModel, OnnxError> {
    let wire = |context: &'static str| {
        let path = path.to_path_buf();
        move |source| OnnxError::Wire {
            path,
            context,
            source,
        }
    };
    let mut model = OnnxModel::default();
    let mut has_graph = false;
    let mut has_ir = false;
    let mut r = Reader::new(bytes);
    while let Some(f) = r.next_field().map_err(wire("ModelProto"))? {
        match f.number {
            1 => {
                model.ir_version = f.as_i64().map_err(wire("ModelProto.ir_version"))?;
                has_ir = true;
            }
            2 => model.producer_name = string(&f).map_err(wire("ModelProto.producer_name"))?,
            7 => {
                let b = f.as_bytes().map_err(wire("ModelProto.graph"))?;
                model.graph = parse_graph(b).map_err(wire("GraphProto"))?;
                has_graph = true;
            }
            8 => {
                let b = f.as_bytes().map_err(wire("ModelProto.opset_import"))?;
                model
                    .opsets
                    .push(parse_opset(b).map_err(wire("OperatorSetIdProto"))?);
            }
            _ => {}
        }
    }
    let not_a_model = |reason| OnnxError::NotAModel {
        path: path.to_path_buf(),
        reason,
    };
    if !has_ir {
        return Err(not_a_model("no ir_version field"));
    }
    if !has_graph {
        return Err(not_a_model("no graph"));
    }
    Ok(model)
}

fn string(f: &Field<'_>) -> Result<String, WireError> {
    f.as_str().map(str::to_owned)
}

fn parse_opset(b: &[u8]) -> Result<(String, i64), WireError> {
    let (mut domain, mut version) = (String::new(), 0);
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => domain = string(&f)?,
            2 => version = f.as_i64()?,
            _ => {}
        }
    }
    Ok((domain, version))
}

fn parse_graph(b: &[u8]) -> Result<OnnxGraph, WireError> {
    let mut g = OnnxGraph::default();
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => g.nodes.push(parse_node(f.as_bytes()?)?),
            2 => g.name = string(&f)?,
            5 => g.initializers.push(parse_tensor(f.as_bytes()?)?),
            11 => g.inputs.push(parse_value_info(f.as_bytes()?)?),
            12 => g.outputs.push(parse_value_info(f.as_bytes()?)?),
            _ => {}
        }
    }
    Ok(g)
}

fn parse_node(b: &[u8]) -> Result<OnnxNode, WireError> {
    let mut n = OnnxNode::default();
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => n.inputs.push(string(&f)?),
            2 => n.outputs.push(string(&f)?),
            3 => n.name = string(&f)?,
            4 => n.op_type = string(&f)?,
            5 => n.attributes.push(parse_attribute(f.as_bytes()?)?),
            _ => {}
        }
    }
    Ok(n)
}

fn parse_attribute(b: &[u8]) -> Result<Attribute, WireError> {
    let mut name = String::new();
    let mut kind = 0u64;
    let (mut float, mut int, mut bytes) = (None, None, None);
    let (mut floats, mut ints) = (Vec::new(), Vec::new());
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => name = string(&f)?,
            20 => kind = f.as_u64()?,
            2 => float = Some(f.as_f32()?),
            3 => int = Some(f.as_i64()?),
            4 => bytes = Some(f.as_bytes()?.to_vec()),
            7 => f.push_f32s(&mut floats)?,
            8 => f.push_i64s(&mut ints)?,
            _ => {}
        }
    }
    // AttributeProto.AttributeType: FLOAT=1, INT=2, STRING=3, FLOATS=6, INTS=7.
    let value = match (kind, float, int, bytes) {
        (1, Some(v), _, _) => AttrValue::Float(v),
        (2, _, Some(v), _) => AttrValue::Int(v),
        (3, _, _, Some(v)) => AttrValue::String(v),
        // A missing scalar means the proto3 default value.
        (1, None, _, _) => AttrValue::Float(0.0),
        (2, _, None, _) => AttrValue::Int(0),
        (3, _, _, None) => AttrValue::String(Vec::new()),
        (6, ..) => AttrValue::Floats(floats),
        (7, ..) => AttrValue::Ints(ints),
        _ => AttrValue::Other,
    };
    Ok(Attribute { name, value })
}

fn parse_tensor(b: &[u8]) -> Result<OnnxTensor, WireError> {
    let mut t = OnnxTensor::default();
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => f.push_i64s(&mut t.dims)?,
            2 => t.data_type = f.as_i64()? as i32,
            4 => f.push_f32s(&mut t.float_data)?,
            8 => t.name = string(&f)?,
            9 => t.raw_data = f.as_bytes()?.to_vec(),
            13 => t.external = true,
            // data_location: 1 = EXTERNAL.
            14 => t.external |= f.as_u64()? == 1,
            _ => {}
        }
    }
    Ok(t)
}

fn parse_value_info(b: &[u8]) -> Result<ValueInfo, WireError> {
    let mut v = ValueInfo::default();
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => v.name = string(&f)?,
            // TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1)
            // -> dim_value (1) | dim_param (2).
            2 => {
                let mut tr = Reader::new(f.as_bytes()?);
                while let Some(tf) = tr.next_field()? {
                    if tf.number != 1 {
                        continue;
                    }
                    let mut tt = Reader::new(tf.as_bytes()?);
                    while let Some(ttf) = tt.next_field()? {
                        match ttf.number {
                            1 => v.elem_type = ttf.as_i64()? as i32,
                            2 => v.dims = parse_shape(ttf.as_bytes()?)?,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(v)
}

fn parse_shape(b: &[u8]) -> Result<Vec<Option<i64>>, WireError> {
    let mut dims = Vec::new();
    let mut r = Reader::new(b);
    while let Some(f) = r.next_field()? {
        if f.number != 1 {
            continue;
        }
        let mut value = None;
        let mut dr = Reader::new(f.as_bytes()?);
        while let Some(df) = dr.next_field()? {
            if df.number == 1 {
                value = Some(df.as_i64()?);
            }
        }
        dims.push(value);
    }
    Ok(dims)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(field: u64, wire: u64) -> u8 {
        u8::try_from((field << 3) | wire).unwrap()
    }

    fn ld(field: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![key(field, 2), u8::try_from(payload.len()).unwrap()];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_tiny_model() {
        // TensorProto: dims [2], data_type 1, name "w", raw_data [1.0, -2.0].
        let mut raw = Vec::new();
        raw.extend(1.0f32.to_le_bytes());
        raw.extend((-2.0f32).to_le_bytes());
        let mut tensor = ld(1, &[2]);
        tensor.extend([key(2, 0), 1]);
        tensor.extend(ld(8, b"w"));
        tensor.extend(ld(9, &raw));
        // AttributeProto: name "pads", type INTS (7), ints packed [1, 1].
        let mut attr = ld(1, b"pads");
        // Field 20 has a two-byte key: (20 << 3) = 160 -> varint [0xa0, 0x01].
        attr.extend([0xa0, 0x01, 7]);
        attr.extend(ld(8, &[1, 1]));
        let mut node = ld(1, b"x");
        node.extend(ld(1, b"w"));
        node.extend(ld(2, b"y"));
        node.extend(ld(4, b"Conv"));
        node.extend(ld(5, &attr));
        let mut graph = ld(1, &node);
        graph.extend(ld(5, &tensor));
        let mut model = vec![key(1, 0), 6];
        model.extend(ld(7, &graph));
        let m = parse_onnx(&model, Path::new("mem")).unwrap();
        assert_eq!(m.ir_version, 6);
        let n = &m.graph.nodes[0];
        assert_eq!(n.op_type, "Conv");
        assert_eq!(n.inputs, vec!["x", "w"]);
        assert_eq!(n.ints("pads"), Some(&[1i64, 1][..]));
        let t = m.graph.initializer("w").unwrap();
        assert_eq!(t.shape(), vec![2]);
        assert_eq!(t.to_f32().unwrap(), vec![1.0, -2.0]);
    }

    #[test]
    fn rejects_non_onnx_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(parse_onnx(png, Path::new("x.png")).is_err());
        assert!(matches!(
            parse_onnx(&[], Path::new("empty")),
            Err(OnnxError::NotAModel { .. })
        ));
        assert!(matches!(
            read_onnx(Path::new("/nonexistent/u2netp.onnx")),
            Err(OnnxError::Io { .. })
        ));
    }

    #[test]
    fn bad_tensor_length_is_an_error() {
        let t = OnnxTensor {
            name: "w".into(),
            dims: vec![3],
            data_type: DATA_TYPE_FLOAT,
            float_data: vec![1.0],
            ..Default::default()
        };
        assert!(matches!(
            t.to_f32(),
            Err(OnnxError::BadDataLength { expected: 3, .. })
        ));
    }
}
