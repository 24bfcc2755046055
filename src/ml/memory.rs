//! How much memory a model needs once loaded, and whether the machine has
//! it: an estimate from the weight files (safetensors headers give each
//! tensor's element count; other formats count their file size) times the
//! dtype the device computes in, against the available memory
//! (`MemAvailable` of `/proc/meminfo` on Linux).

use std::io::Read;
use std::path::Path;

use candle_core::DType;

/// A model that would not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} needs about {} in {dtype}, but only {} of memory is available; \
     close other programs or pick a smaller model",
    gib(*needed),
    gib(*available)
)]
pub struct TooLarge {
    /// The model.
    pub what: String,
    /// Estimated bytes once loaded.
    pub needed: u64,
    /// Available bytes.
    pub available: u64,
    /// The dtype it loads in.
    pub dtype: String,
}

/// `bytes` in GiB with one decimal ("3.2 GiB").
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Available memory in bytes (`None` where it cannot be read).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Elements in a safetensors file, from its header alone.
fn safetensors_elements(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let n = u64::from_le_bytes(len);
    if n > 100 << 20 {
        return None;
    }
    let mut header = vec![0u8; usize::try_from(n).ok()?];
    file.read_exact(&mut header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&header).ok()?;
    let tensors = value.as_object()?;
    let total = tensors
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, t)| t.get("shape")?.as_array().cloned())
        .map(|shape| shape.iter().filter_map(|d| d.as_u64()).product::<u64>())
        .sum();
    Some(total)
}

/// Estimated bytes `path` (a weight file or a folder of them) takes when
/// loaded as `dtype`: safetensors by element count x dtype size, GGUF and
/// ONNX files by their size.
pub fn estimate_loaded_bytes(path: &Path, dtype: DType) -> u64 {
    if path.is_dir() {
        return std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| estimate_loaded_bytes(&e.path(), dtype))
                    .sum()
            })
            .unwrap_or(0);
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    match ext.as_str() {
        "safetensors" => safetensors_elements(path)
            .map(|n| n * dtype.size_in_bytes() as u64)
            .unwrap_or(size),
        "gguf" | "onnx" => size,
        _ => 0,
    }
}

/// Refuses when `needed` exceeds `available` (naming both).
pub fn check_fits(what: &str, needed: u64, available: u64, dtype: DType) -> Result<(), TooLarge> {
    if needed <= available {
        Ok(())
    } else {
        Err(TooLarge {
            what: what.to_string(),
            needed,
            available,
            dtype: format!("{dtype:?}").to_lowercase(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write_safetensors(path: &Path, shapes: &[&[usize]]) {
        let tensors: Vec<(String, Vec<u8>, Vec<usize>)> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n: usize = s.iter().product();
                (format!("t{i}"), vec![0u8; n * 2], s.to_vec())
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(name, data, shape)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F16,
                    shape.clone(),
                    data,
                )
                .unwrap();
                (name.clone(), view)
            })
            .collect();
        safetensors::serialize_to_file(views, None, path).unwrap();
    }

    #[test]
    fn estimates_count_elements_times_the_device_dtype() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("unet")).unwrap();
        write_safetensors(&tmp.path().join("unet/w.safetensors"), &[&[10, 20], &[5]]);
        std::fs::write(tmp.path().join("m.gguf"), vec![0u8; 1000]).unwrap();
        std::fs::write(tmp.path().join("config.json"), b"{}").unwrap();
        assert_eq!(
            estimate_loaded_bytes(tmp.path(), DType::F32),
            205 * 4 + 1000
        );
        assert_eq!(
            estimate_loaded_bytes(tmp.path(), DType::F16),
            205 * 2 + 1000
        );
    }

    #[test]
    fn a_model_too_large_is_refused_naming_both_numbers() {
        let err = check_fits("Stable Diffusion", 6 << 30, 2 << 30, DType::F32).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("6.0 GiB") && text.contains("2.0 GiB"),
            "{text}"
        );
        assert!(text.contains("f32"), "{text}");
        check_fits("x", 1 << 30, 2 << 30, DType::F16).unwrap();
        let info = "MemTotal:  16 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(parse_meminfo(info), Some(2048 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
    }
}
