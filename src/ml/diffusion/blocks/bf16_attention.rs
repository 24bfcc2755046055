//! Fused CPU attention `softmax(q k^T) v` with bf16 products, for CPUs
//! with AVX512-BF16: the f32 kernel's plan ([`super::fused_attention`])
//! with both products on `vdpbf16ps`.
//!
//! Per head, `k` is packed once as pairs of bf16 along the head width in
//! panels of [`KEYS`] keys, and `v` as pairs along the keys in panels of
//! [`VALUE_COLS`] head dimensions. Per block of query rows, the rows are
//! rounded to bf16 pairs, their scores against every key panel are summed
//! in f32 into a scratch buffer that stays in cache, the softmax is taken
//! there in f32 (the f32 kernel's [`super::fused_attention::exp_rows`]),
//! and each [`ROWS`]-row tile of probabilities is rounded to bf16 pairs
//! and multiplied by the value panels, scaled by `1 / sum` at the end.
//! Rounding is to nearest even, as in [`super::bf16_gemm`]; products of
//! two bf16 values are exact in f32, so the only differences from the f32
//! kernel are the rounded `q`, `k`, probabilities and `v`.
//!
//! `unsafe` is allowed here for the same reason as in
//! [`super::bf16_gemm`]: `vdpbf16ps` is only reachable through
//! `std::arch` inside `#[target_feature]` functions, which load through
//! pointers. Every `unsafe` block states what it relies on; the kernels
//! are entered only after the run-time check for AVX512-BF16.
#![allow(unsafe_code)]

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::bf16_gemm::{pair, round_into};
use super::fused_attention::{attention_inputs, exp_rows, Dims};

/// Query rows per parallel task (a multiple of [`ROWS`]).
const QUERY_BLOCK: usize = 48;
/// Query rows per register tile of either product.
const ROWS: usize = 8;
/// Keys per key panel (two 16-lane vectors of scores per row).
const KEYS: usize = 32;
/// 16-lane vectors of head dimensions per value panel (3 x 8 rows = 24
/// accumulators of AVX-512's 32 registers).
const VALUE_VECTORS: usize = 3;
/// Head dimensions per value panel (SD 1.5's head width 40 fits one).
const VALUE_COLS: usize = 16 * VALUE_VECTORS;

/// `softmax(q k^T) v` for `q` `(bh, n, d)` (already scaled) and `k`, `v`
/// `(bh, m, d)`: contiguous f32 CPU tensors, with bf16 products and f32
/// sums and softmax. Fails on a CPU without AVX512-BF16 (see
/// [`super::bf16::cpu_has_avx512_bf16`]).
pub fn fused_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> candle_core::Result<Tensor> {
    q.apply_op3_no_bwd(k, v, &Bf16Attention)
}

/// The custom op behind [`fused_attention`].
struct Bf16Attention;

impl Dims {
    /// Pairs along the head width.
    fn width_pairs(self) -> usize {
        self.width.div_ceil(2)
    }

    /// Pairs along the keys.
    fn key_pairs(self) -> usize {
        self.keys.div_ceil(2)
    }

    /// Score columns per row: the keys padded to whole key panels.
    fn key_cols(self) -> usize {
        self.keys.next_multiple_of(KEYS)
    }

    /// Value panels per head.
    fn value_panels(self) -> usize {
        self.width.div_ceil(VALUE_COLS)
    }
}

/// One head's keys and values as bf16 pairs.
struct PackedHead {
    /// Panel `c` holds, for each pair `t` of head dimensions, the pairs
    /// `(k[j][2t], k[j][2t + 1])` of keys `j = c * KEYS ..` (zeros past the
    /// last key and the head width).
    keys: Vec<u32>,
    /// Panel `c` holds, for each pair `i` of keys, the pairs
    /// `(v[2i][x], v[2i + 1][x])` of dimensions `x = c * VALUE_COLS ..`.
    values: Vec<u32>,
}

/// Packs one head's `k` and `v` (`keys x width`, row-major).
///
/// # Safety
/// The CPU must have AVX512-BF16.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn pack_head(k: &[f32], v: &[f32], dims: Dims) -> PackedHead {
    let (m, d) = (dims.keys, dims.width);
    let wp = dims.width_pairs();
    // Each row rounded once: pair `t` of row `j` at `[j * wp + t]`.
    let rows = |x: &[f32]| {
        let mut out = vec![0u32; m * wp];
        for (src, dst) in x.chunks_exact(d).zip(out.chunks_exact_mut(wp)) {
            // SAFETY: as this function's contract.
            unsafe { round_into(src, dst) };
        }
        out
    };
    let (kr, vr) = (rows(k), rows(v));
    let mut keys = vec![0u32; dims.key_cols() * wp];
    for (c, panel) in keys.chunks_exact_mut(KEYS * wp).enumerate() {
        for (t, row) in panel.chunks_exact_mut(KEYS).enumerate() {
            for (x, out) in row.iter_mut().enumerate().take(m.saturating_sub(c * KEYS)) {
                *out = kr[(c * KEYS + x) * wp + t];
            }
        }
    }
    // The bf16 bits of `v[j][x]`, zero outside.
    let half = |j: usize, x: usize| {
        if j < m && x < d {
            (vr[j * wp + x / 2] >> (16 * (x % 2))) & 0xFFFF
        } else {
            0
        }
    };
    let kp = dims.key_pairs();
    let mut values = vec![0u32; dims.value_panels() * kp * VALUE_COLS];
    for (c, panel) in values.chunks_exact_mut(kp * VALUE_COLS).enumerate() {
        for (i, row) in panel.chunks_exact_mut(VALUE_COLS).enumerate() {
            for (x, out) in row.iter_mut().enumerate() {
                let col = c * VALUE_COLS + x;
                *out = half(2 * i, col) | (half(2 * i + 1, col) << 16);
            }
        }
    }
    PackedHead { keys, values }
}

/// Per-task buffers.
#[derive(Default)]
struct Scratch {
    /// The block's query rows as pairs, per tile `[t * ROWS + r]`.
    queries: Vec<u32>,
    /// Scores, then softmax numerators: `ROWS` rows of `key_cols` per tile.
    scores: Vec<f32>,
    /// `1 / sum` per row.
    inv_sums: Vec<f32>,
    /// One tile's probabilities as pairs, row by row (`key_cols / 2` each).
    probs: Vec<u32>,
    /// One tile's unscaled output, `ROWS` rows of all value panels.
    tile: Vec<f32>,
}

/// One task: the query rows `q` (whole rows) of one head into `out`.
fn attend_block(q: &[f32], head: &PackedHead, dims: Dims, out: &mut [f32], s: &mut Scratch) {
    let d = dims.width;
    let rows = q.len() / d;
    let tiles = rows.div_ceil(ROWS);
    let (wp, kp, key_cols) = (dims.width_pairs(), dims.key_pairs(), dims.key_cols());
    s.queries.clear();
    s.queries.resize(tiles * ROWS * wp, 0);
    for (r, row) in q.chunks_exact(d).enumerate() {
        let tile = &mut s.queries[(r / ROWS) * ROWS * wp..];
        for t in 0..wp {
            let hi = row.get(2 * t + 1).copied().unwrap_or(0.0);
            tile[t * ROWS + r % ROWS] = pair(row[2 * t], hi);
        }
    }
    s.scores.clear();
    s.scores.resize(tiles * ROWS * key_cols, 0.0);
    for (qt, st) in s
        .queries
        .chunks_exact(ROWS * wp)
        .zip(s.scores.chunks_exact_mut(ROWS * key_cols))
    {
        // SAFETY: the caller checked AVX512-BF16; the slices have the
        // lengths `scores_tile` reads and writes (checked there).
        unsafe { scores_tile(qt, &head.keys, wp, st) };
    }
    s.inv_sums.clear();
    s.inv_sums.resize(rows, 0.0);
    exp_rows(
        &mut s.scores[..rows * key_cols],
        key_cols,
        dims.keys,
        &mut s.inv_sums,
    );
    let cols = dims.value_panels() * VALUE_COLS;
    s.probs.resize(ROWS * key_cols / 2, 0);
    s.tile.resize(ROWS * cols, 0.0);
    for (t, st) in s.scores.chunks_exact(ROWS * key_cols).enumerate() {
        // SAFETY: as above (the rows are contiguous: one run).
        unsafe { round_into(st, &mut s.probs) };
        // SAFETY: as above.
        unsafe { output_tile(&s.probs, &head.values, kp, &mut s.tile) };
        let first = t * ROWS;
        for (r, acc) in s.tile.chunks_exact(cols).enumerate().take(rows - first) {
            let inv = s.inv_sums[first + r];
            let dst = &mut out[(first + r) * d..(first + r + 1) * d];
            for (o, a) in dst.iter_mut().zip(acc) {
                *o = a * inv;
            }
        }
    }
}

/// Scores of one tile of `ROWS` query rows (`qt`: `wp` groups of `ROWS`
/// pairs) against every key panel, into `st` (`ROWS` rows of `key_cols`).
///
/// # Safety
/// The CPU must have AVX512-BF16.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn scores_tile(qt: &[u32], keys: &[u32], wp: usize, st: &mut [f32]) {
    use std::arch::x86_64::*;
    let key_cols = st.len() / ROWS;
    assert!(qt.len() >= ROWS * wp && keys.len() >= key_cols * wp && key_cols.is_multiple_of(KEYS));
    for c in 0..key_cols / KEYS {
        let panel = &keys[c * KEYS * wp..(c + 1) * KEYS * wp];
        let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
        for t in 0..wp {
            // SAFETY: `panel` holds `wp` groups of KEYS pairs and `qt`
            // `wp` groups of ROWS (asserted above); bf16 pairs reinterpret
            // u32s.
            unsafe {
                let k = panel.as_ptr().add(t * KEYS);
                let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(k.cast()));
                let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(k.add(16).cast()));
                for (r, row) in acc.iter_mut().enumerate() {
                    let a = *qt.get_unchecked(t * ROWS + r) as i32;
                    let a: __m512bh = std::mem::transmute(_mm512_set1_epi32(a));
                    row[0] = _mm512_dpbf16_ps(row[0], a, b0);
                    row[1] = _mm512_dpbf16_ps(row[1], a, b1);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            let at = r * key_cols + c * KEYS;
            let dst = &mut st[at..at + KEYS];
            // SAFETY: `dst` holds KEYS = 2 x 16 floats.
            unsafe {
                _mm512_storeu_ps(dst.as_mut_ptr(), row[0]);
                _mm512_storeu_ps(dst.as_mut_ptr().add(16), row[1]);
            }
        }
    }
}

/// One tile's probabilities (`probs`: `ROWS` rows of at least `kp`
/// pairs) times every value panel, into `tile` (`ROWS` rows of all
/// panels' columns).
///
/// # Safety
/// The CPU must have AVX512-BF16.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn output_tile(probs: &[u32], values: &[u32], kp: usize, tile: &mut [f32]) {
    use std::arch::x86_64::*;
    let cols = tile.len() / ROWS;
    let panels = cols / VALUE_COLS;
    let stride = probs.len() / ROWS;
    assert!(stride >= kp && values.len() >= panels * kp * VALUE_COLS);
    for c in 0..panels {
        let panel = &values[c * kp * VALUE_COLS..(c + 1) * kp * VALUE_COLS];
        let mut acc = [[_mm512_setzero_ps(); VALUE_VECTORS]; ROWS];
        for i in 0..kp {
            // SAFETY: `panel` holds `kp` groups of VALUE_COLS pairs and
            // `probs` ROWS rows of `stride >= kp` pairs (asserted above).
            unsafe {
                let v = panel.as_ptr().add(i * VALUE_COLS);
                let b: [__m512bh; VALUE_VECTORS] = std::array::from_fn(|x| {
                    std::mem::transmute(_mm512_loadu_si512(v.add(16 * x).cast()))
                });
                for (r, row) in acc.iter_mut().enumerate() {
                    let a = *probs.get_unchecked(r * stride + i) as i32;
                    let a: __m512bh = std::mem::transmute(_mm512_set1_epi32(a));
                    for (x, lane) in row.iter_mut().enumerate() {
                        *lane = _mm512_dpbf16_ps(*lane, a, b[x]);
                    }
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (x, lane) in row.iter().enumerate() {
                let at = r * cols + c * VALUE_COLS + 16 * x;
                // SAFETY: 16 floats of row `r`'s panel `c` in `tile`.
                unsafe { _mm512_storeu_ps(tile[at..at + 16].as_mut_ptr(), *lane) };
            }
        }
    }
}

/// The whole call: packs every head, then runs the query blocks in
/// parallel. The caller checked AVX512-BF16.
fn attention(q: &[f32], k: &[f32], v: &[f32], dims: Dims) -> Vec<f32> {
    let (n, m, d) = (dims.queries, dims.keys, dims.width);
    let mut out = vec![0f32; dims.heads * n * d];
    if out.is_empty() {
        return out;
    }
    let packed: Vec<PackedHead> = (0..dims.heads)
        .into_par_iter()
        .map(|h| {
            let range = h * m * d..(h + 1) * m * d;
            // SAFETY: the caller checked AVX512-BF16.
            unsafe { pack_head(&k[range.clone()], &v[range], dims) }
        })
        .collect();
    out.par_chunks_mut(n * d)
        .zip(q.par_chunks(n * d))
        .zip(packed.par_iter())
        .for_each(|((out_head, q_head), head)| {
            out_head
                .par_chunks_mut(QUERY_BLOCK * d)
                .zip(q_head.par_chunks(QUERY_BLOCK * d))
                .for_each_init(Scratch::default, |scratch, (out_block, q_block)| {
                    attend_block(q_block, head, dims, out_block, scratch);
                });
        });
    out
}

impl CustomOp3 for Bf16Attention {
    fn name(&self) -> &'static str {
        "adstudio-bf16-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if !super::bf16::cpu_has_avx512_bf16() {
            candle_core::bail!("bf16 attention: this CPU has no AVX512-BF16")
        }
        let (q, k, v, dims) = attention_inputs("bf16 attention", (s1, l1), (s2, l2), (s3, l3))?;
        let out = attention(q, k, v, dims);
        let shape = Shape::from((dims.heads, dims.queries, dims.width));
        Ok((CpuStorage::F32(out), shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::{max_abs_diff, ATTENTION_SHAPES};
    use candle_core::{DType, Device};

    fn rounded(t: &Tensor) -> Tensor {
        t.to_dtype(DType::BF16)
            .and_then(|t| t.to_dtype(DType::F32))
            .expect("round")
    }

    /// The emulation: `q`, `k` rounded, f32 scores and softmax numerators,
    /// the numerators and `v` rounded, f32 product, divided by the sums
    /// (candle's ops).
    fn emulated(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
        let scores = rounded(q).matmul(&rounded(k).t().expect("t")).expect("qk");
        // The kernel rounds the unnormalised numerators and divides after.
        let max = scores.max_keepdim(2).expect("max");
        let numerators = scores
            .broadcast_sub(&max)
            .and_then(|s| s.exp())
            .expect("exp");
        let total = numerators.sum_keepdim(2).expect("total");
        let out = rounded(&numerators).matmul(&rounded(v)).expect("pv");
        out.broadcast_div(&total).expect("scale")
    }

    #[test]
    fn matches_the_emulated_bf16_attention() {
        if !crate::ml::diffusion::blocks::bf16::cpu_has_avx512_bf16() {
            let q = Tensor::zeros((1, 2, 8), DType::F32, &Device::Cpu).expect("q");
            let err = fused_attention(&q, &q, &q).expect_err("refused");
            assert!(err.to_string().contains("AVX512-BF16"), "{err}");
            return;
        }
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(11);
        // The f32 kernel's shapes, and SD's 4096 keys (many key panels).
        for (heads, n, m, d) in ATTENTION_SHAPES.into_iter().chain([(1, 97, 4096, 40)]) {
            // Scaled as the model scales its queries.
            let q = rng.tensor((heads, n, d), &Device::Cpu).expect("q");
            let q = (q / (d as f64).sqrt()).expect("scale");
            let k = rng.tensor((heads, m, d), &Device::Cpu).expect("k");
            let v = rng.tensor((heads, m, d), &Device::Cpu).expect("v");
            let got = fused_attention(&q, &k, &v).expect("bf16");
            let want = emulated(&q, &k, &v);
            let diff = max_abs_diff(&got, &want);
            assert!(diff < 1e-5, "{heads}x{n}x{m}x{d}: {diff}");
            // And bf16 is not f32: the result moves, by about bf16's
            // precision (2^-8 relative) times the values' scale.
            let exact = super::super::fused_attention::fused_attention(&q, &k, &v).expect("f32");
            let moved = max_abs_diff(&got, &exact);
            assert!(moved < 2e-2, "{heads}x{n}x{m}x{d}: {moved}");
            if m > 1 {
                assert!(moved > 1e-5, "{heads}x{n}x{m}x{d}: bf16 equals f32");
            }
        }
    }

    #[test]
    fn mismatched_shapes_are_an_error() {
        let q = Tensor::zeros((2, 4, 8), DType::F32, &Device::Cpu).expect("q");
        let k = Tensor::zeros((2, 5, 7), DType::F32, &Device::Cpu).expect("k");
        let err = fused_attention(&q, &k, &k).expect_err("width mismatch");
        // Without AVX512-BF16 the CPU check refuses first.
        let want = if crate::ml::diffusion::blocks::bf16::cpu_has_avx512_bf16() {
            "do not fit"
        } else {
            "AVX512-BF16"
        };
        assert!(err.to_string().contains(want), "{err}");
    }
}
