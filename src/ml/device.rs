//! Picking the compute device: CUDA or Metal when built with that feature
//! and present, CPU otherwise.

use candle_core::Device;
use serde::{Deserialize, Serialize};

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DevicePreference {
    /// The first GPU when there is one, otherwise the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The CUDA GPU with this ordinal (needs the `cuda` feature).
    Cuda(usize),
    /// The Metal GPU with this ordinal (needs the `metal` feature).
    Metal(usize),
}

impl DevicePreference {
    /// Parses `auto`, `cpu`, `cuda`, `cuda:N`, `metal` or `metal:N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        let (kind, ordinal) = match text.split_once(':') {
            Some((k, n)) => (
                k.to_string(),
                n.parse::<usize>()
                    .map_err(|_| format!("bad device ordinal {n:?} in {text:?}"))?,
            ),
            None => (text.clone(), 0),
        };
        match kind.as_str() {
            "auto" if !text.contains(':') => Ok(DevicePreference::Auto),
            "cpu" if !text.contains(':') => Ok(DevicePreference::Cpu),
            "cuda" => Ok(DevicePreference::Cuda(ordinal)),
            "metal" => Ok(DevicePreference::Metal(ordinal)),
            _ => Err(format!(
                "unknown device {text:?}; use auto, cpu, cuda, cuda:N, metal or metal:N"
            )),
        }
    }

    /// The preference as [`DevicePreference::parse`] reads it.
    pub fn label(self) -> String {
        match self {
            DevicePreference::Auto => "auto".into(),
            DevicePreference::Cpu => "cpu".into(),
            DevicePreference::Cuda(n) => format!("cuda:{n}"),
            DevicePreference::Metal(n) => format!("metal:{n}"),
        }
    }
}

/// The dtype models compute in on `device`: f16 on GPUs, f32 on the CPU
/// (whose kernels are f32).
pub fn dtype_for(device: &Device) -> candle_core::DType {
    if device.is_cpu() {
        candle_core::DType::F32
    } else {
        candle_core::DType::F16
    }
}

static PROCESS_DEVICE: std::sync::OnceLock<Device> = std::sync::OnceLock::new();

/// Sets the device of this process (the CLI's `--device`, the studio's
/// setting at start); the first call wins. Model hubs made afterwards use
/// it.
pub fn set_process_device(device: Device) {
    let _ = PROCESS_DEVICE.set(device);
}

/// The device set by [`set_process_device`], if one was.
pub fn chosen_process_device() -> Option<Device> {
    PROCESS_DEVICE.get().cloned()
}

/// The device set by [`set_process_device`], or the CPU.
pub fn process_device() -> Device {
    PROCESS_DEVICE.get().cloned().unwrap_or(Device::Cpu)
}

/// A device that was asked for but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The binary was built without the backend.
    #[error("{backend} was requested but this build has no {backend} support (rebuild with `--features {feature}`)")]
    NotCompiled {
        /// "CUDA" or "Metal".
        backend: &'static str,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
    /// The backend failed to start.
    #[error("could not start {backend} device {ordinal}: {source}")]
    Init {
        /// "CUDA" or "Metal".
        backend: &'static str,
        /// The device ordinal.
        ordinal: usize,
        /// candle's error.
        source: candle_core::Error,
    },
}

/// Returns the device for a preference.
pub fn select_device(preference: DevicePreference) -> Result<Device, DeviceError> {
    match preference {
        DevicePreference::Cpu => Ok(Device::Cpu),
        DevicePreference::Auto => {
            if candle_core::utils::cuda_is_available() {
                if let Ok(device) = Device::new_cuda(0) {
                    return Ok(device);
                }
            }
            if candle_core::utils::metal_is_available() {
                if let Ok(device) = Device::new_metal(0) {
                    return Ok(device);
                }
            }
            Ok(Device::Cpu)
        }
        DevicePreference::Cuda(ordinal) => {
            if !candle_core::utils::cuda_is_available() {
                return Err(DeviceError::NotCompiled {
                    backend: "CUDA",
                    feature: "cuda",
                });
            }
            Device::new_cuda(ordinal).map_err(|source| DeviceError::Init {
                backend: "CUDA",
                ordinal,
                source,
            })
        }
        DevicePreference::Metal(ordinal) => {
            if !candle_core::utils::metal_is_available() {
                return Err(DeviceError::NotCompiled {
                    backend: "Metal",
                    feature: "metal",
                });
            }
            Device::new_metal(ordinal).map_err(|source| DeviceError::Init {
                backend: "Metal",
                ordinal,
                source,
            })
        }
    }
}

/// A short human description of a device ("CPU", "CUDA:0", "Metal:0").
pub fn describe(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "CPU".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("CUDA:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("Metal:{gpu_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available() {
        let device = select_device(DevicePreference::Cpu).expect("cpu");
        assert!(device.is_cpu());
        assert_eq!(describe(&device), "CPU");
    }

    #[test]
    fn preferences_parse_and_print_back() {
        for text in ["auto", "cpu", "cuda:0", "cuda:2", "metal:0"] {
            assert_eq!(DevicePreference::parse(text).expect(text).label(), text);
        }
        assert_eq!(
            DevicePreference::parse("CUDA"),
            Ok(DevicePreference::Cuda(0))
        );
        assert!(DevicePreference::parse("cuda:x").is_err());
        assert!(DevicePreference::parse("tpu")
            .expect_err("tpu")
            .contains("cuda:N"));
        assert_eq!(dtype_for(&Device::Cpu), candle_core::DType::F32);
    }

    #[test]
    fn gpu_request_without_backend_is_a_clear_error() {
        if candle_core::utils::cuda_is_available() {
            return; // a CUDA build on a CUDA machine: nothing to check here
        }
        let err = select_device(DevicePreference::Cuda(0)).expect_err("no cuda");
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
}
