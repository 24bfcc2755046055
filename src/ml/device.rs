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
    fn gpu_request_without_backend_is_a_clear_error() {
        if candle_core::utils::cuda_is_available() {
            return; // a CUDA build on a CUDA machine: nothing to check here
        }
        let err = select_device(DevicePreference::Cuda(0)).expect_err("no cuda");
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
}
