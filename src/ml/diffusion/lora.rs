//! LoRA adapters merged into weights at load time (LCM-LoRA for few-step
//! previews, style LoRAs). Reads kohya-style files (`lora_unet_*`,
//! `lora_te_*`, with diffusers or original LDM module names, `lora_down`/
//! `lora_up`/`alpha`) and PEFT-style files (`unet.*`/`text_encoder.*`,
//! `lora_A`/`lora_B`). Merging is a [`candle_nn::VarBuilder`] wrapper, so the
//! models are built unchanged: `W' = W + m * (alpha / rank) * up @ down`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::error::{DiffusionError, Result};
use super::ldm::{unet_key, UNetLayout};

/// One adapted module's factors.
#[derive(Debug, Clone)]
pub struct LoraModule {
    /// `(rank, in, ...)` factor.
    pub down: Tensor,
    /// `(out, rank, ...)` factor.
    pub up: Tensor,
    /// Scaling numerator (the delta is scaled by `alpha / rank`); `None`
    /// means `alpha = rank`.
    pub alpha: Option<f64>,
}

impl LoraModule {
    /// `(alpha / rank) * up @ down`, reshaped to `shape` (f32).
    pub fn delta(&self, shape: &Shape) -> candle_core::Result<Tensor> {
        let rank = self.down.dim(0)?;
        let out = self.up.dim(0)?;
        let up = self.up.to_dtype(DType::F32)?.reshape((out, rank))?;
        let down = self.down.to_dtype(DType::F32)?.flatten_from(1)?;
        let scale = self.alpha.map_or(1.0, |a| a / rank as f64);
        (up.matmul(&down)? * scale)?.reshape(shape)
    }
}

/// The modules of one LoRA file, keyed by their name in the file without
/// the factor suffix (e.g. `lora_unet_down_blocks_0_..._to_q` or
/// `unet.down_blocks.0....to_q`).
#[derive(Debug, Clone, Default)]
pub struct LoraWeights {
    modules: HashMap<String, LoraModule>,
}

impl LoraWeights {
    /// Reads a `.safetensors` LoRA file.
    pub fn load(path: &Path) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|source| {
            DiffusionError::Weights {
                path: path.display().to_string(),
                source,
            }
        })?;
        Self::from_tensors(tensors).map_err(|e| match e {
            DiffusionError::InvalidInput(m) => {
                DiffusionError::InvalidInput(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// Groups factor tensors into modules; a module missing its up or down
    /// factor is an error naming it.
    pub fn from_tensors(tensors: HashMap<String, Tensor>) -> Result<Self> {
        #[derive(Default)]
        struct Parts {
            down: Option<Tensor>,
            up: Option<Tensor>,
            alpha: Option<f64>,
        }
        let mut parts: HashMap<String, Parts> = HashMap::new();
        for (key, t) in tensors {
            let key = key
                .strip_prefix("base_model.model.")
                .unwrap_or(&key)
                .to_owned();
            let (base, kind) = if let Some(b) = key
                .strip_suffix(".lora_down.weight")
                .or_else(|| key.strip_suffix(".lora_A.weight"))
            {
                (b.to_owned(), 0)
            } else if let Some(b) = key
                .strip_suffix(".lora_up.weight")
                .or_else(|| key.strip_suffix(".lora_B.weight"))
            {
                (b.to_owned(), 1)
            } else if let Some(b) = key.strip_suffix(".alpha") {
                (b.to_owned(), 2)
            } else {
                continue;
            };
            let entry = parts.entry(base).or_default();
            match kind {
                0 => entry.down = Some(t),
                1 => entry.up = Some(t),
                _ => {
                    entry.alpha = Some(f64::from(
                        t.to_dtype(DType::F32)?
                            .flatten_all()?
                            .to_vec1::<f32>()?
                            .first()
                            .copied()
                            .unwrap_or(0.0),
                    ))
                }
            }
        }
        let mut modules = HashMap::with_capacity(parts.len());
        for (name, p) in parts {
            match (p.down, p.up) {
                (Some(down), Some(up)) => {
                    modules.insert(
                        name,
                        LoraModule {
                            down,
                            up,
                            alpha: p.alpha,
                        },
                    );
                }
                _ => {
                    return Err(DiffusionError::InvalidInput(format!(
                        "LoRA module {name} lacks its up or down factor"
                    )))
                }
            }
        }
        Ok(Self { modules })
    }

    /// Number of adapted modules.
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    /// Whether the file adapts nothing.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// The module names as found in the file.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// The modules with their names as found in the file.
    pub fn modules(&self) -> impl Iterator<Item = (&str, &LoraModule)> {
        self.modules.iter().map(|(k, m)| (k.as_str(), m))
    }
}

/// Which model a LoRA is merged into (decides the name forms looked up).
#[derive(Debug, Clone)]
pub enum LoraTarget {
    /// The UNet; its layout lets LDM-named (`input_blocks_...`) LoRAs match.
    Unet(UNetLayout),
    /// The CLIP text encoder.
    TextEncoder,
}

fn underscored(s: &str) -> String {
    s.replace('.', "_")
}

impl LoraTarget {
    /// Names a module `module` (diffusers path without `.weight`) may have
    /// in a LoRA file.
    fn candidates(&self, module: &str) -> Vec<String> {
        match self {
            Self::Unet(layout) => {
                let ldm = unet_key(&format!("{module}.weight"), layout);
                let ldm = ldm.strip_suffix(".weight").unwrap_or(&ldm).to_owned();
                vec![
                    format!("lora_unet_{}", underscored(module)),
                    format!("lora_unet_{}", underscored(&ldm)),
                    format!("unet.{module}"),
                ]
            }
            Self::TextEncoder => {
                let hf = if module.starts_with("text_model.") {
                    module.to_owned()
                } else {
                    format!("text_model.{module}")
                };
                vec![
                    format!("lora_te_{}", underscored(&hf)),
                    format!("lora_te1_{}", underscored(&hf)),
                    format!("text_encoder.{hf}"),
                    format!("text_encoder.{}", hf.trim_start_matches("text_model.")),
                ]
            }
        }
    }
}

struct Merged {
    base: VarBuilder<'static>,
    loras: Vec<(Arc<LoraWeights>, f64)>,
    target: LoraTarget,
    matched: Arc<std::sync::Mutex<usize>>,
}

impl SimpleBackend for Merged {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let w = self.base.get_with_hints_dtype(s.clone(), name, h, dtype)?;
        let Some(module) = name.strip_suffix(".weight") else {
            return Ok(w);
        };
        let candidates = self.target.candidates(module);
        let mut merged: Option<Tensor> = None;
        for (lora, multiplier) in &self.loras {
            if let Some(m) = candidates.iter().find_map(|c| lora.modules.get(c)) {
                let delta = (m.delta(&s)?.to_device(dev)? * *multiplier)?;
                let acc = match merged {
                    Some(t) => t,
                    None => w.to_dtype(DType::F32)?,
                };
                merged = Some((acc + delta)?);
                if let Ok(mut n) = self.matched.lock() {
                    *n += 1;
                }
            }
        }
        match merged {
            Some(t) => t.to_dtype(dtype),
            None => Ok(w),
        }
    }

    fn get_unchecked(&self, name: &str, dtype: DType, _: &Device) -> candle_core::Result<Tensor> {
        self.base.get_unchecked_dtype(name, dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.base.contains_tensor(name)
    }
}

/// A var builder whose weights have the LoRAs (each with its multiplier)
/// merged in, plus a counter of merged tensors (read it after building the
/// model: 0 means no module name matched).
pub fn with_loras(
    base: VarBuilder<'static>,
    loras: &[(Arc<LoraWeights>, f64)],
    target: LoraTarget,
) -> (VarBuilder<'static>, Arc<std::sync::Mutex<usize>>) {
    let dtype = base.dtype();
    let device = base.device().clone();
    let matched = Arc::new(std::sync::Mutex::new(0));
    let backend = Merged {
        base,
        loras: loras.to_vec(),
        target,
        matched: matched.clone(),
    };
    (
        VarBuilder::from_backend(Box::new(backend), dtype, device),
        matched,
    )
}
