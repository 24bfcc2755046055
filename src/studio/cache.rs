//! One cache rule for every loaded model: a model is kept while the files
//! it came from keep their paths and modification times, and loaded again
//! (the old one dropped first) when either changes.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The paths a model was loaded from and their latest modification times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, Option<SystemTime>)>);

impl Fingerprint {
    /// The fingerprint of these files or folders (a folder's time is the
    /// newest of its files, two levels deep: diffusers components live one
    /// level down).
    pub fn of(paths: &[&Path]) -> Self {
        Self(
            paths
                .iter()
                .map(|p| (p.to_path_buf(), newest_mtime(p, 2)))
                .collect(),
        )
    }
}

fn newest_mtime(path: &Path, depth: usize) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let own = meta.modified().ok();
    if !meta.is_dir() || depth == 0 {
        return own;
    }
    let children = std::fs::read_dir(path).ok()?;
    children
        .filter_map(|e| e.ok())
        .filter_map(|e| newest_mtime(&e.path(), depth - 1))
        .chain(own)
        .max()
}

/// A slot holding at most one loaded model and the fingerprint it was
/// loaded with.
pub struct ModelCache<T> {
    slot: Option<(Fingerprint, T)>,
}

impl<T> Default for ModelCache<T> {
    fn default() -> Self {
        Self { slot: None }
    }
}

impl<T> ModelCache<T> {
    /// The cached model when `key` matches, else `load()`'s (the old model
    /// is dropped before loading so two never share memory). A failed load
    /// leaves the slot empty.
    pub fn get_or_load<E>(
        &mut self,
        key: Fingerprint,
        load: impl FnOnce() -> Result<T, E>,
    ) -> Result<&mut T, E> {
        if self.slot.as_ref().is_some_and(|(k, _)| *k != key) {
            self.slot = None;
        }
        match &mut self.slot {
            Some((_, value)) => Ok(value),
            slot @ None => {
                let value = load()?;
                Ok(&mut slot.insert((key, value)).1)
            }
        }
    }

    /// Whether a model is loaded.
    pub fn is_loaded(&self) -> bool {
        self.slot.is_some()
    }

    /// Drops the loaded model.
    pub fn clear(&mut self) {
        self.slot = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_loaded_again_and_an_unchanged_one_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("m.bin");
        std::fs::write(&file, b"one").unwrap();
        let mut cache: ModelCache<String> = ModelCache::default();
        let mut loads = 0;
        let get = |cache: &mut ModelCache<String>, loads: &mut usize| {
            cache
                .get_or_load(Fingerprint::of(&[&file]), || {
                    *loads += 1;
                    std::fs::read_to_string(&file)
                })
                .unwrap()
                .clone()
        };
        assert_eq!(get(&mut cache, &mut loads), "one");
        assert_eq!(get(&mut cache, &mut loads), "one");
        assert_eq!(loads, 1);
        let later = SystemTime::now() + std::time::Duration::from_secs(10);
        std::fs::write(&file, b"two").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(get(&mut cache, &mut loads), "two");
        assert_eq!(loads, 2);
        let failed: Result<&mut String, &str> =
            cache.get_or_load(Fingerprint::of(&[tmp.path()]), || Err("broken"));
        assert_eq!(failed.unwrap_err(), "broken");
        assert!(!cache.is_loaded());
    }
}
