//! Machine learning: devices, weight loading and the models.
//!
//! ML code here is pure: no UI, no store. The one `unsafe` block of the
//! crate (memory-mapping weight files) lives in [`weights`].

pub mod clip_vision;
pub mod device;
pub mod diffusion;
pub mod hashing;
pub mod json;
pub mod memory;
pub mod pcpo;
pub mod prompt_model;
pub mod relevance;
pub mod reward;
pub mod saliency;
pub mod weights;

pub use device::{dtype_for, select_device, DeviceError, DevicePreference};
pub use json::{read_json, JsonError};
pub use weights::{mmap_var_builder, WeightFiles, WeightsError};
