//! Which kernels the diffusion blocks run: this module's custom CPU
//! kernels (Winograd and im2col convolutions, fused attention, vectorised
//! softmax, GroupNorm, SiLU, GEGLU) or the device-generic candle operations
//! a CUDA or Metal device runs, so that the generic path can be checked
//! on the CPU against the fast one.
//!
//! The choice is a field of each model ([`Kernels`]), set from the
//! diffusion options when it is loaded; a model's `forward` applies it to
//! the calling thread for the duration of the call ([`Kernels::scope`]),
//! and every custom kernel asks [`fast_cpu`] before it runs. Rayon workers
//! never decide: the dispatch happens on the calling thread.

use std::cell::Cell;
use std::sync::OnceLock;

use candle_core::{DType, Tensor};

/// The kernel family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// The custom CPU kernels for f32 on the CPU (generic elsewhere).
    #[default]
    Fast,
    /// Only device-generic candle operations.
    Generic,
}

/// The environment variable read by [`Kernels::from_env`].
pub const KERNELS_ENV: &str = "ADSTUDIO_KERNELS";

thread_local! {
    static CURRENT: Cell<Kernels> = const { Cell::new(Kernels::Fast) };
    static BF16_OPERANDS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with `kernels` and, when `bf16_operands`, matrix-product
/// operands rounded to bf16 ([`super::bf16`]) on the calling thread; both
/// are restored afterwards (also when `f` panics).
pub fn scope<T>(kernels: Kernels, bf16_operands: bool, f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BF16_OPERANDS.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(BF16_OPERANDS.with(|c| c.replace(bf16_operands)));
    kernels.scope(f)
}

/// Whether matrix-product operands are rounded to bf16 on this thread.
pub fn bf16_operands() -> bool {
    BF16_OPERANDS.with(Cell::get)
}

impl Kernels {
    /// `ADSTUDIO_KERNELS=generic` gives [`Kernels::Generic`]; anything else
    /// (or unset) [`Kernels::Fast`]. Read once per process.
    pub fn from_env() -> Self {
        static FROM_ENV: OnceLock<Kernels> = OnceLock::new();
        *FROM_ENV.get_or_init(|| {
            Self::parse(&std::env::var(KERNELS_ENV).unwrap_or_default()).unwrap_or_default()
        })
    }

    /// `fast` or `generic` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fast" => Some(Self::Fast),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }

    /// Runs `f` with this choice on the calling thread (the previous one is
    /// restored afterwards, also when `f` panics).
    pub fn scope<T>(self, f: impl FnOnce() -> T) -> T {
        struct Restore(Kernels);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.replace(self)));
        f()
    }

    /// The choice in effect on this thread.
    pub fn current() -> Self {
        CURRENT.with(Cell::get)
    }
}

/// Whether a custom CPU kernel may run on `xs`: f32 on the CPU, with the
/// fast kernels in effect on this thread.
pub fn fast_cpu(xs: &Tensor) -> bool {
    xs.device().is_cpu() && xs.dtype() == DType::F32 && Kernels::current() == Kernels::Fast
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_and_restores_the_choice() {
        let x = Tensor::zeros(2, DType::F32, &candle_core::Device::Cpu).expect("x");
        assert!(fast_cpu(&x));
        let inner = Kernels::Generic.scope(|| {
            let nested = Kernels::Fast.scope(|| fast_cpu(&x));
            (fast_cpu(&x), nested)
        });
        assert_eq!(inner, (false, true));
        assert!(fast_cpu(&x));
        assert!(!fast_cpu(&x.to_dtype(DType::F64).expect("f64")));
        assert_eq!(Kernels::parse(" Generic "), Some(Kernels::Generic));
        assert_eq!(Kernels::parse("fast"), Some(Kernels::Fast));
        assert_eq!(Kernels::parse("gpu"), None);
    }
}
