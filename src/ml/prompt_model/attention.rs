//! Grouped-query self-attention with rotary embeddings and a KV cache.

use candle_core::Tensor;

use super::config::DecoderConfig;
use super::error::Result;
use super::lora::LoraLinear;
use super::ops;
use super::weights::WeightSource;

/// Keys and values of the positions seen so far, each (batch, kv_heads, seq, head_dim).
pub type KvCache = Option<(Tensor, Tensor)>;

/// Self-attention block of one decoder layer.
#[derive(Debug, Clone)]
pub struct Attention {
    pub(super) q_proj: LoraLinear,
    pub(super) k_proj: LoraLinear,
    pub(super) v_proj: LoraLinear,
    pub(super) o_proj: LoraLinear,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

impl Attention {
    /// Loads `prefix.{q,k,v,o}_proj`.
    pub fn new(cfg: &DecoderConfig, src: &dyn WeightSource, prefix: &str) -> Result<Self> {
        let h = cfg.hidden_size;
        let q_out = cfg.num_attention_heads * cfg.head_dim;
        let kv_out = cfg.num_key_value_heads * cfg.head_dim;
        Ok(Self {
            q_proj: src.linear(&format!("{prefix}.q_proj"), q_out, h, cfg.qkv_bias)?,
            k_proj: src.linear(&format!("{prefix}.k_proj"), kv_out, h, cfg.qkv_bias)?,
            v_proj: src.linear(&format!("{prefix}.v_proj"), kv_out, h, cfg.qkv_bias)?,
            o_proj: src.linear(&format!("{prefix}.o_proj"), h, q_out, cfg.o_bias)?,
            num_heads: cfg.num_attention_heads,
            num_kv_heads: cfg.num_key_value_heads,
            head_dim: cfg.head_dim,
        })
    }

    /// `x`: (batch, seq, hidden); `cos`/`sin` for the new positions; `mask`:
    /// additive (seq, total) or `None`; `cache` is extended when given.
    pub fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let split = |y: Tensor, heads: usize| -> candle_core::Result<Tensor> {
            y.reshape((b, t, heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q_proj.forward(x)?, self.num_heads)?;
        let k = split(self.k_proj.forward(x)?, self.num_kv_heads)?;
        let v = split(self.v_proj.forward(x)?, self.num_kv_heads)?;
        let q = ops::rope(&q, cos, sin)?;
        let k = ops::rope(&k, cos, sin)?;
        let (k, v) = match cache {
            Some(slot) => {
                let (k, v) = match slot.take() {
                    Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
                    None => (k, v),
                };
                *slot = Some((k.clone(), v.clone()));
                (k, v)
            }
            None => (k, v),
        };
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let groups = self.num_heads / self.num_kv_heads;
        let out = if t == 1 && groups > 1 && !q.track_op() {
            self.attend_grouped(&q, &k, &v, scale)?
        } else {
            let k = repeat_kv(&k, groups)?;
            let v = repeat_kv(&v, groups)?;
            let scores = (q.matmul(&k.t()?)? * scale)?;
            let scores = match mask {
                Some(m) => scores.broadcast_add(m)?,
                None => scores,
            };
            let probs = ops::softmax_last_dim(&scores)?;
            probs.matmul(&v)?
        };
        let out = out
            .transpose(1, 2)?
            .reshape((b, t, self.num_heads * self.head_dim))?;
        Ok(self.o_proj.forward(&out)?)
    }
}

impl Attention {
    /// Attention of one new position without copying the keys/values per
    /// head: the query heads that share a key/value head are stacked as rows
    /// (b, kv, groups, d) against that head's keys (b, kv, s, d). Same result
    /// as repeating the keys/values, several times less memory traffic
    /// (decoding is bound by it). `q`: (b, heads, 1, d); returns (b, heads, 1, d).
    fn attend_grouped(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        scale: f64,
    ) -> candle_core::Result<Tensor> {
        let (b, heads, _, d) = q.dims4()?;
        let groups = heads / self.num_kv_heads;
        let q = q.reshape((b, self.num_kv_heads, groups, d))?;
        let scores = (q.matmul(&k.t()?)? * scale)?;
        let probs = ops::softmax_last_dim(&scores)?;
        probs.matmul(v)?.reshape((b, heads, 1, d))
    }
}

/// Repeats each key/value head `groups` times: (b, kv, s, d) -> (b, kv * groups, s, d).
fn repeat_kv(x: &Tensor, groups: usize) -> candle_core::Result<Tensor> {
    if groups == 1 {
        return Ok(x.clone());
    }
    let (b, kv, s, d) = x.dims4()?;
    x.unsqueeze(2)?
        .expand((b, kv, groups, s, d))?
        .reshape((b, kv * groups, s, d))
}

/// Additive causal mask (seq, offset + seq): 0 where a query may attend, -inf after it.
pub fn causal_mask(
    seq: usize,
    offset: usize,
    device: &candle_core::Device,
) -> Result<Option<Tensor>> {
    if seq <= 1 {
        return Ok(None);
    }
    let total = offset + seq;
    let data: Vec<f32> = (0..seq)
        .flat_map(|i| {
            (0..total).map(move |j| {
                if j > i + offset {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
        })
        .collect();
    Ok(Some(Tensor::from_vec(data, (seq, total), device)?))
}
