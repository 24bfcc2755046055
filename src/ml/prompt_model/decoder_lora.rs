//! Attaching, naming, enabling and merging the LoRA adapters of a [`Decoder`].
//!
//! Adapter tensors are named `layers.{i}.{q_proj|...}.{A|B}` (A: (rank, in),
//! B: (out, rank)), the layout used by the reference fixtures and by the
//! adapter files the training code writes.

use std::collections::HashMap;

use candle_core::{DType, Tensor, Var};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::lora::{LoraAdapter, LoraConfig, LoraLinear, LoraTarget};

/// The trainable variables of freshly attached adapters, by tensor name.
pub type LoraVars = Vec<(String, Var)>;

fn factor_names(layer: usize, target: LoraTarget) -> (String, String) {
    let base = format!("layers.{layer}.{}", target.name());
    (format!("{base}.A"), format!("{base}.B"))
}

impl Decoder {
    /// Attaches trainable adapters to every layer's `cfg.targets`: A is drawn
    /// uniformly from ±1/sqrt(in) (seeded), B is zero, so the model's output is
    /// unchanged until training. Returns the variables for an optimiser.
    pub fn attach_lora(&mut self, cfg: &LoraConfig, seed: u64) -> Result<LoraVars> {
        if cfg.rank == 0 || cfg.targets.is_empty() {
            return Err(PromptModelError::Lora(
                "rank and the target list must be non-empty".to_string(),
            ));
        }
        let device = self.device().clone();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut vars = Vec::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            for &target in &cfg.targets {
                let proj = layer.projection_mut(target);
                let bound = 1.0 / (proj.in_features() as f64).sqrt();
                let n = cfg.rank * proj.in_features();
                let data: Vec<f32> = (0..n)
                    .map(|_| rng.random_range(-bound..bound) as f32)
                    .collect();
                let a = Var::from_tensor(&Tensor::from_vec(
                    data,
                    (cfg.rank, proj.in_features()),
                    &device,
                )?)?;
                let b = Var::zeros((proj.out_features(), cfg.rank), DType::F32, &device)?;
                proj.set_adapter(LoraAdapter {
                    a: a.as_tensor().clone(),
                    b: b.as_tensor().clone(),
                    scale: cfg.scale(),
                })?;
                let (na, nb) = factor_names(i, target);
                vars.push((na, a));
                vars.push((nb, b));
            }
        }
        Ok(vars)
    }

    /// Attaches fixed adapters from named factors (`layers.{i}.{target}.A/B`,
    /// optionally under `prefix`), with `scale = alpha / rank`. Every name
    /// under the prefix must be a known factor; unmatched A/B pairs are errors.
    pub fn load_lora(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        prefix: &str,
        alpha: f64,
    ) -> Result<usize> {
        let mut attached = 0;
        for name in tensors.keys() {
            let Some(rest) = name.strip_prefix(prefix) else {
                continue;
            };
            if !(rest.ends_with(".A") || rest.ends_with(".B")) {
                continue;
            }
            let parts: Vec<&str> = rest.split('.').collect();
            let well_formed =
                parts.len() == 4 && parts[0] == "layers" && parts[2].ends_with("_proj");
            if !well_formed || parts[1].parse::<usize>().is_err() {
                return Err(PromptModelError::Lora(format!(
                    "unexpected adapter tensor `{name}`"
                )));
            }
        }
        for (i, layer) in self.layers.iter_mut().enumerate() {
            for target in LoraTarget::ALL {
                let (na, nb) = factor_names(i, target);
                let a = tensors.get(&format!("{prefix}{na}"));
                let b = tensors.get(&format!("{prefix}{nb}"));
                match (a, b) {
                    (Some(a), Some(b)) => {
                        let rank = a.dim(0)?;
                        layer.projection_mut(target).set_adapter(LoraAdapter {
                            a: a.to_dtype(DType::F32)?,
                            b: b.to_dtype(DType::F32)?,
                            scale: alpha / rank as f64,
                        })?;
                        attached += 1;
                    }
                    (None, None) => {}
                    _ => {
                        return Err(PromptModelError::Lora(format!(
                            "adapter {prefix}layers.{i}.{} has only one of its A/B factors",
                            target.name()
                        )))
                    }
                }
            }
        }
        if attached == 0 {
            return Err(PromptModelError::Lora(format!(
                "no adapter factors found under prefix `{prefix}`"
            )));
        }
        Ok(attached)
    }

    /// The attached adapters' factors, named `layers.{i}.{target}.A/B`.
    pub fn lora_tensors(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for target in LoraTarget::ALL {
                if let Some(ad) = layer.projection(target).adapter() {
                    let (na, nb) = factor_names(i, target);
                    out.insert(na, ad.a.clone());
                    out.insert(nb, ad.b.clone());
                }
            }
        }
        out
    }

    /// The projection `target` of layer `layer` (its base weight and
    /// adapter), or `None` past the last layer.
    pub fn projection(&self, layer: usize, target: LoraTarget) -> Option<&LoraLinear> {
        self.layers.get(layer).map(|l| l.projection(target))
    }

    /// Turns every adapter on or off (off = the reference model of DPO/PCPO).
    pub fn set_lora_enabled(&mut self, enabled: bool) {
        for layer in &mut self.layers {
            for target in LoraTarget::ALL {
                layer.projection_mut(target).set_enabled(enabled);
            }
        }
    }

    /// Removes every adapter.
    pub fn remove_lora(&mut self) {
        for layer in &mut self.layers {
            for target in LoraTarget::ALL {
                layer.projection_mut(target).take_adapter();
            }
        }
    }

    /// Folds every adapter into its base weight and removes it.
    pub fn merge_lora(&mut self) -> Result<()> {
        for layer in &mut self.layers {
            for target in LoraTarget::ALL {
                layer.projection_mut(target).merge()?;
            }
        }
        Ok(())
    }
}
