//! Machine learning: devices and weight loading (models arrive in later
//! modules: diffusion, prompt model, reward model, training).
//!
//! ML code here is pure: no UI, no store. The one `unsafe` block of the
//! crate (memory-mapping weight files) lives in [`weights`].

pub mod device;
pub mod weights;

pub use device::{select_device, DeviceError, DevicePreference};
pub use weights::{WeightFiles, WeightsError};
