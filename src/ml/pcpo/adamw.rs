//! AdamW over candle variables, with its state (first and second moments,
//! step count) exposed for checkpoints.
//!
//! Per variable, with gradient `g` and learning rate `lr` of this update
//! (`t` = 1-based update count):
//! `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
//! `theta = theta (1 - lr wd) - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.
//! A variable without a gradient in an update is left unchanged.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::error::{PcpoError, Result};

/// AdamW constants.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWParams {
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
}

impl Default for AdamWParams {
    /// 0.9, 0.999, 1e-8, no weight decay.
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The optimiser: named variables and their moments.
#[derive(Debug)]
pub struct AdamW {
    params: AdamWParams,
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: usize,
}

/// Prefix of first-moment tensors in [`AdamW::state_tensors`].
pub const M_PREFIX: &str = "adam.m.";
/// Prefix of second-moment tensors in [`AdamW::state_tensors`].
pub const V_PREFIX: &str = "adam.v.";

impl AdamW {
    /// An optimiser over `vars` with zero moments.
    pub fn new(vars: Vec<(String, Var)>, params: AdamWParams) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let m = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<candle_core::Result<_>>()?;
        let v = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            params,
            vars,
            m,
            v,
            step: 0,
        })
    }

    /// The named variables.
    pub fn vars(&self) -> &[(String, Var)] {
        &self.vars
    }

    /// Updates done so far.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let p = self.params;
        let t = self.step as i32;
        let c1 = 1.0 - p.beta1.powi(t);
        let c2 = 1.0 - p.beta2.powi(t);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let m = ((&self.m[i] * p.beta1)? + (g * (1.0 - p.beta1))?)?;
            let v = ((&self.v[i] * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let update = ((&m / c1)? / ((&v / c2)?.sqrt()? + p.eps)?)?;
            let theta = var.as_tensor().detach();
            let next = ((theta * (1.0 - lr * p.weight_decay))? - (update * lr)?)?;
            var.set(&next)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// The moments as `adam.m.{name}` / `adam.v.{name}` tensors (copies).
    pub fn state_tensors(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.insert(format!("{M_PREFIX}{name}"), self.m[i].copy()?);
            out.insert(format!("{V_PREFIX}{name}"), self.v[i].copy()?);
        }
        Ok(out)
    }

    /// Restores moments saved by [`AdamW::state_tensors`] and the step count;
    /// every variable's moments must be present with its shape.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>, step: usize) -> Result<()> {
        let mut m = Vec::with_capacity(self.vars.len());
        let mut v = Vec::with_capacity(self.vars.len());
        for (name, var) in &self.vars {
            for (prefix, out) in [(M_PREFIX, &mut m), (V_PREFIX, &mut v)] {
                let key = format!("{prefix}{name}");
                let t = tensors
                    .get(&key)
                    .ok_or_else(|| PcpoError::Config(format!("optimiser state lacks `{key}`")))?;
                if t.dims() != var.as_tensor().dims() {
                    return Err(PcpoError::Config(format!(
                        "optimiser state `{key}` has shape {:?}, the variable {:?}",
                        t.dims(),
                        var.as_tensor().dims()
                    )));
                }
                out.push(t.to_dtype(var.as_tensor().dtype())?.copy()?);
            }
        }
        self.m = m;
        self.v = v;
        self.step = step;
        Ok(())
    }
}
