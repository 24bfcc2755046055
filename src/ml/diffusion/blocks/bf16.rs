//! bf16 matrix products: whether the CPU could run them natively
//! (AVX512-BF16, detected at run time), the setting that turns them on
//! (`ADSTUDIO_BF16=on|off|auto`, or `bench diffusion --bf16`), and an
//! emulation that measures what they would cost in accuracy: the operands
//! of the matrix products (linear layers, the transformer projections, the
//! Winograd and im2col convolution products) are rounded to bf16 and the
//! products accumulate in f32, as `vdpbf16ps` does.
//!
//! On a CPU with AVX512-BF16 the products run natively
//! ([`super::bf16_gemm`], about twice the f32 rate); elsewhere `on` runs
//! the emulation, which is slower than f32: it is for accuracy
//! measurements, not for speed.

use std::sync::OnceLock;

use candle_core::{DType, Tensor};

use super::kernels::Kernels;

/// The environment variable read by [`Bf16Mode::from_env`].
pub const BF16_ENV: &str = "ADSTUDIO_BF16";

/// The bf16 setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bf16Mode {
    /// Round product operands to bf16 (emulated: see the module docs).
    On,
    /// f32 products.
    Off,
    /// The default: f32 for renders (see [`Bf16Mode::enabled`]).
    #[default]
    Auto,
}

impl Bf16Mode {
    /// `on`, `off` or `auto` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "on" => Some(Self::On),
            "off" => Some(Self::Off),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    /// The mode `ADSTUDIO_BF16` asks for (unset or unknown: auto), read
    /// once per process.
    pub fn from_env() -> Self {
        static FROM_ENV: OnceLock<Bf16Mode> = OnceLock::new();
        *FROM_ENV.get_or_init(|| {
            Self::parse(&std::env::var(BF16_ENV).unwrap_or_default()).unwrap_or_default()
        })
    }

    /// Whether product operands are rounded to bf16 in this mode.
    pub fn enabled(self) -> bool {
        match self {
            Self::On => true,
            Self::Off => false,
            // The UNet's output moves by more than the 1e-2 RMS bound
            // with bf16 products (README, Performance), so full renders
            // stay f32 unless asked; drafts decide with `draft_enabled`.
            Self::Auto => false,
        }
    }

    /// One line for benchmarks and logs: the mode, the CPU's support and
    /// what runs with `kernels` (the generic ones never run the native
    /// bf16 kernel).
    pub fn describe(self, kernels: Kernels) -> String {
        let native = cpu_has_avx512_bf16() && kernels == Kernels::Fast;
        let cpu = if cpu_has_avx512_bf16() {
            "this CPU has AVX512-BF16"
        } else {
            "this CPU has no AVX512-BF16"
        };
        let path = match (self.enabled(), native) {
            (true, true) => "matrix products in bf16 with f32 sums (native)",
            (true, false) => {
                "products with bf16 operands, emulated (accuracy only, slower than f32)"
            }
            (false, _) if draft_enabled(self) && native => {
                "the f32 path is used for renders, native bf16 products for drafts"
            }
            (false, _) => "the f32 path is used",
        };
        format!("bf16 {self:?}: {cpu}; {path}").to_lowercase()
    }
}

/// Whether this CPU has the AVX512-BF16 instructions (run-time check).
pub fn cpu_has_avx512_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether a draft (a 4-step preview, re-rendered in f32 by *Render
/// final*) computes its products in bf16 in this mode: `on`, or `auto` on
/// a CPU with AVX512-BF16 (where it is about twice as fast).
pub fn draft_enabled(mode: Bf16Mode) -> bool {
    match mode {
        Bf16Mode::On => true,
        Bf16Mode::Off => false,
        Bf16Mode::Auto => cpu_has_avx512_bf16(),
    }
}

/// `a.matmul(b)` under the calling thread's setting: f32; bf16 operands
/// with f32 sums on the AVX512-BF16 units ([`super::bf16_gemm`]) when
/// bf16 products are on, the fast kernels are in effect and the CPU has
/// them (either operand may then be f16 or bf16 weights at rest, see
/// [`takes_half_weights`]);
/// else the emulation (operands rounded, f32 product).
pub fn product(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    #[cfg(target_arch = "x86_64")]
    if super::kernels::bf16_operands() && native_applies(a, b) {
        return super::bf16_gemm::matmul(a, b);
    }
    let a = &super::at_rest::widen(a, b.dtype())?;
    if !super::kernels::bf16_operands() {
        return a.matmul(b);
    }
    operand(a.clone())?.matmul(&operand(b.clone())?)
}

/// [`product`] plus `bias` (one value per column of the result) added to
/// every row: fused into the native kernel's stores when it runs (no pass
/// of its own over the result), else a broadcast add.
pub fn product_bias(a: &Tensor, b: &Tensor, bias: Option<&Tensor>) -> candle_core::Result<Tensor> {
    #[cfg(target_arch = "x86_64")]
    if let Some(bias) = bias {
        if super::kernels::bf16_operands() && native_applies(a, b) && bias.rank() == 1 {
            return super::bf16_gemm::matmul_bias(a, b, bias);
        }
    }
    let out = product(a, b)?;
    match bias {
        Some(bias) => out.broadcast_add(bias),
        None => Ok(out),
    }
}

/// Whether [`product`] takes `a` (either operand) as it is, f16 or bf16
/// weights at rest widened while they are packed: bf16 products on this
/// thread, the native kernel, the fast kernels and an f16 or bf16 CPU
/// tensor.
pub fn takes_half_weights(a: &Tensor) -> bool {
    native_half_weights() && a.device().is_cpu() && matches!(a.dtype(), DType::F16 | DType::BF16)
}

/// Whether the calling thread's products would read half-precision CPU
/// weights directly ([`takes_half_weights`] before there is a tensor):
/// bf16 products on, the fast kernels and AVX512-BF16.
pub fn native_half_weights() -> bool {
    super::kernels::bf16_operands()
        && cpu_has_avx512_bf16()
        && cfg!(target_arch = "x86_64")
        && Kernels::current() == Kernels::Fast
}

/// A weight kept at rest as a product operand for inputs of `dtype`:
/// as it is where [`product`] reads half-precision weights directly
/// ([`takes_half_weights`]), else widened to `dtype`
/// ([`super::at_rest::widen`]).
pub fn weight_operand(w: &Tensor, dtype: DType) -> candle_core::Result<Tensor> {
    if takes_half_weights(w) {
        Ok(w.clone())
    } else {
        super::at_rest::widen(w, dtype)
    }
}

/// Whether the native kernel takes `a x b`: f32 CPU operands (or f16 or
/// bf16 weights at rest as either, see [`takes_half_weights`]) under the fast
/// kernels, the same batch dimensions, and AVX512-BF16.
#[cfg(target_arch = "x86_64")]
fn native_applies(a: &Tensor, b: &Tensor) -> bool {
    let (da, db) = (a.dims(), b.dims());
    let r = da.len();
    (super::kernels::fast_cpu(a) || takes_half_weights(a))
        && (super::kernels::fast_cpu(b) || takes_half_weights(b))
        && r >= 2
        && db.len() == r
        && da[..r - 2] == db[..r - 2]
        && cpu_has_avx512_bf16()
}

/// A product operand: rounded to bf16 (kept in f32) when the calling
/// thread emulates bf16 products ([`super::kernels::scope`]), else as it is.
pub fn operand(t: Tensor) -> candle_core::Result<Tensor> {
    if super::kernels::bf16_operands() && t.dtype() == DType::F32 {
        t.to_dtype(DType::BF16)?.to_dtype(DType::F32)
    } else {
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::diffusion::blocks::kernels::scope;

    #[test]
    fn modes_parse_and_operands_round_only_in_scope() {
        assert_eq!(Bf16Mode::parse("ON"), Some(Bf16Mode::On));
        assert_eq!(Bf16Mode::parse("auto"), Some(Bf16Mode::Auto));
        assert_eq!(Bf16Mode::parse("maybe"), None);
        assert!(Bf16Mode::On.enabled() && !Bf16Mode::Off.enabled());
        assert!(!Bf16Mode::Auto.enabled());
        assert!(Bf16Mode::Auto.describe(Kernels::Fast).contains("f32 path"));
        assert!(Bf16Mode::On.describe(Kernels::Generic).contains("emulated"));
        let x = Tensor::new(&[1.0f32 + 1.0 / 512.0, 3.0], &candle_core::Device::Cpu).expect("x");
        let same = operand(x.clone())
            .expect("f32")
            .to_vec1::<f32>()
            .expect("v");
        assert_eq!(same[0], 1.0 + 1.0 / 512.0);
        let rounded = scope(Kernels::Fast, true, || operand(x.clone()))
            .expect("bf16")
            .to_vec1::<f32>()
            .expect("v");
        // bf16 keeps 8 significant bits: 1 + 2^-9 rounds to 1.
        assert_eq!(rounded, vec![1.0, 3.0]);
    }
}
