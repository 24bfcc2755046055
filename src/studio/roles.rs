//! What a usable model looks like, per role: [`resolve`] turns a candidate
//! path into the model's file or folder, or says what is wrong with it.

use std::path::{Path, PathBuf};

use super::registry::ModelRole;

/// The reward checkpoint the studio's training writes (preferred in a
/// `reward-model/` folder).
pub const REWARD_CHECKPOINT_FILE: &str = "compact-rm.safetensors";

/// What belongs at a role's path, for messages.
pub fn expects(role: ModelRole) -> &'static str {
    match role {
        ModelRole::Sd15 => {
            "a diffusers Stable Diffusion 1.5 folder (unet/, vae/, text_encoder/, tokenizer/, \
             scheduler/)"
        }
        ModelRole::Sd15Inpaint => {
            "a folder with a 9-channel inpainting UNet (unet/config.json, unet/*.safetensors)"
        }
        ModelRole::ControlnetCanny => "a diffusers ControlNet folder (config.json, weights)",
        ModelRole::LcmLora => {
            "an LCM-LoRA .safetensors file (e.g. pytorch_lora_weights.safetensors)"
        }
        ModelRole::Taesd => "a diffusers TAESD folder (config.json, *.safetensors)",
        ModelRole::ClipVision => "a Hugging Face CLIP folder (config.json, model.safetensors)",
        ModelRole::PromptModel => {
            "a .gguf file (e.g. SmolLM2-135M-Instruct) or a Hugging Face model folder \
             (config.json, tokenizer.json, *.safetensors)"
        }
        ModelRole::RewardModel => {
            "a compact reward-model checkpoint (.safetensors; train one with Scores > Training… \
             or `adstudio rm train`)"
        }
        ModelRole::U2netp => "u2netp.onnx (e.g. `.ci/fetch-u2netp.sh DIR`)",
        ModelRole::Relevance => {
            "an all-MiniLM-L6-v2 folder (config.json, tokenizer.json, *.safetensors; e.g. \
             `.ci/fetch-minilm.sh DIR`)"
        }
    }
}

/// The model file or folder at `path` for `role`, or why there is none.
pub fn resolve(role: ModelRole, path: &Path) -> Result<PathBuf, String> {
    if !path.exists() {
        return Err("not there".into());
    }
    match role {
        ModelRole::Sd15 => diffusers_sd(path),
        ModelRole::Sd15Inpaint => unet_folder(path),
        ModelRole::ControlnetCanny => folder_with(path, &["config.json"]),
        ModelRole::LcmLora => file_or_first(
            path,
            "safetensors",
            Some("pytorch_lora_weights.safetensors"),
        ),
        ModelRole::Taesd | ModelRole::ClipVision => weights_folder(path),
        ModelRole::PromptModel => prompt_model(path),
        ModelRole::RewardModel => file_or_first(path, "safetensors", Some(REWARD_CHECKPOINT_FILE)),
        ModelRole::U2netp => file_or_first(path, "onnx", Some("u2netp.onnx")),
        ModelRole::Relevance => sentence_encoder(path),
    }
}

fn diffusers_sd(path: &Path) -> Result<PathBuf, String> {
    if !path.is_dir() {
        return Err("not a folder (a diffusers folder is needed)".into());
    }
    let tokenizer = path.join("tokenizer");
    let has_tokenizer =
        tokenizer.join("tokenizer.json").is_file() || tokenizer.join("vocab.json").is_file();
    let missing: Vec<&str> = [
        ("unet", "unet/config.json"),
        ("vae", "vae/config.json"),
        ("text_encoder", "text_encoder/config.json"),
        ("scheduler", "scheduler/scheduler_config.json"),
    ]
    .into_iter()
    .filter(|(_, file)| !path.join(file).is_file())
    .map(|(name, _)| name)
    .chain((!has_tokenizer).then_some("tokenizer"))
    .collect();
    if missing.is_empty() {
        Ok(path.to_path_buf())
    } else {
        Err(format!(
            "lacks {} (a diffusers folder is needed)",
            missing.join(", ")
        ))
    }
}

fn folder_with(path: &Path, files: &[&str]) -> Result<PathBuf, String> {
    let missing: Vec<&str> = files
        .iter()
        .copied()
        .filter(|f| !path.join(f).is_file())
        .collect();
    if path.is_dir() && missing.is_empty() {
        Ok(path.to_path_buf())
    } else if !path.is_dir() {
        Err("not a folder".into())
    } else {
        Err(format!("lacks {}", missing.join(", ")))
    }
}

fn unet_folder(path: &Path) -> Result<PathBuf, String> {
    let folder = folder_with(path, &["unet/config.json"])?;
    if first_file_with_extension(&folder.join("unet"), "safetensors").is_some() {
        Ok(folder)
    } else {
        Err("unet/ holds no .safetensors file".into())
    }
}

fn weights_folder(path: &Path) -> Result<PathBuf, String> {
    let folder = folder_with(path, &["config.json"])?;
    if first_file_with_extension(&folder, "safetensors").is_some() {
        Ok(folder)
    } else {
        Err("holds no .safetensors file".into())
    }
}

fn sentence_encoder(path: &Path) -> Result<PathBuf, String> {
    let folder = folder_with(path, &["config.json", "tokenizer.json"])?;
    if first_file_with_extension(&folder, "safetensors").is_some() {
        Ok(folder)
    } else {
        Err("holds no .safetensors file".into())
    }
}

fn prompt_model(path: &Path) -> Result<PathBuf, String> {
    if path.is_file() {
        return if has_extension(path, "gguf") {
            Ok(path.to_path_buf())
        } else {
            Err("not a .gguf file".into())
        };
    }
    if path.join("config.json").is_file() {
        return Ok(path.to_path_buf());
    }
    first_file_with_extension(path, "gguf")
        .ok_or_else(|| "holds neither config.json nor a .gguf file".into())
}

fn file_or_first(path: &Path, extension: &str, preferred: Option<&str>) -> Result<PathBuf, String> {
    if path.is_file() {
        return if has_extension(path, extension) {
            Ok(path.to_path_buf())
        } else {
            Err(format!("not a .{extension} file"))
        };
    }
    if let Some(file) = preferred.map(|p| path.join(p)).filter(|p| p.is_file()) {
        return Ok(file);
    }
    first_file_with_extension(path, extension).ok_or_else(|| format!("holds no .{extension} file"))
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// The first file (by name) in `folder` whose extension is `extension`
/// (case-insensitive); `None` when there is none or the folder cannot be
/// read.
pub fn first_file_with_extension(folder: &Path, extension: &str) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && has_extension(p, extension))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().next()
}

/// Whether a prompt-model path is a LLaVA folder (image + text).
pub fn is_llava_folder(path: &Path) -> bool {
    path.is_dir()
        && std::fs::read_to_string(path.join("config.json"))
            .map(|t| t.contains("\"llava\""))
            .unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prompt_model_folders_pick_their_first_gguf() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("prompt-model");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(resolve(ModelRole::PromptModel, &dir).is_err());
        std::fs::write(dir.join("b.gguf"), b"x").unwrap();
        std::fs::write(dir.join("a.gguf"), b"x").unwrap();
        assert_eq!(
            resolve(ModelRole::PromptModel, &dir).unwrap(),
            dir.join("a.gguf")
        );
        std::fs::write(dir.join("config.json"), b"{}").unwrap();
        assert_eq!(resolve(ModelRole::PromptModel, &dir).unwrap(), dir);
    }

    #[test]
    fn reward_folders_prefer_the_studio_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("reward-model");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.safetensors"), b"x").unwrap();
        assert_eq!(
            resolve(ModelRole::RewardModel, &dir).unwrap(),
            dir.join("a.safetensors")
        );
        std::fs::write(dir.join(REWARD_CHECKPOINT_FILE), b"x").unwrap();
        assert_eq!(
            resolve(ModelRole::RewardModel, &dir).unwrap(),
            dir.join(REWARD_CHECKPOINT_FILE)
        );
        let err = resolve(ModelRole::RewardModel, &dir.join("a.txt")).unwrap_err();
        assert_eq!(err, "not there");
    }

    #[test]
    fn relevance_folders_need_config_tokenizer_and_weights() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("minilm");
        std::fs::create_dir_all(&dir).unwrap();
        let err = resolve(ModelRole::Relevance, &dir).unwrap_err();
        assert_eq!(err, "lacks config.json, tokenizer.json");
        std::fs::write(dir.join("config.json"), b"{}").unwrap();
        std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
        let err = resolve(ModelRole::Relevance, &dir).unwrap_err();
        assert_eq!(err, "holds no .safetensors file");
        std::fs::write(dir.join("model.safetensors"), b"x").unwrap();
        assert_eq!(resolve(ModelRole::Relevance, &dir).unwrap(), dir);
        let file = dir.join("model.safetensors");
        assert_eq!(
            resolve(ModelRole::Relevance, &file).unwrap_err(),
            "not a folder"
        );
        assert_eq!(ModelRole::parse("minilm"), Some(ModelRole::Relevance));
        assert_eq!(ModelRole::Relevance.env_var(), "ADSTUDIO_MINILM");
    }
}
