//! A branch-free `exp` for f32 slices that the compiler vectorises (the
//! standard library's `f32::exp` is a scalar libm call): Cephes' `expf`
//! polynomial with a round-to-nearest range reduction built from integer
//! bit operations. Relative error below 2e-7 over the whole range; NaN in,
//! NaN out; results below 2^-126 flush to zero.

/// Largest argument whose result is finite here (`2^127.5`).
pub(crate) const EXP_HI: f32 = 88.376_26;
/// Smallest argument handled (`2^-127.5`; below it the result is 0).
pub(crate) const EXP_LO: f32 = -88.376_26;
/// `1.5 * 2^23`: adding it rounds an f32 of magnitude < 2^22 to an integer
/// held in the low mantissa bits.
pub(crate) const ROUND_MAGIC: f32 = 12_582_912.0;
/// `ln 2` split in a part exact in f32 and the remainder.
pub(crate) const LN2_HI: f32 = 0.693_359_4;
pub(crate) const LN2_LO: f32 = -2.121_944_4e-4;
/// Cephes' polynomial for `(e^r - 1 - r) / r^2` on `|r| <= ln(2) / 2`,
/// highest degree first.
pub(crate) const POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `e^x`, written so a loop over it vectorises (no branches or calls).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(EXP_LO, EXP_HI);
    let shifted = x * std::f32::consts::LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    // The integer `n` in two's complement sits in the low mantissa bits.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = POLY[0];
    for &coefficient in &POLY[1..] {
        p = p * r + coefficient;
    }
    let poly = p * r * r + r + 1.0;
    // 2^n as an f32: exponent field n + 127 (0 for n = -127: flushes to 0).
    let biased = n_bits.wrapping_add(127).max(0) as u32;
    poly * f32::from_bits(biased << 23)
}

/// `x / (1 + e^-x)` (SiLU), the same formula as candle's.
#[inline(always)]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_exp_over_the_range() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(-1000.0), 0.0);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn silu_matches_the_plain_formula() {
        for i in -2000..2000 {
            let x = i as f32 * 0.01;
            let want = x / (1.0 + (-x).exp());
            let got = silu(x);
            assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "{x}");
        }
        assert!(silu(f32::NAN).is_nan());
    }
}
