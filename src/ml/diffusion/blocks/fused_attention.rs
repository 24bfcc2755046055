//! Fused CPU attention `softmax(q k^T) v` for contiguous f32 tensors.
//!
//! One parallel task per (batch x head, block of query rows). A task
//! computes its block's scores against all keys into a scratch buffer that
//! stays in cache, takes the softmax in place and multiplies by the values,
//! scaling each output row by its `1 / sum` at the end. The two products
//! are register-tiled loops over packed panels of `k^T` and `v` (packed
//! once per head), compiled for the CPU's widest vector instructions
//! through `pulp`'s runtime dispatch (AVX-512, else AVX2+FMA), with the
//! vectorisable [`super::fast_exp::exp`].
//!
//! candle's path does the same work as separate operations: the score
//! matrix is written to and read back from memory, the products run on a
//! few rows at a time (the 40-wide head dimension of SD is a poor shape for
//! a general matrix product), and the softmax is a separate parallel pass.
//! At 4096 tokens this kernel measured several times faster than the chunked
//! candle path (see `adstudio bench diffusion --ops`).

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_input::contiguous_f32;
use super::fast_exp;

/// Query rows per parallel task.
const QUERY_BLOCK: usize = 48;

/// `softmax(q k^T) v` for `q` `(bh, n, d)` (already scaled) and `k`, `v`
/// `(bh, m, d)`: contiguous f32 CPU tensors (the caller checks).
pub fn fused_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> candle_core::Result<Tensor> {
    q.apply_op3_no_bwd(k, v, &FusedAttention)
}

struct FusedAttention;

/// Sizes of one attention call.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    /// Batch x heads.
    pub(super) heads: usize,
    /// Query rows per head.
    pub(super) queries: usize,
    /// Keys (= values) per head.
    pub(super) keys: usize,
    /// Head width.
    pub(super) width: usize,
}

/// The three inputs of an attention op (named `what` in errors): `q`
/// `(bh, n, d)`, `k` and `v` `(bh, m, d)`, contiguous f32 with at least
/// one key, and their sizes.
pub(super) type Inputs<'a> = (&'a [f32], &'a [f32], &'a [f32], Dims);

/// Checks and reads the inputs of an attention op (this kernel's and
/// [`super::bf16_attention`]'s).
pub(super) fn attention_inputs<'a>(
    what: &str,
    (s1, l1): (&'a CpuStorage, &Layout),
    (s2, l2): (&'a CpuStorage, &Layout),
    (s3, l3): (&'a CpuStorage, &Layout),
) -> candle_core::Result<Inputs<'a>> {
    let q = contiguous_f32(s1, l1, &format!("{what}: queries"))?;
    let k = contiguous_f32(s2, l2, &format!("{what}: keys"))?;
    let v = contiguous_f32(s3, l3, &format!("{what}: values"))?;
    let (heads, queries, width) = l1.shape().dims3()?;
    let (kh, keys, kd) = l2.shape().dims3()?;
    if (kh, kd) != (heads, width) || l3.shape().dims3()? != (kh, keys, kd) {
        candle_core::bail!(
            "{what}: queries {:?}, keys {:?} and values {:?} do not fit",
            l1.shape(),
            l2.shape(),
            l3.shape()
        )
    }
    if keys == 0 {
        candle_core::bail!("{what}: no keys (shape {:?})", l2.shape())
    }
    let dims = Dims {
        heads,
        queries,
        keys,
        width,
    };
    Ok((q, k, v, dims))
}

/// Query rows of a score tile (x 2 vectors of keys: 12 accumulators, which
/// fit AVX2's 16 registers as well as AVX-512's 32; 12 rows measured slower
/// with AVX-512 for SD's head width 40).
const SCORE_ROWS: usize = 6;
/// Query rows of an output tile (x [`VALUE_VECTORS`] vectors of head
/// dimensions) with 16 vector registers (AVX2): 12 accumulators; 3 loads
/// and 4 broadcasts per 12 FMAs.
const OUT_ROWS_16: usize = 4;
/// [`OUT_ROWS_16`] with 32 vector registers (AVX-512): 24 accumulators, so
/// each value load serves twice the rows. A head's value panels (4096 x 48
/// floats at 512 px) live in L2, not L1, and the 4-row tile was bound by
/// loading them: 8 rows measured 10-20% faster on (2, 8, 4096, 40).
const OUT_ROWS_32: usize = 8;
/// Vectors of head dimensions per value panel (SD's head width 40 fits one
/// 48-wide AVX-512 panel).
const VALUE_VECTORS: usize = 3;

/// One head's keys and values packed for the tiled products, for vectors
/// of `lanes` floats.
struct PackedHead {
    /// `k^T` as panels of `2 * lanes` keys: panel `c` holds, for each of the
    /// `width` dimensions, keys `c * 2 * lanes ..` (zeros past the last key).
    key_panels: Vec<f32>,
    /// `v` as panels of `3 * lanes` dimensions: panel `c` holds, for each
    /// key, dimensions `c * 3 * lanes ..` (zeros past the head width).
    value_panels: Vec<f32>,
}

fn pack_head(k: &[f32], v: &[f32], dims: Dims, lanes: usize) -> PackedHead {
    let (m, d) = (dims.keys, dims.width);
    let kc = 2 * lanes;
    let mut key_panels = vec![0f32; m.next_multiple_of(kc) * d];
    for (c, panel) in key_panels.chunks_exact_mut(kc * d).enumerate() {
        for (t, row) in panel.chunks_exact_mut(kc).enumerate() {
            for (x, out) in row.iter_mut().enumerate() {
                let j = c * kc + x;
                if j < m {
                    *out = k[j * d + t];
                }
            }
        }
    }
    let vc = VALUE_VECTORS * lanes;
    let mut value_panels = vec![0f32; d.next_multiple_of(vc) * m];
    for (c, panel) in value_panels.chunks_exact_mut(vc * m).enumerate() {
        let start = c * vc;
        let len = vc.min(d - start);
        for (j, row) in panel.chunks_exact_mut(vc).enumerate() {
            row[..len].copy_from_slice(&v[j * d + start..j * d + start + len]);
        }
    }
    PackedHead {
        key_panels,
        value_panels,
    }
}

/// Floats per vector of `S`.
#[inline(always)]
fn lanes_of<S: pulp::Simd>() -> usize {
    std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>()
}

/// Scores of `ROWS` query rows `q` (`ROWS * width`) against every key
/// panel, into `scores` (`ROWS` rows of `key_cols`).
#[inline(always)]
fn score_rows<S: pulp::Simd, const ROWS: usize>(
    simd: S,
    q: &[f32],
    key_panels: &[f32],
    width: usize,
    key_cols: usize,
    scores: &mut [f32],
) {
    let lanes = lanes_of::<S>();
    let q_rows: [&[f32]; ROWS] = std::array::from_fn(|r| &q[r * width..(r + 1) * width]);
    for (c, panel) in key_panels.chunks_exact(2 * lanes * width).enumerate() {
        let (keys, _) = S::as_simd_f32s(panel);
        let zero = simd.splat_f32s(0.0);
        let mut acc = [[zero; 2]; ROWS];
        for (t, pair) in keys.chunks_exact(2).enumerate() {
            for r in 0..ROWS {
                let qv = simd.splat_f32s(q_rows[r][t]);
                acc[r][0] = simd.mul_add_f32s(qv, pair[0], acc[r][0]);
                acc[r][1] = simd.mul_add_f32s(qv, pair[1], acc[r][1]);
            }
        }
        for (r, row) in acc.iter().enumerate() {
            let start = r * key_cols + c * 2 * lanes;
            let (dst, _) = S::as_mut_simd_f32s(&mut scores[start..start + 2 * lanes]);
            dst[0] = row[0];
            dst[1] = row[1];
        }
    }
}

/// `e^x` per lane: [`fast_exp::exp`]'s formula on vectors.
#[inline(always)]
fn exp_simd<S: pulp::Simd>(simd: S, x: S::f32s) -> S::f32s {
    let x = simd.min_f32s(
        simd.max_f32s(x, simd.splat_f32s(fast_exp::EXP_LO)),
        simd.splat_f32s(fast_exp::EXP_HI),
    );
    let magic = simd.splat_f32s(fast_exp::ROUND_MAGIC);
    let shifted = simd.mul_add_f32s(x, simd.splat_f32s(std::f32::consts::LOG2_E), magic);
    let n = simd.sub_f32s(shifted, magic);
    let n_bits = simd.sub_u32s(
        simd.transmute_u32s_f32s(shifted),
        simd.transmute_u32s_f32s(magic),
    );
    let r = simd.sub_f32s(
        simd.sub_f32s(x, simd.mul_f32s(n, simd.splat_f32s(fast_exp::LN2_HI))),
        simd.mul_f32s(n, simd.splat_f32s(fast_exp::LN2_LO)),
    );
    let mut p = simd.splat_f32s(fast_exp::POLY[0]);
    for &coefficient in &fast_exp::POLY[1..] {
        p = simd.mul_add_f32s(p, r, simd.splat_f32s(coefficient));
    }
    let one = simd.splat_f32s(1.0);
    let poly = simd.add_f32s(simd.mul_add_f32s(simd.mul_f32s(p, r), r, r), one);
    let biased = simd.max_i32s(
        simd.transmute_i32s_u32s(simd.add_u32s(n_bits, simd.splat_u32s(127))),
        simd.splat_i32s(0),
    );
    let scale = simd.wrapping_dyn_shl_u32s(simd.transmute_u32s_i32s(biased), simd.splat_u32s(23));
    simd.mul_f32s(poly, simd.transmute_f32s_u32s(scale))
}

/// Softmax numerators of one padded score row in place (`keys` real
/// scores, the rest padding set to zero weight); returns `1 / sum`.
#[inline(always)]
fn exp_row<S: pulp::Simd>(simd: S, row: &mut [f32], keys: usize) -> f32 {
    row[keys..].fill(f32::NEG_INFINITY);
    let (vectors, _) = S::as_mut_simd_f32s(row);
    let mut max = simd.splat_f32s(f32::NEG_INFINITY);
    for &v in vectors.iter() {
        max = simd.max_f32s(max, v);
    }
    let max = simd.splat_f32s(simd.reduce_max_f32s(max));
    let mut sum = simd.splat_f32s(0.0);
    for v in vectors.iter_mut() {
        *v = exp_simd(simd, simd.sub_f32s(*v, max));
        sum = simd.add_f32s(sum, *v);
    }
    1.0 / simd.reduce_sum_f32s(sum)
}

/// Softmax numerators of score rows of `key_cols` values in place (the
/// first `keys` of each real, the rest padding that gets zero weight),
/// each row's `1 / sum` into `inv_sums` (one per row); `key_cols` is a
/// multiple of 16. Shared with the bf16 kernel
/// ([`super::bf16_attention`]).
pub(super) fn exp_rows(scores: &mut [f32], key_cols: usize, keys: usize, inv_sums: &mut [f32]) {
    pulp::Arch::new().dispatch(ExpRows {
        scores,
        key_cols,
        keys,
        inv_sums,
    });
}

/// The arguments of [`exp_rows`], dispatched through `pulp` like [`Block`].
struct ExpRows<'a> {
    scores: &'a mut [f32],
    key_cols: usize,
    keys: usize,
    inv_sums: &'a mut [f32],
}

impl pulp::WithSimd for ExpRows<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let rows = self.scores.chunks_exact_mut(self.key_cols);
        for (row, inv) in rows.zip(self.inv_sums.iter_mut()) {
            *inv = exp_row(simd, row, self.keys);
        }
    }
}

/// `out` rows (`ROWS * width`) = probability rows x values, each row
/// scaled by its `inv_sums` entry.
#[inline(always)]
fn output_rows<S: pulp::Simd, const ROWS: usize>(
    simd: S,
    probs: &[f32],
    inv_sums: &[f32],
    value_panels: &[f32],
    dims: Dims,
    key_cols: usize,
    out: &mut [f32],
) {
    let lanes = lanes_of::<S>();
    let (m, d) = (dims.keys, dims.width);
    let p_rows: [&[f32]; ROWS] = std::array::from_fn(|r| &probs[r * key_cols..r * key_cols + m]);
    let mut tile = vec![0f32; lanes];
    let vc = VALUE_VECTORS * lanes;
    for (c, panel) in value_panels.chunks_exact(vc * m).enumerate() {
        let (values, _) = S::as_simd_f32s(panel);
        let zero = simd.splat_f32s(0.0);
        let mut acc = [[zero; VALUE_VECTORS]; ROWS];
        for (j, v) in values.chunks_exact(VALUE_VECTORS).enumerate() {
            for r in 0..ROWS {
                let p = simd.splat_f32s(p_rows[r][j]);
                for x in 0..VALUE_VECTORS {
                    acc[r][x] = simd.mul_add_f32s(p, v[x], acc[r][x]);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            let inv = simd.splat_f32s(inv_sums[r]);
            for (x, &a) in row.iter().enumerate() {
                let start = c * vc + x * lanes;
                if start >= d {
                    break;
                }
                let len = lanes.min(d - start);
                let scaled = simd.mul_f32s(a, inv);
                let dst = &mut out[r * d + start..r * d + start + len];
                if len == lanes {
                    S::as_mut_simd_f32s(dst).0[0] = scaled;
                } else {
                    S::as_mut_simd_f32s(&mut tile).0[0] = scaled;
                    dst.copy_from_slice(&tile[..len]);
                }
            }
        }
    }
}

/// One task: the query rows `q` (a whole number of rows) of one head into
/// `out`, with `scratch` for the scores.
#[inline(always)]
fn attend_block<S: pulp::Simd, const OUT_ROWS: usize>(simd: S, block: Block) {
    let Block {
        q,
        head,
        dims,
        out,
        scratch,
    } = block;
    let d = dims.width;
    let rows = q.len() / d;
    let key_cols = dims.keys.next_multiple_of(2 * lanes_of::<S>());
    scratch.clear();
    scratch.resize(rows * key_cols + rows, 0.0);
    let (scores, inv_sums) = scratch.split_at_mut(rows * key_cols);
    let mut r = 0;
    while r < rows {
        let s = &mut scores[r * key_cols..];
        if r + SCORE_ROWS <= rows {
            let q = &q[r * d..(r + SCORE_ROWS) * d];
            score_rows::<S, SCORE_ROWS>(simd, q, &head.key_panels, d, key_cols, s);
            r += SCORE_ROWS;
        } else {
            let q = &q[r * d..(r + 1) * d];
            score_rows::<S, 1>(simd, q, &head.key_panels, d, key_cols, s);
            r += 1;
        }
    }
    for (row, inv) in scores.chunks_exact_mut(key_cols).zip(inv_sums.iter_mut()) {
        *inv = exp_row(simd, row, dims.keys);
    }
    let mut r = 0;
    while r < rows {
        let (p, inv) = (&scores[r * key_cols..], &inv_sums[r..]);
        let panels = &head.value_panels;
        if r + OUT_ROWS <= rows {
            let o = &mut out[r * d..(r + OUT_ROWS) * d];
            output_rows::<S, OUT_ROWS>(simd, p, inv, panels, dims, key_cols, o);
            r += OUT_ROWS;
        } else {
            let o = &mut out[r * d..(r + 1) * d];
            output_rows::<S, 1>(simd, p, inv, panels, dims, key_cols, o);
            r += 1;
        }
    }
}

/// The whole call: packs every head, then runs the query blocks in
/// parallel, each compiled for `arch`'s instruction set.
fn attention(q: &[f32], k: &[f32], v: &[f32], dims: Dims, arch: pulp::Arch) -> Vec<f32> {
    let (n, m, d) = (dims.queries, dims.keys, dims.width);
    let mut out = vec![0f32; dims.heads * n * d];
    if out.is_empty() {
        return out;
    }
    let lanes = arch.dispatch(Lanes);
    let packed: Vec<PackedHead> = (0..dims.heads)
        .into_par_iter()
        .map(|h| {
            let range = h * m * d..(h + 1) * m * d;
            pack_head(&k[range.clone()], &v[range], dims, lanes)
        })
        .collect();
    out.par_chunks_mut(n * d)
        .zip(q.par_chunks(n * d))
        .zip(packed.par_iter())
        .for_each(|((out_head, q_head), head)| {
            out_head
                .par_chunks_mut(QUERY_BLOCK * d)
                .zip(q_head.par_chunks(QUERY_BLOCK * d))
                .for_each_init(Vec::new, |scratch, (out_block, q_block)| {
                    arch.dispatch(Block {
                        q: q_block,
                        head,
                        dims,
                        out: out_block,
                        scratch,
                    });
                });
        });
    out
}

/// The arguments of [`attend_block`] for one task. Dispatched through
/// `pulp`: the kernel is reached only through `#[inline(always)]` functions
/// from `with_simd`, so all of it is compiled inside pulp's target-feature
/// function (AVX-512 or AVX2+FMA, detected at run time). A closure passed to
/// `dispatch` was not inlined there: its `mul_add`s became calls to libm's
/// `fmaf` and the kernel ran 25x slower.
struct Block<'a> {
    q: &'a [f32],
    head: &'a PackedHead,
    dims: Dims,
    out: &'a mut [f32],
    scratch: &'a mut Vec<f32>,
}

impl pulp::WithSimd for Block<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        // Vectors of 16 floats: AVX-512, with 32 registers.
        if lanes_of::<S>() >= 16 {
            attend_block::<S, OUT_ROWS_32>(simd, self);
        } else {
            attend_block::<S, OUT_ROWS_16>(simd, self);
        }
    }
}

/// Asks pulp for the vector width it dispatches to.
struct Lanes;

impl pulp::WithSimd for Lanes {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> usize {
        lanes_of::<S>()
    }
}

impl CustomOp3 for FusedAttention {
    fn name(&self) -> &'static str {
        "adstudio-fused-attention"
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
        let (q, k, v, dims) = attention_inputs("attention", (s1, l1), (s2, l2), (s3, l3))?;
        let out = attention(q, k, v, dims, pulp::Arch::new());
        let shape = Shape::from((dims.heads, dims.queries, dims.width));
        Ok((CpuStorage::F32(out), shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::{max_abs_diff, ATTENTION_SHAPES};
    use candle_core::Device;

    fn reference(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
        let scores = q.matmul(&k.t().expect("t")).expect("scores");
        candle_nn::ops::softmax_last_dim(&scores)
            .expect("softmax")
            .matmul(v)
            .expect("pv")
    }

    #[test]
    fn matches_softmax_of_scores_times_values() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(5);
        for (heads, n, m, d) in ATTENTION_SHAPES {
            let q = rng.tensor((heads, n, d), &Device::Cpu).expect("q");
            let k = rng.tensor((heads, m, d), &Device::Cpu).expect("k");
            let v = rng.tensor((heads, m, d), &Device::Cpu).expect("v");
            let fused = fused_attention(&q, &k, &v).expect("fused");
            let want = reference(&q, &k, &v);
            let diff = max_abs_diff(&fused, &want);
            assert!(diff < 1e-5, "{heads}x{n}x{m}x{d}: {diff}");
        }
    }

    /// Every instruction set this CPU has (AVX-512, AVX2, scalar) gives the
    /// same result, so the paths other machines take are checked here too.
    #[test]
    fn every_instruction_set_agrees() {
        #[allow(unused_mut)]
        let mut arches = vec![pulp::Arch::Scalar];
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            arches.push(pulp::Arch::V3(v3));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(v4) = pulp::x86::V4::try_new() {
            arches.push(pulp::Arch::V4(v4));
        }
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(7);
        let (heads, n, m, d) = (2, 61, 77, 40);
        let q = rng.tensor((heads, n, d), &Device::Cpu).expect("q");
        let k = rng.tensor((heads, m, d), &Device::Cpu).expect("k");
        let v = rng.tensor((heads, m, d), &Device::Cpu).expect("v");
        let want = reference(&q, &k, &v);
        let data = |t: &Tensor| t.flatten_all().expect("f").to_vec1::<f32>().expect("v");
        let dims = Dims {
            heads,
            queries: n,
            keys: m,
            width: d,
        };
        for arch in arches {
            let out = attention(&data(&q), &data(&k), &data(&v), dims, arch);
            let out = Tensor::from_vec(out, (heads, n, d), &Device::Cpu).expect("t");
            let diff = max_abs_diff(&out, &want);
            assert!(diff < 1e-5, "{arch:?}: {diff}");
        }
    }

    #[test]
    fn large_scores_do_not_overflow() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(6);
        let q = (rng.tensor((1, 9, 8), &Device::Cpu).expect("q") * 40.0).expect("scale");
        let k = (rng.tensor((1, 20, 8), &Device::Cpu).expect("k") * 40.0).expect("scale");
        let v = rng.tensor((1, 20, 8), &Device::Cpu).expect("v");
        let fused = fused_attention(&q, &k, &v).expect("fused");
        let diff = max_abs_diff(&fused, &reference(&q, &k, &v));
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn mismatched_shapes_are_an_error() {
        let q = Tensor::zeros((2, 4, 8), candle_core::DType::F32, &Device::Cpu).expect("q");
        let k = Tensor::zeros((2, 5, 7), candle_core::DType::F32, &Device::Cpu).expect("k");
        let err = fused_attention(&q, &k, &k).expect_err("width mismatch");
        assert!(err.to_string().contains("do not fit"), "{err}");
    }
}
