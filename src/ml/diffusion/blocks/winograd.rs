//! Winograd convolutions F(2x2, 3x3) and F(4x4, 3x3) for the 3x3
//! stride-1 "same" convolutions on the CPU (f32): each m x m block of
//! outputs comes from a (m + 2) x (m + 2) input patch, with (m + 2)^2
//! multiplications per channel pair instead of 9 m^2, so the matrix work is
//! 2.25x (m = 2) or 4x (m = 4) smaller than im2col's.
//!
//! 1. input transform `V = B^T d B` of every patch (stride m), laid out as
//!    `(m + 2)^2` matrices `(channels, tiles)`;
//! 2. `(m + 2)^2` matrix products `M[k] = U[k] V[k]` with the transformed
//!    kernels `U = G g G^T` `((m + 2)^2, out, in)` (one batched candle
//!    matmul); `U` is computed from the taps (kept at rest, e.g. f16) at
//!    each call and dropped after it, so no transformed copy is kept;
//! 3. output transform `Y = A^T M A` plus the bias.
//!
//! F(2x2, 3x3)'s transforms only add, subtract and halve, so it stays
//! within f32 rounding of the direct convolution. F(4x4, 3x3) (Lavin and
//! Gray's points 0, +-1, +-2) multiplies by up to 8 and loses about one
//! more digit, still far inside the parity tolerance (tested against
//! candle's conv2d); [`WinogradTile::for_weights`] keeps it to kernels of
//! at most [`F4_MAX_WEIGHTS`] taps (the transient `U` of one call is 4x the
//! taps, 16/9 for F(2x2)). Tiles are processed in bands of tile rows so the
//! transformed input stays bounded for large images (VAE).

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::bf16::operand;
use super::conv::in_row_bands;
use super::cpu_input::contiguous_f32;
use super::profile::{matmul_flops, scope, scope_flops};

/// Most floats in one band's transformed input or output (tile values x
/// channels x tiles): 16 M floats, 64 MB.
const MAX_BAND_ELEMENTS: usize = 16 << 20;

/// Most kernel taps (`out x in x 9`) given F(4x4, 3x3) by
/// [`WinogradTile::for_weights`]: 640 x 640 x 9 (every convolution of SD's
/// 320- and 640-channel levels, the VAE's and the ControlNet conditioning
/// embedding's; the 1280-channel ones, which are most of the weights and
/// run on 16x16 and 8x8 latents where 4x4 tiles are few, keep F(2x2)).
pub const F4_MAX_WEIGHTS: usize = 640 * 640 * 9;

/// The Winograd tile size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinogradTile {
    /// F(2x2, 3x3): 4x4 patches.
    F2,
    /// F(4x4, 3x3): 6x6 patches.
    F4,
}

impl WinogradTile {
    /// F(4x4) for kernels of at most [`F4_MAX_WEIGHTS`] taps, else F(2x2).
    pub fn for_weights(out_channels: usize, in_channels: usize) -> Self {
        if out_channels * in_channels * 9 <= F4_MAX_WEIGHTS {
            Self::F4
        } else {
            Self::F2
        }
    }

    /// Outputs per tile side (m).
    fn outputs(self) -> usize {
        match self {
            Self::F2 => 2,
            Self::F4 => 4,
        }
    }

    /// Transformed values per tile ((m + 2)^2).
    fn values(self) -> usize {
        let side = self.outputs() + 2;
        side * side
    }
}

/// The three transforms of one tile size, on columns of `T` values (`T =
/// M + 2`).
trait Transform<const T: usize, const M: usize> {
    /// `B^T d`.
    fn input(d: [f32; T]) -> [f32; T];
    /// `A^T m`.
    fn output(m: [f32; T]) -> [f32; M];
    /// `G g`.
    fn kernel(g: [f32; 3]) -> [f32; T];
}

/// F(2x2, 3x3).
struct F2;

impl Transform<4, 2> for F2 {
    #[inline(always)]
    fn input(d: [f32; 4]) -> [f32; 4] {
        [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]
    }

    #[inline(always)]
    fn output(m: [f32; 4]) -> [f32; 2] {
        [m[0] + m[1] + m[2], m[1] - m[2] - m[3]]
    }

    #[inline(always)]
    fn kernel(g: [f32; 3]) -> [f32; 4] {
        [
            g[0],
            0.5 * (g[0] + g[1] + g[2]),
            0.5 * (g[0] - g[1] + g[2]),
            g[2],
        ]
    }
}

/// F(4x4, 3x3) with the points 0, 1, -1, 2, -2 (and infinity).
struct F4;

impl Transform<6, 4> for F4 {
    #[inline(always)]
    fn input(d: [f32; 6]) -> [f32; 6] {
        let (d1, d2, d3, d4) = (d[1], d[2], d[3], d[4]);
        let d4_minus_4d2 = d4 - 4.0 * d2;
        let d3_minus_4d1 = d3 - 4.0 * d1;
        let d4_minus_d2 = d4 - d2;
        let two_d3_minus_d1 = 2.0 * (d3 - d1);
        [
            4.0 * d[0] - 5.0 * d2 + d4,
            d4_minus_4d2 + d3_minus_4d1,
            d4_minus_4d2 - d3_minus_4d1,
            d4_minus_d2 + two_d3_minus_d1,
            d4_minus_d2 - two_d3_minus_d1,
            4.0 * d1 - 5.0 * d3 + d[5],
        ]
    }

    #[inline(always)]
    fn output(m: [f32; 6]) -> [f32; 4] {
        let (sum12, diff12) = (m[1] + m[2], m[1] - m[2]);
        let (sum34, diff34) = (m[3] + m[4], m[3] - m[4]);
        [
            m[0] + sum12 + sum34,
            diff12 + 2.0 * diff34,
            sum12 + 4.0 * sum34,
            diff12 + 8.0 * diff34 + m[5],
        ]
    }

    #[inline(always)]
    fn kernel(g: [f32; 3]) -> [f32; 6] {
        let (even, odd) = (g[0] + g[2], g[1]);
        [
            g[0] / 4.0,
            -(even + odd) / 6.0,
            -(even - odd) / 6.0,
            g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0,
            g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0,
            g[2],
        ]
    }
}

/// `G g G^T` of one 3x3 kernel `g` (row-major), row-major `T x T`, into
/// `dst[k * stride]` for tile value `k`.
fn kernel_tile<const T: usize, const M: usize, F: Transform<T, M>>(
    g: &[f32],
    dst: &mut [f32],
    stride: usize,
) {
    // G g: the columns of g through G (T rows x 3).
    let cols: [[f32; T]; 3] = std::array::from_fn(|kx| F::kernel([g[kx], g[3 + kx], g[6 + kx]]));
    // (G g) G^T: each of the T rows through G.
    for i in 0..T {
        let row = F::kernel([cols[0][i], cols[1][i], cols[2][i]]);
        for (j, value) in row.iter().enumerate() {
            dst[(i * T + j) * stride] = *value;
        }
    }
}

/// One convolution's kernels for the Winograd path: the taps as stored
/// (f32, f16 or bf16; the same memory as the checkpoint's) and the bias.
/// The transformed kernels `U = G g G^T` are computed from the taps at
/// each call ([`KernelTransform`], a pass over the kernels that is small
/// next to the products it feeds), so no 16/9x or 4x larger copy is kept.
#[derive(Debug, Clone)]
pub struct WinogradKernel {
    /// `(out, in * 9)`, at rest.
    taps: Tensor,
    /// One bias per output channel.
    bias: Vec<f32>,
    tile: WinogradTile,
}

impl WinogradKernel {
    /// From the taps-then-bias matrix `(out, in * 9 + 1)`.
    pub fn new(
        weight: &Tensor,
        in_channels: usize,
        tile: WinogradTile,
    ) -> candle_core::Result<Self> {
        let (_, row_len) = weight.dims2()?;
        if row_len != 9 * in_channels + 1 {
            candle_core::bail!("winograd: weight rows of {row_len} values for {in_channels} inputs")
        }
        let taps = weight.narrow(1, 0, 9 * in_channels)?.contiguous()?;
        let bias = weight.narrow(1, 9 * in_channels, 1)?.flatten_all()?;
        Self::from_parts(taps, &bias, tile)
    }

    /// From the taps `(out, in * 9)` (kept as they are) and the bias `(out,)`.
    pub fn from_parts(
        taps: Tensor,
        bias: &Tensor,
        tile: WinogradTile,
    ) -> candle_core::Result<Self> {
        let (o, _) = taps.dims2()?;
        let bias = bias.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        if bias.len() != o {
            candle_core::bail!("winograd: {} biases for {o} outputs", bias.len())
        }
        Ok(Self {
            taps: taps.contiguous()?,
            bias,
            tile,
        })
    }

    /// The transformed kernels `(out, values, in)` in f32.
    fn transformed(&self) -> candle_core::Result<Tensor> {
        scope("conv 3x3 Winograd kernel transform", || {
            self.taps.apply_op1_no_bwd(&KernelTransform(self.tile))
        })
    }

    /// The tile size.
    pub fn tile(&self) -> WinogradTile {
        self.tile
    }

    /// Convolves f32 `xs` `(b, in, h, w)` (stride 1, padding 1).
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        self.forward_in_bands(xs, MAX_BAND_ELEMENTS)
    }

    /// [`Self::forward`] with bands of at most `max_band_elements`
    /// transformed values (at least one tile row).
    fn forward_in_bands(
        &self,
        xs: &Tensor,
        max_band_elements: usize,
    ) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = xs.dims4()?;
        if 9 * c != self.taps.dim(1)? {
            candle_core::bail!(
                "winograd: kernel for {} inputs, got {:?}",
                self.taps.dim(1)? / 9,
                xs.dims()
            )
        }
        let u = operand(self.transformed()?)?;
        let o = self.bias.len();
        let m = self.tile.outputs();
        let values = self.tile.values();
        let (tile_rows, tile_cols) = (h.div_ceil(m), w.div_ceil(m));
        let per_tile_row = (values * c.max(o) * b * tile_cols).max(1);
        let band_rows = max_band_elements / per_tile_row;
        let xs = xs.contiguous()?;
        in_row_bands(tile_rows, band_rows, |first, rows| {
            let tiles = Tiles {
                tile: self.tile,
                first_tile_row: first,
                tile_rows: rows,
            };
            let v = scope("conv 3x3 Winograd input transform", || {
                xs.apply_op1_no_bwd(&InputTransform(tiles))
            })?;
            let v = operand(v)?;
            // (in, values, tiles) -> (values, in, tiles) as a strided view.
            let tile_count = v.dim(2)?;
            let flops = values as f64 * matmul_flops(o, c, tile_count);
            let products = scope_flops("conv 3x3 Winograd products", flops, || {
                u.transpose(0, 1)?.matmul(&v.transpose(0, 1)?)
            })?;
            scope("conv 3x3 Winograd output transform", || {
                products.apply_op1_no_bwd(&OutputTransform {
                    tiles,
                    batch: b,
                    height: h,
                    width: w,
                    bias: &self.bias,
                })
            })
        })
    }
}

/// The taps `(out, in * 9)` (f32, f16 or bf16) to the transformed kernels
/// `U = G g G^T` `(out, values, in)` in f32, one output channel per task.
struct KernelTransform(WinogradTile);

/// [`KernelTransform`] of the taps `rows` (`in * 9` values a row) read
/// through `get`.
fn transform_taps<S: Sync>(
    tile: WinogradTile,
    rows: &[S],
    c: usize,
    get: impl Fn(&S) -> f32 + Sync,
) -> Vec<f32> {
    let values = tile.values();
    let mut u = vec![0f32; rows.len() / (9 * c).max(1) * values * c];
    if c == 0 {
        return u;
    }
    u.par_chunks_mut(values * c)
        .zip(rows.par_chunks(9 * c))
        .for_each(|(dst, row)| {
            for ci in 0..c {
                let g: [f32; 9] = std::array::from_fn(|k| get(&row[ci * 9 + k]));
                match tile {
                    WinogradTile::F2 => kernel_tile::<4, 2, F2>(&g, &mut dst[ci..], c),
                    WinogradTile::F4 => kernel_tile::<6, 4, F4>(&g, &mut dst[ci..], c),
                }
            }
        });
    u
}

impl CustomOp1 for KernelTransform {
    fn name(&self) -> &'static str {
        "adstudio-winograd-kernel"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (o, taps) = layout.shape().dims2()?;
        let c = taps / 9;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("winograd: the kernel taps must be contiguous")
        };
        let tile = self.0;
        let u = match storage {
            CpuStorage::F32(v) => transform_taps(tile, &v[start..end], c, |x| *x),
            CpuStorage::F16(v) => transform_taps(tile, &v[start..end], c, |x| x.to_f32()),
            CpuStorage::BF16(v) => transform_taps(tile, &v[start..end], c, |x| x.to_f32()),
            other => candle_core::bail!(
                "winograd: taps in {:?}",
                candle_core::backend::BackendStorage::dtype(other)
            ),
        };
        Ok((CpuStorage::F32(u), Shape::from((o, tile.values(), c))))
    }
}

/// The tile rows of one band.
#[derive(Debug, Clone, Copy)]
struct Tiles {
    tile: WinogradTile,
    first_tile_row: usize,
    tile_rows: usize,
}

/// `(b, c, h, w)` to the transformed patches `(c, values, tiles)` of a
/// band, tiles ordered (batch, tile row, tile column).
struct InputTransform(Tiles);

/// One channel's input transform: `plane` `(h, w)` into `dst` (one row of
/// `tiles` per tile value; this channel's part of batch item's tiles at
/// `t0 ..`).
///
/// Row-wise so the first half vectorises: for each tile row, `B^T d`
/// combines `T` padded image rows into `T` rows, then `(B^T d) B` combines
/// columns `M tx .. M tx + T` of each of them into the tile's values,
/// written as `T x T` contiguous runs (one per transformed position).
#[derive(Debug, Clone, Copy)]
struct ChannelInput<'a> {
    plane: &'a [f32],
    height: usize,
    width: usize,
    tiles: usize,
    t0: usize,
}

fn input_channel<const T: usize, const M: usize, F: Transform<T, M>>(
    band: Tiles,
    src: ChannelInput,
    dst: &mut [f32],
) {
    let (h, w) = (src.height, src.width);
    let tile_cols = w.div_ceil(M);
    // Padded rows: column x of the image at x + 1, zeros around (and past
    // a width that is not a multiple of M).
    let padded = M * tile_cols + 2;
    let mut input = vec![0f32; T * padded];
    let mut combined = vec![0f32; T * padded];
    for tr in 0..band.tile_rows {
        let ty = band.first_tile_row + tr;
        for (r, row) in input.chunks_exact_mut(padded).enumerate() {
            row.fill(0.0);
            if let Some(y) = (M * ty + r).checked_sub(1).filter(|&y| y < h) {
                row[1..=w].copy_from_slice(&src.plane[y * w..(y + 1) * w]);
            }
        }
        let rows_in: [&[f32]; T] = std::array::from_fn(|r| &input[r * padded..(r + 1) * padded]);
        for x in 0..padded {
            let d: [f32; T] = std::array::from_fn(|r| rows_in[r][x]);
            for (r, value) in F::input(d).into_iter().enumerate() {
                combined[r * padded + x] = value;
            }
        }
        let start = src.t0 + tr * tile_cols;
        for (r, row) in combined.chunks_exact(padded).enumerate() {
            for tx in 0..tile_cols {
                let u: [f32; T] = std::array::from_fn(|j| row[M * tx + j]);
                for (s, value) in F::input(u).into_iter().enumerate() {
                    dst[(r * T + s) * src.tiles + start + tx] = value;
                }
            }
        }
    }
}

impl CustomOp1 for InputTransform {
    fn name(&self) -> &'static str {
        "adstudio-winograd-input"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let band = self.0;
        let xs = contiguous_f32(storage, layout, "winograd: input")?;
        let (b, c, h, w) = layout.shape().dims4()?;
        let values = band.tile.values();
        let tile_cols = w.div_ceil(band.tile.outputs());
        let tiles = b * band.tile_rows * tile_cols;
        let mut out = vec![0f32; c * values * tiles];
        if tiles == 0 {
            return Ok((CpuStorage::F32(out), Shape::from((c, values, tiles))));
        }
        out.par_chunks_mut(values * tiles)
            .enumerate()
            .for_each(|(ci, dst)| {
                for bi in 0..b {
                    let src = ChannelInput {
                        plane: &xs[(bi * c + ci) * h * w..(bi * c + ci + 1) * h * w],
                        height: h,
                        width: w,
                        tiles,
                        t0: bi * band.tile_rows * tile_cols,
                    };
                    match band.tile {
                        WinogradTile::F2 => input_channel::<4, 2, F2>(band, src, dst),
                        WinogradTile::F4 => input_channel::<6, 4, F4>(band, src, dst),
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((c, values, tiles))))
    }
}

/// The products `(values, out, tiles)` back to `(b, out, rows, w)`:
/// `A^T M A`, plus the bias.
struct OutputTransform<'a> {
    tiles: Tiles,
    batch: usize,
    height: usize,
    width: usize,
    bias: &'a [f32],
}

/// One output plane of [`OutputTransform`].
#[derive(Debug, Clone, Copy)]
struct PlaneOutput<'a> {
    /// The products `(values, out, tiles)`.
    products: &'a [f32],
    out_channels: usize,
    tile_count: usize,
    batch_index: usize,
    channel: usize,
    bias: f32,
    width: usize,
    rows: usize,
}

fn output_plane<const T: usize, const M: usize, F: Transform<T, M>>(
    band: Tiles,
    src: PlaneOutput,
    plane: &mut [f32],
) {
    let w = src.width;
    let tile_cols = w.div_ceil(M);
    // M output rows of a tile row, padded to whole tiles: first `A^T M`
    // (M rows of T transformed columns), then `(A^T M) A`.
    let mut a = vec![0f32; M * T * tile_cols];
    let mut y = vec![0f32; M * M * tile_cols];
    for tr in 0..band.tile_rows {
        let t0 = (src.batch_index * band.tile_rows + tr) * tile_cols;
        for s in 0..T {
            let column: [&[f32]; T] = std::array::from_fn(|j| {
                let base = ((j * T + s) * src.out_channels + src.channel) * src.tile_count + t0;
                &src.products[base..base + tile_cols]
            });
            for tx in 0..tile_cols {
                let m: [f32; T] = std::array::from_fn(|j| column[j][tx]);
                for (dy, value) in F::output(m).into_iter().enumerate() {
                    a[(dy * T + s) * tile_cols + tx] = value;
                }
            }
        }
        for dy in 0..M {
            let rows_of_a: [&[f32]; T] = std::array::from_fn(|s| {
                let base = (dy * T + s) * tile_cols;
                &a[base..base + tile_cols]
            });
            let yrow = &mut y[dy * M * tile_cols..(dy + 1) * M * tile_cols];
            for (tx, out) in yrow.chunks_exact_mut(M).enumerate() {
                let m: [f32; T] = std::array::from_fn(|s| rows_of_a[s][tx]);
                for (value, result) in out.iter_mut().zip(F::output(m)) {
                    *value = result + src.bias;
                }
            }
        }
        for (dy, yrow) in y.chunks_exact(M * tile_cols).enumerate() {
            let row = M * tr + dy;
            if row < src.rows {
                plane[row * w..(row + 1) * w].copy_from_slice(&yrow[..w]);
            }
        }
    }
}

impl CustomOp1 for OutputTransform<'_> {
    fn name(&self) -> &'static str {
        "adstudio-winograd-output"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let products = contiguous_f32(storage, layout, "winograd: products")?;
        let (values, o, tiles) = layout.shape().dims3()?;
        let band = self.tiles;
        let (b, w) = (self.batch, self.width);
        let m = band.tile.outputs();
        let tile_cols = w.div_ceil(m);
        if values != band.tile.values()
            || o != self.bias.len()
            || tiles != b * band.tile_rows * tile_cols
        {
            candle_core::bail!("winograd: products of shape {:?}", layout.shape())
        }
        let y0 = m * band.first_tile_row;
        let rows = (m * (band.first_tile_row + band.tile_rows)).min(self.height) - y0;
        let mut out = vec![0f32; b * o * rows * w];
        if out.is_empty() {
            return Ok((CpuStorage::F32(out), Shape::from((b, o, rows, w))));
        }
        out.par_chunks_mut(rows * w)
            .enumerate()
            .for_each(|(plane_index, plane)| {
                let src = PlaneOutput {
                    products,
                    out_channels: o,
                    tile_count: tiles,
                    batch_index: plane_index / o,
                    channel: plane_index % o,
                    bias: self.bias[plane_index % o],
                    width: w,
                    rows,
                };
                match band.tile {
                    WinogradTile::F2 => output_plane::<4, 2, F2>(band, src, plane),
                    WinogradTile::F4 => output_plane::<6, 4, F4>(band, src, plane),
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((b, o, rows, w))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::test_support::max_abs_diff;
    use candle_core::Device;

    /// The `(out, in * 9 + 1)` matrix [`WinogradKernel::new`] takes.
    fn taps_then_bias(weight: &Tensor, bias: &Tensor) -> Tensor {
        let (o, c, _, _) = weight.dims4().expect("weight");
        Tensor::cat(
            &[
                weight.reshape((o, c * 9)).expect("taps"),
                bias.reshape((o, 1)).expect("bias"),
            ],
            1,
        )
        .expect("cat")
    }

    #[test]
    fn matches_candle_conv2d_on_odd_sizes_and_in_bands() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(11);
        let dev = Device::Cpu;
        for (b, c, o, h, w) in [
            (2, 5, 7, 9, 6),
            (1, 3, 4, 16, 17),
            (1, 1, 1, 1, 1),
            (2, 8, 3, 2, 5),
            (1, 4, 2, 7, 11),
        ] {
            let weight = rng.tensor((o, c, 3, 3), &dev).expect("w");
            let bias = rng.tensor(o, &dev).expect("b");
            let x = rng.tensor((b, c, h, w), &dev).expect("x");
            let taps_then_bias = taps_then_bias(&weight, &bias);
            let want = x
                .conv2d(&weight, 1, 1, 1, 1)
                .expect("conv2d")
                .broadcast_add(&bias.reshape((1, o, 1, 1)).expect("r"))
                .expect("bias");
            // Within 1e-5 of the outputs' scale; F(2x2) also within 1e-5
            // absolute (F(4x4) measured about 4x further off).
            let scale = want.abs().expect("abs").max_all().expect("max");
            let scale = scale.to_scalar::<f32>().expect("scale").max(1.0);
            for tile in [WinogradTile::F2, WinogradTile::F4] {
                let kernel = WinogradKernel::new(&taps_then_bias, c, tile).expect("kernel");
                // One band, then one tile row per band.
                for limit in [MAX_BAND_ELEMENTS, 1] {
                    let got = kernel.forward_in_bands(&x, limit).expect("winograd");
                    assert_eq!(got.dims(), want.dims());
                    let diff = max_abs_diff(&got, &want);
                    let context = format!("{tile:?} {b}x{c}x{o}x{h}x{w}, limit {limit}: {diff}");
                    assert!(diff / scale < 1e-5, "{context}");
                    if tile == WinogradTile::F2 {
                        assert!(diff < 1e-5, "{context}");
                    }
                }
            }
        }
    }

    /// With SD-sized channel counts and weights scaled like a trained
    /// layer's, both tile sizes stay within 1e-5 of the output's scale of
    /// an f64 reference (F(4x4) is the less exact one).
    #[test]
    fn error_against_f64_at_sd_channel_counts() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(12);
        let dev = Device::Cpu;
        let (b, c, o, h, w) = (1, 320, 3, 12, 12);
        let weight =
            (rng.tensor((o, c, 3, 3), &dev).expect("w") / (9.0 * c as f64).sqrt()).expect("scale");
        let bias = rng.tensor(o, &dev).expect("b");
        let x = rng.tensor((b, c, h, w), &dev).expect("x");
        let taps_then_bias = taps_then_bias(&weight, &bias);
        let want = x
            .to_dtype(DType::F64)
            .expect("x64")
            .conv2d(&weight.to_dtype(DType::F64).expect("w64"), 1, 1, 1, 1)
            .expect("conv2d")
            .broadcast_add(
                &bias
                    .to_dtype(DType::F64)
                    .expect("b64")
                    .reshape((1, o, 1, 1))
                    .expect("r"),
            )
            .expect("bias")
            .to_dtype(DType::F32)
            .expect("f32");
        let scale = want
            .abs()
            .expect("abs")
            .max_all()
            .expect("max")
            .to_scalar::<f32>()
            .expect("s");
        for tile in [WinogradTile::F2, WinogradTile::F4] {
            let kernel = WinogradKernel::new(&taps_then_bias, c, tile).expect("kernel");
            let got = kernel.forward(&x).expect("winograd");
            let relative = max_abs_diff(&got, &want) / scale;
            assert!(relative < 1e-5, "{tile:?}: {relative:e} of {scale}");
        }
    }

    #[test]
    fn f4_only_for_small_kernels() {
        assert_eq!(WinogradTile::for_weights(640, 640), WinogradTile::F4);
        assert_eq!(WinogradTile::for_weights(512, 512), WinogradTile::F4);
        assert_eq!(WinogradTile::for_weights(1280, 640), WinogradTile::F2);
        assert_eq!(WinogradTile::for_weights(1280, 1280), WinogradTile::F2);
    }

    #[test]
    fn wrong_channel_count_is_an_error() {
        let weight = Tensor::zeros((2, 3 * 9 + 1), DType::F32, &Device::Cpu).expect("w");
        for tile in [WinogradTile::F2, WinogradTile::F4] {
            let kernel = WinogradKernel::new(&weight, 3, tile).expect("kernel");
            let x = Tensor::zeros((1, 4, 8, 8), DType::F32, &Device::Cpu).expect("x");
            assert!(kernel.forward(&x).is_err());
            assert!(WinogradKernel::new(&weight, 4, tile).is_err());
        }
    }
}
