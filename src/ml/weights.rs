//! Weight files: memory-mapped safetensors with errors that name the file
//! and the tensor.
//!
//! This is the crate's single `unsafe` site. Memory-mapping is unsafe
//! because another process could truncate or rewrite the file while it is
//! mapped; adstudio only maps weight files it does not write, and documents
//! that model folders must not be modified while the studio runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;

/// A weight file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file does not exist.
    #[error("weight file {path} not found")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file is missing or unreadable, or its header is not safetensors.
    #[error("cannot read weight file {path}: {detail}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A shard index (`model.safetensors.index.json`) is unreadable or
    /// lists no files.
    #[error("invalid shard index {path}: {reason}")]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No files were given.
    #[error("no weight files given")]
    NoFiles,
}

/// One or more safetensors files (e.g. shards) opened by memory mapping.
pub struct WeightFiles {
    files: Vec<(PathBuf, MmapedSafetensors)>,
    /// Tensor name -> index into `files`.
    index: HashMap<String, usize>,
    /// Requested name -> stored name, for checkpoints with other key names.
    renames: HashMap<String, String>,
}

impl WeightFiles {
    /// Maps the files and reads their headers.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, WeightsError> {
        if paths.is_empty() {
            return Err(WeightsError::NoFiles);
        }
        let mut files = Vec::with_capacity(paths.len());
        let mut index = HashMap::new();
        for (i, path) in paths.iter().enumerate() {
            let path = path.as_ref().to_path_buf();
            let mapped = map_file(&path)?;
            for (name, _) in mapped.tensors() {
                index.insert(name, i);
            }
            files.push((path, mapped));
        }
        Ok(Self {
            files,
            index,
            renames: HashMap::new(),
        })
    }

    /// The dtype that holds most of the files' elements (`None` for files
    /// without tensors, or in a dtype candle does not know).
    pub fn stored_dtype(&self) -> Option<DType> {
        let mut by_dtype: HashMap<DType, usize> = HashMap::new();
        for (_, mapped) in &self.files {
            for (_, view) in mapped.tensors() {
                let Ok(dtype) = DType::try_from(view.dtype()) else {
                    continue;
                };
                *by_dtype.entry(dtype).or_default() += view.shape().iter().product::<usize>();
            }
        }
        by_dtype.into_iter().max_by_key(|(_, n)| *n).map(|(d, _)| d)
    }

    /// Serves requested names from other stored names (requested -> stored).
    pub fn with_renames(mut self, renames: HashMap<String, String>) -> Self {
        self.renames = renames;
        self
    }

    /// The stored tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.index.keys().cloned().collect();
        names.sort();
        names
    }

    /// The files, in the order given.
    pub fn paths(&self) -> Vec<&Path> {
        self.files.iter().map(|(p, _)| p.as_path()).collect()
    }

    /// Whether a tensor is available under the requested name.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(self.stored_name(name))
    }

    fn stored_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    /// Loads a tensor by its requested name, converted to `dtype`.
    pub fn load(&self, name: &str, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        let stored = self.stored_name(name);
        let Some(&i) = self.index.get(stored) else {
            return Err(candle_core::Error::msg(format!(
                "tensor `{stored}`{} is missing from {}",
                if stored == name {
                    String::new()
                } else {
                    format!(" (for `{name}`)")
                },
                self.describe_files()
            )));
        };
        let (path, mapped) = &self.files[i];
        mapped
            .load(stored, device)
            .and_then(|t| t.to_dtype(dtype))
            .map_err(|e| {
                candle_core::Error::msg(format!("tensor `{stored}` in {}: {e}", path.display()))
            })
    }

    /// A [`VarBuilder`] over these files whose errors name file and tensor.
    pub fn var_builder(self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self), dtype, device.clone())
    }

    fn describe_files(&self) -> String {
        let names: Vec<String> = self
            .files
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        names.join(", ")
    }
}

impl SimpleBackend for WeightFiles {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        _init: candle_nn::Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        let tensor = self.load(name, dtype, device)?;
        if tensor.shape() != &shape {
            let stored = self.stored_name(name);
            let file = self
                .index
                .get(stored)
                .map(|&i| self.files[i].0.display().to_string())
                .unwrap_or_default();
            return Err(candle_core::Error::msg(format!(
                "tensor `{stored}` in {file} has shape {:?}, but the model expects {:?}",
                tensor.dims(),
                shape.dims()
            )));
        }
        Ok(tensor)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        self.load(name, dtype, device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.contains(name)
    }
}

/// Memory-maps safetensors files (e.g. shards) into a [`VarBuilder`] of
/// `dtype` on `device`: the one mmap helper of `ml`. A missing or unreadable
/// file is an error naming it; a missing or mis-shaped tensor, when the
/// model asks for it, names its file and the tensor.
pub fn mmap_var_builder<P: AsRef<Path>>(
    files: &[P],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>, WeightsError> {
    Ok(WeightFiles::open(files)?.var_builder(dtype, device))
}

/// The safetensors files of a Hugging Face model folder:
/// `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json` (sorted, without repeats).
pub fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>, WeightsError> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join("model.safetensors.index.json");
    let bad = |reason: String| WeightsError::Index {
        path: index.clone(),
        reason,
    };
    let value: serde_json::Value = match crate::ml::json::read_json(&index) {
        Ok(v) => v,
        Err(crate::ml::json::JsonError::Io { .. }) if !index.exists() => {
            return Err(WeightsError::Missing { path: single })
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    let map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad("missing `weight_map`".to_string()))?;
    let mut files: Vec<PathBuf> = map
        .values()
        .filter_map(|v| v.as_str())
        .map(|f| dir.join(f))
        .collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(bad("`weight_map` lists no files".to_string()));
    }
    Ok(files)
}

#[allow(unsafe_code)]
fn map_file(path: &Path) -> Result<MmapedSafetensors, WeightsError> {
    if !path.is_file() {
        return Err(WeightsError::Missing {
            path: path.to_path_buf(),
        });
    }
    // SAFETY: the only unsafe block of adstudio. The mapping stays valid as
    // long as no one truncates or rewrites the file while it is mapped;
    // weight files are read-only inputs that adstudio never writes in place.
    unsafe { MmapedSafetensors::new(path) }.map_err(|e| WeightsError::Unreadable {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_file(dir: &Path) -> PathBuf {
        let path = dir.join("w.safetensors");
        let mut tensors = HashMap::new();
        let a = Tensor::arange(0f32, 6f32, &Device::Cpu).and_then(|t| t.reshape((2, 3)));
        tensors.insert("layer.weight".to_string(), a.expect("tensor"));
        candle_core::safetensors::save(&tensors, &path).expect("save");
        path
    }

    #[test]
    fn loads_and_names_file_and_tensor_in_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(dir.path());
        let vb = WeightFiles::open(&[&path])
            .expect("open")
            .var_builder(DType::F32, &Device::Cpu);
        let ok = vb.get((2, 3), "layer.weight").expect("present");
        assert_eq!(ok.to_vec2::<f32>().expect("vec")[1], vec![3.0, 4.0, 5.0]);

        let missing = vb
            .get((2, 3), "layer.bias")
            .expect_err("missing")
            .to_string();
        assert!(
            missing.contains("layer.bias") && missing.contains("w.safetensors"),
            "{missing}"
        );

        let wrong = vb
            .get((3, 2), "layer.weight")
            .expect_err("shape")
            .to_string();
        assert!(
            wrong.contains("[2, 3]") && wrong.contains("[3, 2]"),
            "{wrong}"
        );
        assert!(wrong.contains("w.safetensors"), "{wrong}");
    }

    #[test]
    fn renames_serve_other_key_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(dir.path());
        let renames = HashMap::from([("proj.w".to_string(), "layer.weight".to_string())]);
        let files = WeightFiles::open(&[&path])
            .expect("open")
            .with_renames(renames);
        assert!(files.contains("proj.w"));
        let t = files
            .load("proj.w", DType::F32, &Device::Cpu)
            .expect("renamed");
        assert_eq!(t.dims(), &[2, 3]);
    }

    #[test]
    fn corrupt_or_missing_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = dir.path().join("bad.safetensors");
        std::fs::write(&bad, b"not a safetensors file").expect("write");
        let err = WeightFiles::open(&[&bad])
            .err()
            .expect("corrupt")
            .to_string();
        assert!(err.contains("bad.safetensors"), "{err}");
        let err = WeightFiles::open(&[dir.path().join("absent.safetensors")])
            .err()
            .expect("missing")
            .to_string();
        assert!(err.contains("absent.safetensors"), "{err}");
    }

    #[test]
    fn model_folders_list_their_single_file_or_shards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = safetensors_files(dir.path()).expect_err("empty folder");
        assert!(matches!(err, WeightsError::Missing { .. }), "{err}");
        assert!(err.to_string().contains("model.safetensors"), "{err}");

        let index = dir.path().join("model.safetensors.index.json");
        std::fs::write(&index, r#"{"weight_map": {}}"#).expect("write");
        let err = safetensors_files(dir.path()).expect_err("no shards");
        assert!(matches!(err, WeightsError::Index { .. }), "{err}");

        std::fs::write(
            &index,
            r#"{"weight_map": {"a": "b.safetensors", "c": "a.safetensors", "d": "b.safetensors"}}"#,
        )
        .expect("write");
        let files = safetensors_files(dir.path()).expect("shards");
        let names: Vec<_> = files.iter().filter_map(|f| f.file_name()).collect();
        assert_eq!(names, ["a.safetensors", "b.safetensors"]);
        let err = mmap_var_builder(&files, DType::F32, &Device::Cpu)
            .err()
            .expect("shards are absent");
        assert!(err.to_string().contains("a.safetensors"), "{err}");

        let single = dir.path().join("model.safetensors");
        std::fs::rename(write_file(dir.path()), &single).expect("rename");
        assert_eq!(safetensors_files(dir.path()).expect("single"), vec![single]);
    }
}
