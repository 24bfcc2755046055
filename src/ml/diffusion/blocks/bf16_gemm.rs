//! Native bf16 matrix products for CPUs with AVX512-BF16: `C = A B` with
//! f32 operands rounded to bf16 (round to nearest even) while they are
//! packed, products summed in f32 by `vdpbf16ps`, and an f32 result.
//!
//! The layout is the usual packed GEMM: `B` is packed in panels of
//! [`NR`] columns and `A` in panels of [`MR`] rows, both as pairs of bf16
//! along `k` (one 32-bit lane holds `x[k]` and `x[k + 1]`, what
//! `vdpbf16ps` multiplies and adds into one f32 lane); the micro-kernel
//! keeps an `MR x NR` tile of `C` in 16 registers. A product of two bf16
//! values is exact in f32, so the result equals the f32 product of the
//! rounded operands up to the order of the additions (the emulation in
//! [`super::bf16::operand`] gives the same numbers).
//!
//! This is the crate's one module with `unsafe` code (the crate denies
//! it elsewhere): `vdpbf16ps` has no safe wrapper (neither `pulp` nor
//! `std::arch` offers one outside a `#[target_feature]` function), and the
//! threads write disjoint column ranges of one output buffer. Every
//! `unsafe` block states what it relies on; the kernel is only entered
//! after the run-time check for AVX512-BF16.
#![allow(unsafe_code)]

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Rows of `A` per micro-kernel tile.
const MR: usize = 8;
/// Columns of `B` per micro-kernel tile (two 16-lane registers).
const NR: usize = 32;
/// `k` pairs per packed block (the `B` panel, 32 KiB, stays in L1).
const KC: usize = 256;
/// Rows of `A` per packed block (kept in L2).
const MC: usize = 128;
/// Columns of `B` per packed block.
const NC: usize = 4096;

/// `a.matmul(b)` with bf16 operands on the CPU's AVX512-BF16 units: f32
/// (or f16 / bf16 weights at rest) CPU tensors of rank 2 or more, the same batch
/// dimensions on both (broadcast ones included), any strides. Fails on a
/// CPU without AVX512-BF16 (see [`super::bf16::cpu_has_avx512_bf16`]).
pub fn matmul(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    a.apply_op2_no_bwd(b, &Bf16Matmul { bias: None })
}

/// [`matmul`] plus `bias` (one f32 value per column of the result) added
/// to every row as the first block of sums is stored, with no pass of its
/// own over the result.
pub fn matmul_bias(a: &Tensor, b: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    let bias = bias.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
    let n = b.dims().last().copied().unwrap_or(0);
    if bias.len() != n {
        candle_core::bail!(
            "bf16 matmul: a bias of {} values for {n} columns",
            bias.len()
        )
    }
    a.apply_op2_no_bwd(b, &Bf16Matmul { bias: Some(bias) })
}

/// The custom op behind [`matmul`] and [`matmul_bias`].
struct Bf16Matmul {
    /// One value per output column, added to every row.
    bias: Option<Vec<f32>>,
}

/// One operand as `rows x cols` matrices: `(i, j)` of batch item `t` is at
/// `offsets[t] + i * rs + j * cs`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: Data<'a>,
    offset: usize,
    rs: usize,
    cs: usize,
}

/// An operand's values: f32, or f16 or bf16 weights at rest (widened
/// while they are packed, so no f32 copy of them is made; bf16 ones come
/// back unchanged from the rounding).
#[derive(Clone, Copy)]
enum Data<'a> {
    F32(&'a [f32]),
    F16(&'a [half::f16]),
    Bf16(&'a [half::bf16]),
}

impl View<'_> {
    fn at(&self, i: usize, j: usize) -> f32 {
        let at = self.offset + i * self.rs + j * self.cs;
        match self.data {
            Data::F32(v) => v[at],
            Data::F16(v) => v[at].to_f32(),
            Data::Bf16(v) => v[at].to_f32(),
        }
    }

    /// `len` contiguous values from `start`, in f32 (f16 and bf16 ones
    /// widened into `wide`, which holds at least `len`, 16 at a time).
    ///
    /// # Safety
    /// The CPU must have AVX512F (packing runs only after the check for
    /// AVX512-BF16, which implies it).
    #[inline(always)]
    unsafe fn run<'s>(&'s self, start: usize, len: usize, wide: &'s mut [f32]) -> &'s [f32] {
        let wide = &mut wide[..len];
        match self.data {
            Data::F32(v) => return &v[start..start + len],
            // SAFETY: AVX512F, by this function's contract.
            Data::F16(v) => unsafe { widen_f16(&v[start..start + len], wide) },
            // SAFETY: as above.
            Data::Bf16(v) => unsafe { widen_bf16(&v[start..start + len], wide) },
        }
        wide
    }
}

/// `src` widened to f32 into `dst` (the same length): runs of 16 by
/// `vcvtph2ps`, the rest one by one.
///
/// # Safety
/// The CPU must have AVX512F.
#[target_feature(enable = "avx512f")]
unsafe fn widen_f16(src: &[half::f16], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    for (from, to) in src.chunks_exact(16).zip(dst.chunks_exact_mut(16)) {
        // SAFETY: `from` holds 16 halves (32 bytes), `to` 16 floats.
        unsafe {
            let halves = _mm256_loadu_si256(from.as_ptr().cast());
            _mm512_storeu_ps(to.as_mut_ptr(), _mm512_cvtph_ps(halves));
        }
    }
    let whole = src.len() / 16 * 16;
    for (to, from) in dst.iter_mut().zip(src).skip(whole) {
        *to = from.to_f32();
    }
}

/// `src` widened to f32 into `dst` (the same length): a bf16 is the top
/// half of its f32, so runs of 16 are zero-extended and shifted.
///
/// # Safety
/// The CPU must have AVX512F.
#[target_feature(enable = "avx512f")]
unsafe fn widen_bf16(src: &[half::bf16], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    for (from, to) in src.chunks_exact(16).zip(dst.chunks_exact_mut(16)) {
        // SAFETY: `from` holds 16 bf16s (32 bytes), `to` 16 floats.
        unsafe {
            let halves = _mm256_loadu_si256(from.as_ptr().cast());
            let bits = _mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(halves));
            _mm512_storeu_ps(to.as_mut_ptr(), _mm512_castsi512_ps(bits));
        }
    }
    let whole = src.len() / 16 * 16;
    for (to, from) in dst.iter_mut().zip(src).skip(whole) {
        *to = from.to_f32();
    }
}

/// Per-task buffers of the packers: one row's pairs and its f32 values.
struct Scratch {
    pairs: Vec<u32>,
    wide: Vec<f32>,
}

/// The product's sizes.
#[derive(Clone, Copy, Debug)]
struct Dims {
    m: usize,
    n: usize,
    k: usize,
}

impl CustomOp2 for Bf16Matmul {
    fn name(&self) -> &'static str {
        "adstudio-bf16-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if !super::bf16::cpu_has_avx512_bf16() {
            candle_core::bail!("bf16 matmul: this CPU has no AVX512-BF16")
        }
        let a = match s1 {
            CpuStorage::F32(a) => Data::F32(a.as_slice()),
            CpuStorage::F16(a) => Data::F16(a.as_slice()),
            CpuStorage::BF16(a) => Data::Bf16(a.as_slice()),
            _ => candle_core::bail!("bf16 matmul: an f32, f16 or bf16 left operand expected"),
        };
        let b = match s2 {
            CpuStorage::F32(b) => Data::F32(b.as_slice()),
            CpuStorage::F16(b) => Data::F16(b.as_slice()),
            CpuStorage::BF16(b) => Data::Bf16(b.as_slice()),
            _ => candle_core::bail!("bf16 matmul: an f32, f16 or bf16 right operand expected"),
        };
        let (batch_dims, dims) = shapes(l1.dims(), l2.dims())?;
        let a_offsets = batch_offsets(l1, batch_dims.len());
        let b_offsets = batch_offsets(l2, batch_dims.len());
        let r = l1.dims().len();
        let view = |data, l: &Layout| View {
            data,
            offset: 0,
            rs: l.stride()[r - 2],
            cs: l.stride()[r - 1],
        };
        let (av, bv) = (view(a, l1), view(b, l2));
        let mut out = vec![0f32; a_offsets.len() * dims.m * dims.n];
        let bias = self.bias.as_deref();
        run(&mut out, dims, (av, &a_offsets), (bv, &b_offsets), bias);
        let mut shape = batch_dims.to_vec();
        shape.extend([dims.m, dims.n]);
        Ok((CpuStorage::F32(out), Shape::from(shape)))
    }
}

/// The batch dimensions and the product's sizes of `(.., m, k) x (.., k, n)`.
fn shapes<'a>(a: &'a [usize], b: &[usize]) -> candle_core::Result<(&'a [usize], Dims)> {
    let r = a.len();
    if r < 2 || b.len() != r || a[..r - 2] != b[..r - 2] || a[r - 1] != b[r - 2] {
        candle_core::bail!("bf16 matmul: shapes {a:?} and {b:?} do not multiply")
    }
    let dims = Dims {
        m: a[r - 2],
        k: a[r - 1],
        n: b[r - 1],
    };
    Ok((&a[..r - 2], dims))
}

/// The start of each batch item's matrix (row-major over the batch dims).
fn batch_offsets(l: &Layout, batch_rank: usize) -> Vec<usize> {
    let dims = &l.dims()[..batch_rank];
    let strides = &l.stride()[..batch_rank];
    let count: usize = dims.iter().product();
    (0..count)
        .map(|mut t| {
            let mut offset = l.start_offset();
            for (d, s) in dims.iter().zip(strides).rev() {
                offset += (t % d) * s;
                t /= d;
            }
            offset
        })
        .collect()
}

/// An operand's view and the start of each batch item.
type Operand<'a> = (View<'a>, &'a [usize]);

/// The output's pointer, shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: every task writes a disjoint set of elements (its batch item's
// columns `j0..j1`), and the buffer outlives the parallel loop.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The pointer `offset` values further.
    fn offset(self, offset: usize) -> Self {
        Self(self.0.wrapping_add(offset))
    }
}

/// All batch items, each split into row ranges (when `m >= n`: the
/// smaller `B` is packed by every task) or column ranges (else: the
/// smaller `A` is), so that every thread works.
fn run(out: &mut [f32], dims: Dims, a: Operand, b: Operand, bias: Option<&[f32]>) {
    let ((a, a_off), (b, b_off)) = (a, b);
    let items = a_off.len();
    let threads = rayon::current_num_threads().max(1);
    let by_rows = dims.m >= dims.n;
    let extent = if by_rows { dims.m } else { dims.n };
    let unit = if by_rows { MR } else { NR };
    let splits = threads
        .div_ceil(items.max(1))
        .min(extent.div_ceil(unit))
        .max(1);
    let part = extent.div_ceil(splits).div_ceil(unit) * unit;
    let ptr = OutPtr(out.as_mut_ptr());
    (0..items * splits).into_par_iter().for_each(|task| {
        let (t, s) = (task / splits, task % splits);
        let range = ((s * part).min(extent), ((s + 1) * part).min(extent));
        if range.0 == range.1 {
            return;
        }
        let (rows, cols) = if by_rows {
            (range, (0, dims.n))
        } else {
            ((0, dims.m), range)
        };
        let a = View {
            offset: a_off[t],
            ..a
        };
        let b = View {
            offset: b_off[t],
            ..b
        };
        let ptr = ptr.offset(t * dims.m * dims.n);
        // SAFETY: the caller checked AVX512-BF16; this task owns rows
        // `rows` x columns `cols` of item `t` of `out`, which holds
        // `items * m * n` values.
        unsafe { gemm_range(dims, (rows, cols), (a, b), bias, ptr) }
    });
}

/// `C[i0..i1, j0..j1] = A[i0..i1, :] B[:, j0..j1]` for one batch item,
/// `C` row-major `m x n` at `c`.
///
/// # Safety
/// The CPU must have AVX512-BF16 and `c` must be valid for `m * n` writes
/// of which no other thread touches the range's elements.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn gemm_range(dims: Dims, range: Range2, (a, b): (View, View), bias: Bias, c: OutPtr) {
    let ((i0, i1), (j0, j1)) = range;
    let pairs = dims.k.div_ceil(2);
    let nc_max = (j1 - j0).min(NC);
    // Sized for this product's `k` (a small `k` with a wide `B` would
    // otherwise zero megabytes per task for nothing).
    let kc_max = pairs.clamp(1, KC);
    let mut pa = vec![0u32; MC.div_ceil(MR) * MR * kc_max];
    let mut pb = vec![0u32; nc_max.div_ceil(NR) * NR * kc_max];
    let mut scratch = Scratch {
        pairs: vec![0; KC],
        wide: vec![0.0; 2 * KC],
    };
    for jc in (j0..j1).step_by(NC) {
        let nc = (j1 - jc).min(NC);
        for pc in (0..pairs).step_by(KC) {
            let block = Block {
                pc,
                kc: (pairs - pc).min(KC),
                k: dims.k,
            };
            pack_b(b, (jc, nc), block, &mut pb, &mut scratch);
            for ic in (i0..i1).step_by(MC) {
                let mc = (i1 - ic).min(MC);
                for (q, ir) in (0..mc).step_by(MR).enumerate() {
                    let count = (mc - ir).min(MR);
                    pack_a(
                        a,
                        (ic + ir, count),
                        block,
                        &mut pa[q * MR * block.kc..],
                        &mut scratch,
                    );
                }
                let tiles = Tiles {
                    ic,
                    mc,
                    jc,
                    nc,
                    ldc: dims.n,
                };
                // SAFETY: as this function's contract.
                unsafe { block_product(&pa, &pb, block, tiles, bias, c) };
            }
        }
    }
}

/// Per-column values added to every row of `C` (the whole row of them).
type Bias<'a> = Option<&'a [f32]>;

/// Row range and column range of `C`.
type Range2 = ((usize, usize), (usize, usize));

/// A block of `kc` pairs of `k` values starting at pair `pc`.
#[derive(Clone, Copy)]
struct Block {
    pc: usize,
    kc: usize,
    k: usize,
}

/// The `mc x nc` block of `C` at `(ic, jc)`; rows `ldc` apart.
#[derive(Clone, Copy)]
struct Tiles {
    ic: usize,
    mc: usize,
    jc: usize,
    nc: usize,
    ldc: usize,
}

/// The micro-kernel over every tile of a packed `A` block and `B` block.
///
/// # Safety
/// As [`gemm_cols`].
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn block_product(pa: &[u32], pb: &[u32], block: Block, t: Tiles, bias: Bias, c: OutPtr) {
    let mut tile = [0f32; MR * NR];
    let accumulate = block.pc > 0;
    for (p, jr) in (0..t.nc).step_by(NR).enumerate() {
        let width = (t.nc - jr).min(NR);
        // The first block of sums starts from the bias (a full panel's
        // worth of it, zeros past the last column).
        let mut start = [0f32; NR];
        if let (Some(bias), false) = (bias, accumulate) {
            let from = t.jc + jr;
            start[..width].copy_from_slice(&bias[from..from + width]);
        }
        let panel_b = pb[p * block.kc * NR..].as_ptr();
        for (q, ir) in (0..t.mc).step_by(MR).enumerate() {
            let rows = (t.mc - ir).min(MR);
            let panel_a = pa[q * MR * block.kc..].as_ptr();
            let at = (t.ic + ir) * t.ldc + t.jc + jr;
            // SAFETY: the panels hold `kc` pairs of MR rows and NR columns;
            // a full tile lies inside `C`, a partial one goes through `tile`.
            unsafe {
                if rows == MR && width == NR {
                    let dst = c.0.add(at);
                    let init = if accumulate {
                        Init::Add
                    } else {
                        Init::Row(&start)
                    };
                    kernel(block.kc, panel_a, panel_b, dst, t.ldc, init);
                } else {
                    let init = Init::Row(&[0.0; NR]);
                    kernel(block.kc, panel_a, panel_b, tile.as_mut_ptr(), NR, init);
                    for r in 0..rows {
                        let dst = c.0.add(at + r * t.ldc);
                        let sums = &tile[r * NR..r * NR + width];
                        for (j, (v, b)) in sums.iter().zip(start).enumerate() {
                            let d = dst.add(j);
                            *d = if accumulate { *d + v } else { *v + b };
                        }
                    }
                }
            }
        }
    }
}

/// What a tile's sums are stored onto.
#[derive(Clone, Copy)]
enum Init<'a> {
    /// The values already in `C` (a later block of `k`).
    Add,
    /// This row of `NR` values, the same for every row (the bias, or zeros).
    Row(&'a [f32; NR]),
}

/// The `MR x NR` tile `c = init + A_panel B_panel` over `kc` pairs.
///
/// # Safety
/// AVX512-BF16; `pa` holds `kc * MR` and `pb` `kc * NR` packed pairs; `c`
/// is valid for `MR` rows of `NR` values, `ldc` apart.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn kernel(kc: usize, pa: *const u32, pb: *const u32, c: *mut f32, ldc: usize, init: Init) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    for kp in 0..kc {
        // SAFETY: in bounds by the contract; bf16 pairs reinterpret u32s.
        unsafe {
            let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(pb.add(kp * NR).cast()));
            let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(pb.add(kp * NR + 16).cast()));
            for (r, row) in acc.iter_mut().enumerate() {
                let pair = *pa.add(kp * MR + r) as i32;
                let a: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair));
                row[0] = _mm512_dpbf16_ps(row[0], a, b0);
                row[1] = _mm512_dpbf16_ps(row[1], a, b1);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (h, v) in row.iter().enumerate() {
            // SAFETY: inside the tile by the contract; `init`'s row holds
            // NR = 2 x 16 values.
            unsafe {
                let p = c.add(r * ldc + 16 * h);
                let base = match init {
                    Init::Add => _mm512_loadu_ps(p),
                    Init::Row(row) => _mm512_loadu_ps(row.as_ptr().add(16 * h)),
                };
                _mm512_storeu_ps(p, _mm512_add_ps(base, *v));
            }
        }
    }
}

/// `x` rounded to bf16 (nearest, ties to even; NaN stays NaN), as bits.
#[inline(always)]
fn bf16_bits(x: f32) -> u32 {
    let bits = x.to_bits();
    let rounded = bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) >> 16;
    if bits & 0x7FFF_FFFF > 0x7F80_0000 {
        (bits >> 16) | 0x40
    } else {
        rounded
    }
}

/// `src` rounded to bf16 (nearest even) as pairs: `dst[i]` holds
/// `src[2i]` and `src[2i + 1]` (zero past the end of `src`). Whole runs of
/// 32 go through `vcvtne2ps2bf16` (which also rounds to nearest even, but
/// flushes subnormals to zero), the rest through [`pair`].
///
/// # Safety
/// The CPU must have AVX512-BF16.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
pub(super) unsafe fn round_into(src: &[f32], dst: &mut [u32]) {
    use std::arch::x86_64::*;
    let whole = (src.len() / 32).min(dst.len() / 16);
    for (from, to) in src
        .chunks_exact(32)
        .zip(dst.chunks_exact_mut(16))
        .take(whole)
    {
        // SAFETY: `from` holds 32 floats and `to` 16 pairs.
        unsafe {
            let lo = _mm512_loadu_ps(from.as_ptr());
            let hi = _mm512_loadu_ps(from.as_ptr().add(16));
            let both: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(hi, lo));
            _mm512_storeu_si512(to.as_mut_ptr().cast(), both);
        }
    }
    for (i, out) in dst.iter_mut().enumerate().skip(whole * 16) {
        let at = |j: usize| src.get(j).copied().unwrap_or(0.0);
        *out = pair(at(2 * i), at(2 * i + 1));
    }
}

/// `out[j]` = the pair of `lo[j]` and `hi[j]` rounded to bf16, for `j` up
/// to `out.len()` (both runs at least that long): runs of 16 converted by
/// `vcvtne2ps2bf16` and interleaved by `vpermw`, the rest by [`pair`].
///
/// # Safety
/// The CPU must have AVX512-BF16.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn pair_runs(lo: &[f32], hi: &[f32], out: &mut [u32]) {
    use std::arch::x86_64::*;
    assert!(lo.len() >= out.len() && hi.len() >= out.len());
    // Word 2i takes lo's value i (word i), word 2i + 1 hi's (word 16 + i).
    let order: [u16; 32] = std::array::from_fn(|j| (j / 2 + 16 * (j % 2)) as u16);
    // SAFETY: `order` holds 64 bytes.
    let order = unsafe { _mm512_loadu_si512(order.as_ptr().cast()) };
    let whole = out.len() / 16;
    for (c, to) in out.chunks_exact_mut(16).enumerate() {
        // SAFETY: both runs hold 16 floats from `16 c` (asserted above);
        // `to` holds 16 pairs.
        unsafe {
            let a = _mm512_loadu_ps(lo.as_ptr().add(16 * c));
            let b = _mm512_loadu_ps(hi.as_ptr().add(16 * c));
            let words: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(b, a));
            let pairs = _mm512_permutexvar_epi16(order, words);
            _mm512_storeu_si512(to.as_mut_ptr().cast(), pairs);
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(whole * 16) {
        *o = pair(lo[j], hi[j]);
    }
}

/// Two values as one packed pair (`lo` in the low half).
#[inline(always)]
pub(super) fn pair(lo: f32, hi: f32) -> u32 {
    bf16_bits(lo) | (bf16_bits(hi) << 16)
}

/// Rows `i0..i0 + count` of `A`, pairs `block`, into `out` (`kc` groups
/// of `MR` pairs; missing rows and the odd `k`'s partner are zeros). A
/// contiguous row is converted in one vectorised pass into `scratch`
/// and then spread `MR` apart.
#[inline(always)]
fn pack_a(
    a: View,
    (i0, count): (usize, usize),
    block: Block,
    out: &mut [u32],
    scratch: &mut Scratch,
) {
    let Block { pc, kc, k } = block;
    if 2 * (pc + kc) <= k && a.cs == 1 {
        let pairs = &mut scratch.pairs[..kc];
        for r in 0..MR {
            if r < count {
                let start = a.offset + (i0 + r) * a.rs + 2 * pc;
                // SAFETY: packing runs only inside `gemm_range`, after the
                // check for AVX512-BF16 (which implies AVX512F).
                unsafe {
                    let row = a.run(start, 2 * kc, &mut scratch.wide);
                    round_into(row, pairs);
                }
            } else {
                pairs.fill(0);
            }
            for (kp, v) in pairs.iter().enumerate() {
                out[kp * MR + r] = *v;
            }
        }
        return;
    }
    for kp in 0..kc {
        let k0 = 2 * (pc + kp);
        for r in 0..MR {
            let v = |kk: usize| {
                if r < count && kk < k {
                    a.at(i0 + r, kk)
                } else {
                    0.0
                }
            };
            out[kp * MR + r] = pair(v(k0), v(k0 + 1));
        }
    }
}

/// Columns `j0..j0 + cols` of `B`, pairs `block`, into `out` (a panel of
/// `kc` groups of `NR` pairs per `NR` columns; padding is zeros);
/// `scratch` holds a column's pairs.
#[inline(always)]
fn pack_b(
    b: View,
    (j0, cols): (usize, usize),
    block: Block,
    out: &mut [u32],
    scratch: &mut Scratch,
) {
    let Block { pc, kc, k } = block;
    for p in 0..cols.div_ceil(NR) {
        let jp = j0 + p * NR;
        let width = (cols - p * NR).min(NR);
        let dst = &mut out[p * kc * NR..(p + 1) * kc * NR];
        let full = width == NR && 2 * (pc + kc) <= k;
        if full && b.cs == 1 {
            for (kp, d) in dst.chunks_exact_mut(NR).enumerate() {
                let s0 = b.offset + 2 * (pc + kp) * b.rs + jp;
                let (w0, w1) = scratch.wide.split_at_mut(NR);
                // SAFETY: as in `pack_a`.
                unsafe {
                    let r0 = b.run(s0, NR, w0);
                    let r1 = b.run(s0 + b.rs, NR, w1);
                    pair_runs(r0, r1, d);
                }
            }
        } else if full && b.rs == 1 {
            let pairs = &mut scratch.pairs[..kc];
            for c in 0..NR {
                let s = b.offset + (jp + c) * b.cs + 2 * pc;
                // SAFETY: as in `pack_a`.
                unsafe {
                    let col = b.run(s, 2 * kc, &mut scratch.wide);
                    round_into(col, pairs);
                }
                for (kp, v) in pairs.iter().enumerate() {
                    dst[kp * NR + c] = *v;
                }
            }
        } else {
            for kp in 0..kc {
                let k0 = 2 * (pc + kp);
                for c in 0..NR {
                    let v = |kk: usize| {
                        if c < width && kk < k {
                            b.at(kk, jp + c)
                        } else {
                            0.0
                        }
                    };
                    dst[kp * NR + c] = pair(v(k0), v(k0 + 1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::{DType, Device};

    /// A deterministic f32 tensor of `shape`: element `i` is `f(i)`.
    fn pattern(shape: &[usize], f: impl Fn(f64) -> f64) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|i| f(i as f64) as f32).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).expect("pattern")
    }

    fn rounded(t: &Tensor) -> Tensor {
        t.to_dtype(DType::BF16)
            .and_then(|t| t.to_dtype(DType::F32))
            .expect("round")
    }

    /// Max |native - emulated| over the emulated result's max magnitude.
    fn relative_gap(a: &Tensor, b: &Tensor) -> f32 {
        let native = matmul(a, b).expect("native");
        let emulated = rounded(a).matmul(&rounded(b)).expect("emulated");
        assert_eq!(native.dims(), emulated.dims());
        let scale = emulated.abs().and_then(|t| t.flatten_all()?.max(0));
        let gap = (native - &emulated).and_then(|d| d.abs()?.flatten_all()?.max(0));
        gap.and_then(|g| g.to_scalar::<f32>()).expect("gap")
            / scale.and_then(|s| s.to_scalar::<f32>()).expect("scale")
    }

    #[test]
    fn products_match_the_emulated_bf16_product_in_every_layout() {
        let dev = Device::Cpu;
        if !super::super::bf16::cpu_has_avx512_bf16() {
            // Where the kernel cannot run it refuses, naming what is missing
            // (callers check first and take the emulation).
            let x = Tensor::ones((2, 2), DType::F32, &dev).expect("x");
            let err = matmul(&x, &x).expect_err("refused without AVX512-BF16");
            assert!(err.to_string().contains("AVX512-BF16"), "{err}");
            return;
        }
        let r = |shape: &[usize], seed: f64| pattern(shape, |i| (i * 0.618 + seed).sin() * 3.0);
        // Odd sizes (edges in m, n and k), several k blocks (k > 512).
        for &(m, k, n) in &[(37, 333, 91), (8, 2, 32), (129, 1031, 70), (3, 1, 5)] {
            let a = r(&[m, k], 0.1);
            let b = r(&[k, n], 0.7);
            assert!(relative_gap(&a, &b) < 1e-5, "nn {m}x{k}x{n}");
            // Transposed views: k contiguous in b, m contiguous in a.
            let bt = r(&[n, k], 0.3).t().expect("t");
            assert!(relative_gap(&a, &bt) < 1e-5, "nt {m}x{k}x{n}");
            let at = r(&[k, m], 0.9).t().expect("t");
            assert!(relative_gap(&at, &b) < 1e-5, "tn {m}x{k}x{n}");
        }
        // Batched, with a broadcast left operand (stride 0).
        let w = r(&[40, 70], 0.2).broadcast_left(3).expect("b");
        let x = r(&[3, 70, 45], 0.4);
        assert!(relative_gap(&w, &x) < 1e-5, "batched");
        // An f16 left operand (weights at rest) is widened while packed.
        let w16 = r(&[40, 70], 0.5).to_dtype(DType::F16).expect("f16");
        let w32 = w16.to_dtype(DType::F32).expect("f32");
        let x = r(&[70, 45], 0.6);
        let gap = max_abs_diff(
            &matmul(&w16, &x).expect("f16"),
            &matmul(&w32, &x).expect("f32"),
        );
        assert_eq!(gap, 0.0, "f16 operand");
        // So is an f16 right operand (a linear layer's `W^T`, transposed).
        let x = r(&[45, 70], 0.6);
        let wt16 = w16.t().expect("t");
        let wt32 = w32.t().expect("t");
        let gap = max_abs_diff(
            &matmul(&x, &wt16).expect("f16"),
            &matmul(&x, &wt32).expect("f32"),
        );
        assert_eq!(gap, 0.0, "f16 right operand");
        // A bf16 operand (kept transformed kernels) gives the numbers of
        // the f32 one it was rounded from: the packing rounds the same way.
        let w32 = r(&[40, 70], 0.7);
        let wb16 = w32.to_dtype(DType::BF16).expect("bf16");
        let x = r(&[70, 45], 0.8);
        let gap = max_abs_diff(
            &matmul(&wb16, &x).expect("bf16"),
            &matmul(&w32, &x).expect("f32"),
        );
        assert_eq!(gap, 0.0, "bf16 operand");
        let bad = matmul(&r(&[4, 5], 0.0), &r(&[6, 2], 0.0));
        assert!(bad.is_err(), "shapes that do not multiply are refused");
    }

    /// The fused bias equals the product plus a broadcast add: in full
    /// and partial tiles, with one and several `k` blocks (the bias is
    /// added once), batched, and with a column split across tasks.
    #[test]
    fn the_fused_bias_is_added_once_to_every_row() {
        let dev = Device::Cpu;
        if !super::super::bf16::cpu_has_avx512_bf16() {
            // Refused where the kernel cannot run, as `matmul`.
            let x = Tensor::ones((2, 2), DType::F32, &dev).expect("x");
            let bias = Tensor::ones(2, DType::F32, &dev).expect("bias");
            let err = matmul_bias(&x, &x, &bias).expect_err("refused");
            assert!(err.to_string().contains("AVX512-BF16"), "{err}");
            return;
        }
        let r = |shape: &[usize], seed: f64| pattern(shape, |i| (i * 0.377 + seed).cos() * 2.0);
        for &(m, k, n) in &[(37, 333, 91), (16, 64, 64), (9, 1031, 70), (3, 4, 200)] {
            let a = r(&[m, k], 0.1);
            let b = r(&[n, k], 0.3).t().expect("t");
            let bias = r(&[n], 0.5);
            let fused = matmul_bias(&a, &b, &bias).expect("fused");
            let want = matmul(&a, &b)
                .and_then(|p| p.broadcast_add(&bias))
                .expect("want");
            // The sums differ only in when the bias is added.
            let scale = max_abs_diff(&want, &want.zeros_like().expect("zeros"));
            let gap = max_abs_diff(&fused, &want) / scale;
            assert!(gap < 1e-6, "{m}x{k}x{n}: {gap}");
        }
        let a = r(&[2, 20, 30], 0.2);
        let b = r(&[2, 30, 40], 0.4);
        let bias = r(&[40], 0.6);
        let fused = matmul_bias(&a, &b, &bias).expect("batched");
        let want = matmul(&a, &b)
            .and_then(|p| p.broadcast_add(&bias))
            .expect("want");
        let gap = max_abs_diff(&fused, &want);
        assert!(gap < 1e-4, "batched: {gap}");
        let wrong = matmul_bias(&a, &b, &r(&[39], 0.0)).expect_err("bias length");
        assert!(wrong.to_string().contains("39"), "{wrong}");
    }

    #[test]
    fn rounding_is_nearest_even_and_keeps_specials() {
        let check = |x: f32| {
            let ours = bf16_bits(x) as u16;
            let half = half::bf16::from_f32(x).to_bits();
            assert_eq!(ours, half, "{x}");
        };
        for x in [
            1.0,
            1.0 + 1.0 / 256.0,
            1.0 + 3.0 / 256.0,
            -2.5e-3,
            3.4e38,
            0.0,
        ] {
            check(x);
        }
        check(f32::INFINITY);
        assert!(half::bf16::from_bits(bf16_bits(f32::NAN) as u16).is_nan());
    }
}
