//! Winograd F(2x2, 3x3) for the 3x3 stride-1 "same" convolutions on the
//! CPU (f32): each 2x2 block of outputs comes from a 4x4 input patch with
//! 16 multiplications per channel pair instead of 36, so the matrix work is
//! 2.25x smaller than im2col's.
//!
//! 1. input transform `V = B^T d B` of every 4x4 patch (stride 2), laid out
//!    as 16 matrices `(channels, tiles)`;
//! 2. 16 matrix products `M[k] = U[k] V[k]` with the transformed kernels
//!    `U = G g G^T` `(16, out, in)` (one batched candle matmul);
//! 3. output transform `Y = A^T M A` plus the bias.
//!
//! F(2x2, 3x3)'s transforms only add, subtract and halve, so the result
//! stays within f32 rounding of the direct convolution (tested against
//! candle's conv2d). Larger tiles (F(4x4, 3x3)) would save more work but
//! lose about three digits in f32. Tiles are processed in bands of tile
//! rows so the transformed input stays bounded for large images (VAE).

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_input::contiguous_f32;
use super::profile::{matmul_flops, scope, scope_flops};

/// Most floats in one band's transformed input or output (16 x channels x
/// tiles): 16 M floats, 64 MB.
const MAX_BAND_ELEMENTS: usize = 16 << 20;

/// `G g G^T` of one 3x3 kernel `g` (row-major), row-major 4x4, with
/// `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]`.
fn kernel_tile(g: &[f32]) -> [f32; 16] {
    let apply = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    // G g: columns of g through G (4 rows x 3).
    let cols: [[f32; 4]; 3] = std::array::from_fn(|kx| apply(g[kx], g[3 + kx], g[6 + kx]));
    // (G g) G^T: each of the 4 rows through G.
    let mut out = [0f32; 16];
    for i in 0..4 {
        let row = apply(cols[0][i], cols[1][i], cols[2][i]);
        out[i * 4..i * 4 + 4].copy_from_slice(&row);
    }
    out
}

/// The transformed kernels of one convolution.
#[derive(Debug, Clone)]
pub struct WinogradKernel {
    /// `U = G g G^T` as `(out, 16, in)` (used as `(16, out, in)` through a
    /// transposed view).
    u: Tensor,
    /// One bias per output channel.
    bias: Vec<f32>,
}

impl WinogradKernel {
    /// From the taps-then-bias matrix of [`super::conv::Conv3x3`]:
    /// `(out, in * 9 + 1)`.
    pub fn new(weight: &Tensor, in_channels: usize) -> candle_core::Result<Self> {
        let (o, row_len) = weight.dims2()?;
        let c = in_channels;
        if row_len != 9 * c + 1 {
            candle_core::bail!("winograd: weight rows of {row_len} values for {c} inputs")
        }
        let taps = weight
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let mut u = vec![0f32; o * 16 * c];
        // One output channel per task: its taps row into its 16 x c block.
        u.par_chunks_mut((16 * c).max(1))
            .zip(taps.par_chunks(row_len))
            .for_each(|(dst, row)| {
                for ci in 0..c {
                    let g = &row[ci * 9..ci * 9 + 9];
                    for (k, value) in kernel_tile(g).iter().enumerate() {
                        dst[k * c + ci] = *value;
                    }
                }
            });
        let bias = taps.chunks_exact(row_len).map(|row| row[9 * c]).collect();
        let u = Tensor::from_vec(u, (o, 16, c), weight.device())?;
        Ok(Self { u, bias })
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
        if c != self.u.dim(2)? {
            candle_core::bail!(
                "winograd: kernel for {} inputs, got {:?}",
                self.u.dim(2)?,
                xs.dims()
            )
        }
        let o = self.bias.len();
        let (tile_rows, tile_cols) = (h.div_ceil(2), w.div_ceil(2));
        let per_tile_row = (16 * c.max(o) * b * tile_cols).max(1);
        let band = (max_band_elements / per_tile_row).clamp(1, tile_rows.max(1));
        let xs = xs.contiguous()?;
        let mut outputs = Vec::with_capacity(tile_rows.div_ceil(band));
        let mut first = 0;
        while first < tile_rows {
            let rows = band.min(tile_rows - first);
            let v = scope("conv 3x3 Winograd input transform", || {
                xs.apply_op1_no_bwd(&InputTransform {
                    first_tile_row: first,
                    tile_rows: rows,
                })
            })?;
            // (in, 16, tiles) -> (16, in, tiles) as a strided view.
            let tiles = v.dim(2)?;
            let flops = 16.0 * matmul_flops(o, c, tiles);
            let m = scope_flops("conv 3x3 Winograd products", flops, || {
                self.u.transpose(0, 1)?.matmul(&v.transpose(0, 1)?)
            })?;
            outputs.push(scope("conv 3x3 Winograd output transform", || {
                m.apply_op1_no_bwd(&OutputTransform {
                    batch: b,
                    height: h,
                    width: w,
                    first_tile_row: first,
                    tile_rows: rows,
                    bias: &self.bias,
                })
            })?);
            first += rows;
        }
        if outputs.len() == 1 {
            outputs
                .pop()
                .ok_or_else(|| candle_core::Error::Msg("no band".into()))
        } else {
            Tensor::cat(&outputs, 2)
        }
    }
}

/// `(b, c, h, w)` to the transformed patches `(c, 16, tiles)` of tile rows
/// `first_tile_row ..`, tiles ordered (batch, tile row, tile column).
struct InputTransform {
    first_tile_row: usize,
    tile_rows: usize,
}

impl InputTransform {
    /// Transforms one channel: `plane` `(h, w)` into `dst` (16 rows of
    /// `tiles`, this channel's part of the batch `bi`'s tiles at `t0 ..`).
    ///
    /// Row-wise so the loops vectorise: for each tile row, `B^T d` combines
    /// four padded image rows into four rows `t`, then `(B^T d) B` combines
    /// columns `2 tx .. 2 tx + 3` of each `t` row into the tile's values,
    /// written as 16 contiguous runs (one per transformed position).
    fn channel(&self, plane: &[f32], h: usize, w: usize, dst: &mut [f32], tiles: usize, t0: usize) {
        let tile_cols = w.div_ceil(2);
        // Padded rows: column x of the image at x + 1, zeros around (and
        // past an odd width).
        let padded = 2 * tile_cols + 2;
        let mut input = vec![0f32; 4 * padded];
        let mut t = vec![0f32; 4 * padded];
        for tr in 0..self.tile_rows {
            let ty = self.first_tile_row + tr;
            for (r, row) in input.chunks_exact_mut(padded).enumerate() {
                row.fill(0.0);
                if let Some(y) = (2 * ty + r).checked_sub(1).filter(|&y| y < h) {
                    row[1..=w].copy_from_slice(&plane[y * w..(y + 1) * w]);
                }
            }
            let (i0, rest) = input.split_at(padded);
            let (i1, rest) = rest.split_at(padded);
            let (i2, i3) = rest.split_at(padded);
            let (t_0, rest) = t.split_at_mut(padded);
            let (t_1, rest) = rest.split_at_mut(padded);
            let (t_2, t_3) = rest.split_at_mut(padded);
            for x in 0..padded {
                t_0[x] = i0[x] - i2[x];
                t_1[x] = i1[x] + i2[x];
                t_2[x] = i2[x] - i1[x];
                t_3[x] = i1[x] - i3[x];
            }
            let start = t0 + tr * tile_cols;
            for (r, trow) in t.chunks_exact(padded).enumerate() {
                let base = r * 4;
                let mut outs = dst.chunks_exact_mut(tiles).skip(base);
                let (Some(o0), Some(o1), Some(o2), Some(o3)) =
                    (outs.next(), outs.next(), outs.next(), outs.next())
                else {
                    return;
                };
                let o0 = &mut o0[start..start + tile_cols];
                let o1 = &mut o1[start..start + tile_cols];
                let o2 = &mut o2[start..start + tile_cols];
                let o3 = &mut o3[start..start + tile_cols];
                for tx in 0..tile_cols {
                    let u = &trow[2 * tx..2 * tx + 4];
                    o0[tx] = u[0] - u[2];
                    o1[tx] = u[1] + u[2];
                    o2[tx] = u[2] - u[1];
                    o3[tx] = u[1] - u[3];
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
        let xs = contiguous_f32(storage, layout, "winograd: input")?;
        let (b, c, h, w) = layout.shape().dims4()?;
        let tile_cols = w.div_ceil(2);
        let tiles = b * self.tile_rows * tile_cols;
        let mut out = vec![0f32; c * 16 * tiles];
        if tiles == 0 {
            return Ok((CpuStorage::F32(out), Shape::from((c, 16, tiles))));
        }
        out.par_chunks_mut(16 * tiles)
            .enumerate()
            .for_each(|(ci, dst)| {
                for bi in 0..b {
                    let plane = &xs[(bi * c + ci) * h * w..(bi * c + ci + 1) * h * w];
                    let t0 = bi * self.tile_rows * tile_cols;
                    self.channel(plane, h, w, dst, tiles, t0);
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((c, 16, tiles))))
    }
}

/// The products `(16, out, tiles)` back to `(b, out, rows, w)`: `A^T M A`
/// with `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`, plus the bias.
struct OutputTransform<'a> {
    batch: usize,
    height: usize,
    width: usize,
    first_tile_row: usize,
    tile_rows: usize,
    bias: &'a [f32],
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
        let m = contiguous_f32(storage, layout, "winograd: products")?;
        let (sixteen, o, tiles) = layout.shape().dims3()?;
        let (b, w) = (self.batch, self.width);
        let tile_cols = w.div_ceil(2);
        if sixteen != 16 || o != self.bias.len() || tiles != b * self.tile_rows * tile_cols {
            candle_core::bail!("winograd: products of shape {:?}", layout.shape())
        }
        let y0 = 2 * self.first_tile_row;
        let rows = (2 * (self.first_tile_row + self.tile_rows)).min(self.height) - y0;
        let mut out = vec![0f32; b * o * rows * w];
        if out.is_empty() {
            return Ok((CpuStorage::F32(out), Shape::from((b, o, rows, w))));
        }
        out.par_chunks_mut(rows * w)
            .enumerate()
            .for_each(|(plane_index, plane)| {
                let (bi, oi) = (plane_index / o, plane_index % o);
                let bias = self.bias[oi];
                // Two output rows of a tile row, padded to whole tiles.
                let mut a = vec![0f32; 2 * 4 * tile_cols];
                let mut y = vec![0f32; 2 * 2 * tile_cols];
                for tr in 0..self.tile_rows {
                    let t0 = (bi * self.tile_rows + tr) * tile_cols;
                    let run = |k: usize| &m[(k * o + oi) * tiles + t0..][..tile_cols];
                    // A^T M: a[dy][s] = rows of the four transformed columns.
                    let (a0, a1) = a.split_at_mut(4 * tile_cols);
                    for s in 0..4 {
                        let (m0, m1, m2, m3) = (run(s), run(4 + s), run(8 + s), run(12 + s));
                        let d0 = &mut a0[s * tile_cols..(s + 1) * tile_cols];
                        for tx in 0..tile_cols {
                            d0[tx] = m0[tx] + m1[tx] + m2[tx];
                        }
                        let d1 = &mut a1[s * tile_cols..(s + 1) * tile_cols];
                        for tx in 0..tile_cols {
                            d1[tx] = m1[tx] - m2[tx] - m3[tx];
                        }
                    }
                    // (A^T M) A, interleaved into image rows.
                    for (ad, yrow) in a
                        .chunks_exact(4 * tile_cols)
                        .zip(y.chunks_exact_mut(2 * tile_cols))
                    {
                        let (c0, rest) = ad.split_at(tile_cols);
                        let (c1, rest) = rest.split_at(tile_cols);
                        let (c2, c3) = rest.split_at(tile_cols);
                        for (tx, pair) in yrow.chunks_exact_mut(2).enumerate() {
                            pair[0] = c0[tx] + c1[tx] + c2[tx] + bias;
                            pair[1] = c1[tx] - c2[tx] - c3[tx] + bias;
                        }
                    }
                    for (dy, yrow) in y.chunks_exact(2 * tile_cols).enumerate() {
                        let row = 2 * tr + dy;
                        if row < rows {
                            plane[row * w..(row + 1) * w].copy_from_slice(&yrow[..w]);
                        }
                    }
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

    #[test]
    fn matches_candle_conv2d_on_odd_sizes_and_in_bands() {
        let mut rng = crate::ml::diffusion::noise::NoiseRng::new(11);
        let dev = Device::Cpu;
        for (b, c, o, h, w) in [
            (2, 5, 7, 9, 6),
            (1, 3, 4, 16, 17),
            (1, 1, 1, 1, 1),
            (2, 8, 3, 2, 5),
        ] {
            let weight = rng.tensor((o, c, 3, 3), &dev).expect("w");
            let bias = rng.tensor(o, &dev).expect("b");
            let x = rng.tensor((b, c, h, w), &dev).expect("x");
            let taps_then_bias = Tensor::cat(
                &[
                    weight.reshape((o, c * 9)).expect("taps"),
                    bias.reshape((o, 1)).expect("bias"),
                ],
                1,
            )
            .expect("cat");
            let kernel = WinogradKernel::new(&taps_then_bias, c).expect("kernel");
            let want = x
                .conv2d(&weight, 1, 1, 1, 1)
                .expect("conv2d")
                .broadcast_add(&bias.reshape((1, o, 1, 1)).expect("r"))
                .expect("bias");
            // One band, then one tile row per band.
            for limit in [MAX_BAND_ELEMENTS, 1] {
                let got = kernel.forward_in_bands(&x, limit).expect("winograd");
                assert_eq!(got.dims(), want.dims());
                let diff = max_abs_diff(&got, &want);
                assert!(diff < 1e-5, "{b}x{c}x{o}x{h}x{w}, limit {limit}: {diff}");
            }
        }
    }

    #[test]
    fn wrong_channel_count_is_an_error() {
        let weight = Tensor::zeros((2, 3 * 9 + 1), DType::F32, &Device::Cpu).expect("w");
        let kernel = WinogradKernel::new(&weight, 3).expect("kernel");
        let x = Tensor::zeros((1, 4, 8, 8), DType::F32, &Device::Cpu).expect("x");
        assert!(kernel.forward(&x).is_err());
        assert!(WinogradKernel::new(&weight, 4).is_err());
    }
}
