//! GGUF checkpoints (llama.cpp format): configuration from the metadata and
//! weights, either dequantised to f32 (trainable, mergeable LoRA) or kept
//! quantised for the linear layers (faster inference).
//!
//! llama.cpp stores the q/k projections of `llama` models with the rows of
//! every head interleaved for its rotary convention; they are put back in the
//! Hugging Face order on load, so the decoder and adapters see HF layouts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{ggml_file, GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Tensor};

use super::config::{Architecture, DecoderConfig, RopeScaling};
use super::error::{PromptModelError, Result};
use super::lora::LoraLinear;
use super::weights::WeightSource;

/// How GGUF linear weights are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgufPrecision {
    /// Everything dequantised to f32 (needed for training and LoRA merges).
    F32,
    /// Linear layers stay quantised (candle `QMatMul`); block types without
    /// a SIMD kernel in candle (Q4_1, Q5_0, Q5_1, Q8_1) are re-quantised to Q8_0.
    Quantized,
    /// [`GgufPrecision::F32`] when the whole model dequantised takes at most
    /// [`AUTO_F32_MAX_BYTES`], else [`GgufPrecision::Quantized`]. The
    /// suggestion pipeline decodes a dozen rows at once. Measured with
    /// `bench suggestions --precision` for SmolLM2-135M on this machine's 2
    /// cores: with other work on the CPU (the studio's render and model
    /// workers run beside it) f32 took 23.9 against 44.7 s per product; on an
    /// idle CPU it is about 10% slower (11.1-11.4 against 10.1-10.3 s). f32 is
    /// chosen for its steadiness under load; one row alone is faster
    /// quantised.
    Auto,
}

/// The largest dequantised model [`GgufPrecision::Auto`] loads as f32 (1 GiB,
/// about 250M parameters).
pub const AUTO_F32_MAX_BYTES: u64 = 1 << 30;

/// A parsed GGUF file: metadata plus its tensors (quantised, in memory).
pub struct GgufFile {
    path: PathBuf,
    metadata: HashMap<String, Value>,
    tensors: HashMap<String, Arc<QTensor>>,
    architecture: Architecture,
}

fn gguf_error(path: &Path, reason: impl Into<String>) -> PromptModelError {
    PromptModelError::Gguf {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Hugging Face checkpoint name -> GGUF tensor name.
pub fn gguf_name(hf: &str) -> Option<String> {
    let fixed = match hf {
        "model.embed_tokens.weight" => Some("token_embd.weight"),
        "model.norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (module, kind) = rest.rsplit_once('.')?;
    let short = match module {
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{short}.{kind}"))
}

/// Undoes llama.cpp's per-head row interleaving of q/k: row `h*d + 2i + j`
/// of the file is row `h*d + j*d/2 + i` of the Hugging Face weight.
fn unpermute_rows(bytes: &[u8], rows: usize, row_bytes: usize, head_dim: usize) -> Vec<u8> {
    let mut out = vec![0u8; bytes.len()];
    let half = head_dim / 2;
    for src in 0..rows {
        let (h, r) = (src / head_dim, src % head_dim);
        let (i, j) = (r / 2, r % 2);
        let dst = h * head_dim + j * half + i;
        out[dst * row_bytes..(dst + 1) * row_bytes]
            .copy_from_slice(&bytes[src * row_bytes..(src + 1) * row_bytes]);
    }
    out
}

impl GgufFile {
    /// Reads a GGUF file fully into memory.
    pub fn open(path: &Path, device: &Device) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| PromptModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cursor = std::io::Cursor::new(&bytes);
        let content = Content::read(&mut cursor)
            .map_err(|e| gguf_error(path, format!("not a readable GGUF file: {e}")))?;
        let arch_name = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .ok_or_else(|| gguf_error(path, "missing `general.architecture`"))?;
        let architecture = Architecture::from_name(&arch_name)?;
        let head_dim = Self::head_dim_of(&content.metadata, &arch_name, path)?;
        let mut tensors = HashMap::new();
        for (name, info) in &content.tensor_infos {
            let dtype = info.ggml_dtype;
            let dims = info.shape.dims().to_vec();
            let elems = info.shape.elem_count();
            let block = dtype.block_size();
            if !elems.is_multiple_of(block) {
                return Err(gguf_error(
                    path,
                    format!("tensor `{name}`: {elems} elements do not fill {block}-blocks"),
                ));
            }
            let size = elems / block * dtype.type_size();
            let start = content
                .tensor_data_offset
                .checked_add(info.offset)
                .and_then(|s| usize::try_from(s).ok());
            let range = start.and_then(|s| Some(s..s.checked_add(size)?));
            let raw = range.and_then(|r| bytes.get(r)).ok_or_else(|| {
                gguf_error(
                    path,
                    format!("tensor `{name}` extends past the end of the file"),
                )
            })?;
            let permute = architecture == Architecture::Llama
                && (name.ends_with("attn_q.weight")
                    || name.ends_with("attn_k.weight")
                    || name.ends_with("attn_q.bias")
                    || name.ends_with("attn_k.bias"));
            let qt = if permute {
                let rows = dims.first().copied().unwrap_or(0);
                if rows == 0 || rows % head_dim != 0 || size % rows != 0 {
                    return Err(gguf_error(
                        path,
                        format!("tensor `{name}` {dims:?} is not made of {head_dim}-row heads"),
                    ));
                }
                let data = unpermute_rows(raw, rows, size / rows, head_dim);
                ggml_file::qtensor_from_ggml(dtype, &data, dims.clone(), device)
            } else {
                ggml_file::qtensor_from_ggml(dtype, raw, dims.clone(), device)
            }
            .map_err(|e| gguf_error(path, format!("tensor `{name}` ({dtype:?}): {e}")))?;
            tensors.insert(name.clone(), Arc::new(qt));
        }
        Ok(Self {
            path: path.to_path_buf(),
            metadata: content.metadata,
            tensors,
            architecture,
        })
    }

    fn head_dim_of(meta: &HashMap<String, Value>, arch: &str, path: &Path) -> Result<usize> {
        let get = |k: &str| {
            meta.get(&format!("{arch}.{k}"))
                .and_then(|v| v.to_u32().ok())
        };
        if let Some(d) = get("rope.dimension_count").or(get("attention.key_length")) {
            return Ok(d as usize);
        }
        match (get("embedding_length"), get("attention.head_count")) {
            (Some(h), Some(n)) if n > 0 => Ok((h / n) as usize),
            _ => Err(gguf_error(path, "cannot determine the attention head size")),
        }
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All metadata key/values.
    pub fn metadata(&self) -> &HashMap<String, Value> {
        &self.metadata
    }

    /// A metadata string, if present.
    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.metadata
            .get(key)
            .and_then(|v| v.to_string().ok())
            .map(|s| s.as_str())
    }

    /// A metadata integer, if present.
    pub fn meta_u32(&self, key: &str) -> Option<u32> {
        self.metadata.get(key).and_then(|v| match v {
            Value::U8(x) => Some(*x as u32),
            Value::U16(x) => Some(*x as u32),
            Value::U32(x) => Some(*x),
            Value::U64(x) => Some(*x as u32),
            Value::I32(x) => u32::try_from(*x).ok(),
            Value::I64(x) => u32::try_from(*x).ok(),
            _ => None,
        })
    }

    /// The decoder configuration described by the metadata.
    pub fn config(&self) -> Result<DecoderConfig> {
        let arch = self.meta_str("general.architecture").unwrap_or("");
        let need = |k: &str| {
            self.meta_u32(&format!("{arch}.{k}"))
                .map(|v| v as usize)
                .ok_or_else(|| gguf_error(&self.path, format!("missing metadata `{arch}.{k}`")))
        };
        let f = |k: &str| -> Option<f64> {
            self.metadata
                .get(&format!("{arch}.{k}"))
                .and_then(|v| v.to_f32().ok())
                .map(f64::from)
        };
        if let Some(kind) = self.meta_str(&format!("{arch}.rope.scaling.type")) {
            if kind != "none" {
                return Err(gguf_error(
                    &self.path,
                    format!("rope scaling `{kind}` is not supported"),
                ));
            }
        }
        let heads = need("attention.head_count")?;
        let vocab_size = match self
            .metadata
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
        {
            Some(tokens) => tokens.len(),
            None => need("vocab_size")?,
        };
        let embed_rows = self
            .tensors
            .get("token_embd.weight")
            .and_then(|t| t.shape().dims().first().copied());
        let cfg = DecoderConfig {
            architecture: self.architecture,
            vocab_size: embed_rows.unwrap_or(vocab_size),
            hidden_size: need("embedding_length")?,
            intermediate_size: need("feed_forward_length")?,
            num_hidden_layers: need("block_count")?,
            num_attention_heads: heads,
            num_key_value_heads: need("attention.head_count_kv").unwrap_or(heads),
            head_dim: Self::head_dim_of(&self.metadata, arch, &self.path)?,
            rms_norm_eps: f("attention.layer_norm_rms_epsilon").unwrap_or(1e-5),
            rope_theta: f("rope.freq_base").unwrap_or(10_000.0),
            rope_scaling: match self.tensors.get("rope_freqs.weight") {
                Some(t) => RopeScaling::FreqFactors(
                    t.dequantize(&Device::Cpu)?
                        .flatten_all()?
                        .to_vec1::<f32>()?,
                ),
                None => RopeScaling::None,
            },
            max_position_embeddings: need("context_length").unwrap_or(4096),
            tie_word_embeddings: !self.tensors.contains_key("output.weight"),
            qkv_bias: self.tensors.contains_key("blk.0.attn_q.bias"),
            o_bias: self.tensors.contains_key("blk.0.attn_output.bias"),
            mlp_bias: self.tensors.contains_key("blk.0.ffn_up.bias"),
            bos_token_id: self.meta_u32("tokenizer.ggml.bos_token_id"),
            eos_token_ids: self
                .meta_u32("tokenizer.ggml.eos_token_id")
                .into_iter()
                .collect(),
        };
        cfg.validate(&self.path)?;
        Ok(cfg)
    }

    /// A [`WeightSource`] over this file with the given precision
    /// ([`GgufPrecision::Auto`] resolved by [`GgufFile::resolve`]).
    pub fn source(&self, precision: GgufPrecision) -> GgufSource<'_> {
        GgufSource {
            file: self,
            precision: self.resolve(precision),
            device: Device::Cpu,
        }
    }

    /// The bytes the model's tensors take dequantised to f32.
    pub fn dequantised_bytes(&self) -> u64 {
        self.tensors
            .values()
            .map(|t| 4 * t.shape().elem_count() as u64)
            .sum()
    }

    /// `precision` with [`GgufPrecision::Auto`] decided for this file.
    pub fn resolve(&self, precision: GgufPrecision) -> GgufPrecision {
        match precision {
            GgufPrecision::Auto if self.dequantised_bytes() <= AUTO_F32_MAX_BYTES => {
                GgufPrecision::F32
            }
            GgufPrecision::Auto => GgufPrecision::Quantized,
            other => other,
        }
    }

    fn qtensor(&self, hf_name: &str) -> Result<&Arc<QTensor>> {
        let name = gguf_name(hf_name).ok_or_else(|| PromptModelError::Tensor {
            name: hf_name.to_string(),
            reason: "no GGUF equivalent for this name".to_string(),
        })?;
        self.tensors
            .get(&name)
            .ok_or_else(|| PromptModelError::Tensor {
                name: format!("{name} ({hf_name})"),
                reason: format!("missing from {}", self.path.display()),
            })
    }
}

/// [`WeightSource`] reading a [`GgufFile`] with Hugging Face names.
pub struct GgufSource<'a> {
    file: &'a GgufFile,
    precision: GgufPrecision,
    device: Device,
}

fn check_shape(name: &str, got: &[usize], want: &[usize]) -> Result<()> {
    if got != want {
        return Err(PromptModelError::Tensor {
            name: name.to_string(),
            reason: format!("shape {got:?}, expected {want:?}"),
        });
    }
    Ok(())
}

/// candle 0.11 has SIMD dot products for Q4_0, Q8_0 and the k-quants only;
/// Q4_1, Q5_0, Q5_1 and Q8_1 run a scalar loop many times slower. Those are
/// re-quantised to Q8_0 (lossless enough: 8 bits per weight from 4-5).
fn fast_kernel(qt: &Arc<QTensor>) -> Result<Arc<QTensor>> {
    match qt.dtype() {
        GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1 | GgmlDType::Q8_1 => {
            let device = qt.device();
            let dense = qt.dequantize(&device)?;
            Ok(Arc::new(QTensor::quantize(&dense, GgmlDType::Q8_0)?))
        }
        _ => Ok(qt.clone()),
    }
}

impl WeightSource for GgufSource<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let qt = self.file.qtensor(name)?;
        check_shape(name, qt.shape().dims(), shape)?;
        Ok(qt.dequantize(&self.device)?)
    }

    fn contains(&self, name: &str) -> bool {
        self.file.qtensor(name).is_ok()
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn linear(&self, name: &str, out: usize, inp: usize, bias: bool) -> Result<LoraLinear> {
        let wname = format!("{name}.weight");
        let qt = self.file.qtensor(&wname)?;
        check_shape(&wname, qt.shape().dims(), &[out, inp])?;
        let bias = if bias {
            Some(self.tensor(&format!("{name}.bias"), &[out])?)
        } else {
            None
        };
        let keep = self.precision == GgufPrecision::Quantized
            && !matches!(
                qt.dtype(),
                GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16
            );
        if keep {
            let matmul = QMatMul::from_arc(fast_kernel(qt)?)?;
            Ok(LoraLinear::quantized(name, matmul, out, inp, bias))
        } else {
            LoraLinear::dense(name, qt.dequantize(&self.device)?, bias)
        }
    }

    fn lm_head(
        &self,
        name: &str,
        embed: &Tensor,
        tied: bool,
        out: usize,
        inp: usize,
    ) -> Result<LoraLinear> {
        let source = if tied {
            "model.embed_tokens.weight".to_string()
        } else {
            format!("{name}.weight")
        };
        let qt = self.file.qtensor(&source)?;
        check_shape(&source, qt.shape().dims(), &[out, inp])?;
        if self.precision == GgufPrecision::Quantized
            && !matches!(
                qt.dtype(),
                GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16
            )
        {
            Ok(LoraLinear::quantized(
                name,
                QMatMul::from_arc(fast_kernel(qt)?)?,
                out,
                inp,
                None,
            ))
        } else if tied {
            LoraLinear::dense(name, embed.clone(), None)
        } else {
            LoraLinear::dense(name, qt.dequantize(&self.device)?, None)
        }
    }
}
