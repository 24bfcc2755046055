//! Adapter files of the LLaVA reward model: one safetensors file with the
//! heads (`choice_head.{weight,bias}`, `point_head.{weight,bias}`) and the
//! decoder's LoRA factors (`lora.layers.{i}.{target}.{A,B}`), plus metadata
//! (`format`, the [`LlavaRmConfig`] as JSON). The base LLaVA weights are not
//! stored. Reading is safe (the file is read into memory).

use std::collections::HashMap;
use std::path::Path;

use candle_core::Tensor;
use candle_nn::{Linear, VarMap};

use super::error::{Result, RewardError};
use super::llava_rm::{Heads, LlavaRewardModel, LlavaRmConfig};
use super::tensor_file::{bad, write_tensor_file, TensorFile};

/// Value of the `format` metadata key.
pub const LLAVA_ADAPTER_FORMAT: &str = "adstudio-llava-rm/1";

const LORA_PREFIX: &str = "lora.";
const HEAD_TENSORS: [&str; 4] = [
    "choice_head.weight",
    "choice_head.bias",
    "point_head.weight",
    "point_head.bias",
];

impl LlavaRewardModel {
    /// Writes the heads, the LoRA factors and the config to `path`
    /// (atomically: a temporary file next to it is renamed over it).
    pub fn save_adapter(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Tensor)> = vec![
            (HEAD_TENSORS[0].into(), self.heads.choice.weight().clone()),
            (HEAD_TENSORS[2].into(), self.heads.point.weight().clone()),
        ];
        for (name, linear) in [
            (HEAD_TENSORS[1], &self.heads.choice),
            (HEAD_TENSORS[3], &self.heads.point),
        ] {
            let bias = linear
                .bias()
                .ok_or_else(|| bad(path, format!("{name} is missing")))?;
            tensors.push((name.to_string(), bias.clone()));
        }
        for (name, t) in self.model.llava().decoder().lora_tensors() {
            tensors.push((format!("{LORA_PREFIX}{name}"), t));
        }
        let config = serde_json::to_string(&self.config).map_err(|e| bad(path, e.to_string()))?;
        let metadata = HashMap::from([
            ("format".to_string(), LLAVA_ADAPTER_FORMAT.to_string()),
            ("config".to_string(), config),
        ]);
        write_tensor_file(path, tensors, metadata)
    }

    /// Loads heads, LoRA factors and config from a file written by
    /// [`LlavaRewardModel::save_adapter`] (for inference: the loaded
    /// tensors are fixed, not trainable; to continue training use
    /// [`LlavaRewardModel::load_adapter_trainable`]). Adapters already on
    /// the decoder are replaced; the question prompt follows the file's
    /// config.
    pub fn load_adapter(&mut self, path: &Path) -> Result<()> {
        let device = self.model.llava().decoder().device().clone();
        let (config, tensors) = read_adapter(path, &device)?;
        let hidden = self.model.llava().config().text.hidden_size;
        let get = |name: &str, shape: &[usize]| -> Result<Tensor> {
            let t = tensors
                .get(name)
                .ok_or_else(|| bad(path, format!("tensor {name} is missing")))?;
            if t.dims() != shape {
                return Err(bad(
                    path,
                    format!("tensor {name} has shape {:?}, want {shape:?}", t.dims()),
                ));
            }
            Ok(t.clone())
        };
        let heads = Heads {
            choice: Linear::new(
                get("choice_head.weight", &[2, hidden])?,
                Some(get("choice_head.bias", &[2])?),
            ),
            point: Linear::new(
                get("point_head.weight", &[2, hidden])?,
                Some(get("point_head.bias", &[2])?),
            ),
        };
        let decoder = self.model.llava_mut().decoder_mut();
        decoder.remove_lora();
        if tensors.keys().any(|k| k.starts_with(LORA_PREFIX)) {
            decoder
                .load_lora(&tensors, LORA_PREFIX, config.lora_alpha)
                .map_err(|e| bad(path, e.to_string()))?;
        }
        self.heads = heads;
        self.head_vars = VarMap::new();
        self.lora_vars.clear();
        self.config = config;
        self.set_question_ids()
    }

    /// Loads a file written by [`LlavaRewardModel::save_adapter`] as
    /// trainable variables, to continue training: fresh LoRA adapters are
    /// attached as the file's config says and set to the file's factors,
    /// the heads (which must still be trainable, i.e. this model was built
    /// with [`LlavaRewardModel::new`]) take the file's values.
    pub fn load_adapter_trainable(&mut self, path: &Path) -> Result<()> {
        let device = self.model.llava().decoder().device().clone();
        let (config, tensors) = read_adapter(path, &device)?;
        let head_vars = self.head_vars.all_vars();
        if head_vars.is_empty() {
            return Err(bad(
                path,
                "the heads of this model were loaded from a file and are not trainable",
            ));
        }
        self.config = config;
        self.set_question_ids()?;
        self.attach_lora(0)?;
        let set = |name: &str, var: &candle_core::Var| -> Result<()> {
            let t = tensors
                .get(name)
                .ok_or_else(|| bad(path, format!("tensor {name} is missing")))?;
            if t.dims() != var.dims() {
                return Err(bad(
                    path,
                    format!(
                        "tensor {name} has shape {:?}, want {:?}",
                        t.dims(),
                        var.dims()
                    ),
                ));
            }
            var.set(t)
                .map_err(RewardError::candle(format!("setting {name}")))
        };
        for (name, var) in &self.lora_vars {
            set(&format!("{LORA_PREFIX}{name}"), var)?;
        }
        let data = self
            .head_vars
            .data()
            .lock()
            .map_err(|_| bad(path, "poisoned head variables"))?;
        for (name, var) in data.iter() {
            set(name, var)?;
        }
        Ok(())
    }
}

/// Reads an adapter file: its config and tensors.
fn read_adapter(
    path: &Path,
    device: &candle_core::Device,
) -> Result<(LlavaRmConfig, HashMap<String, Tensor>)> {
    let file = TensorFile::read(path, LLAVA_ADAPTER_FORMAT)?;
    let config: LlavaRmConfig = file.json("config")?;
    config.lora().map_err(|e| bad(path, e.to_string()))?;
    let tensors = candle_core::safetensors::load_buffer(&file.bytes, device)
        .map_err(RewardError::candle(format!("reading {}", path.display())))?;
    Ok((config, tensors))
}
