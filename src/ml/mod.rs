//! Machine-learning code: devices, weight loading and the models.

pub mod diffusion;
