//! Labels given while a shared store was unreachable: kept in order in a
//! local JSON-lines file (one label per line, synced before the answer
//! returns) and written to the store once it is back. Nothing a labeler
//! answered is lost when the server goes away, and nothing is written
//! twice: a label whose pair the labeler already has in the store (the
//! COMMIT went through just before the connection broke) is dropped from
//! the outbox instead of stored again.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::store::{unordered, NewPreference, Store, StoreError};

use super::error::LabelError;

/// `labeler`'s outbox file in the data directory `dir`
/// (`label-outbox-NAME.jsonl`, the name's other characters as `_`).
pub fn outbox_path(dir: &Path, labeler: &str) -> PathBuf {
    let name: String = labeler
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("label-outbox-{name}.jsonl"))
}

/// The labels waiting for the store.
#[derive(Debug, Default)]
pub struct LabelOutbox {
    path: Option<PathBuf>,
    pending: Vec<NewPreference>,
}

impl LabelOutbox {
    /// An outbox kept only in memory (lost when the process ends).
    pub fn in_memory() -> LabelOutbox {
        LabelOutbox::default()
    }

    /// The outbox in the file at `path`, with the labels an earlier run
    /// left there. A line that does not parse is an error naming the file
    /// and line (the file is left as it is).
    pub fn open(path: &Path) -> Result<LabelOutbox, LabelError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(outbox_io(path, e)),
        };
        let mut pending = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let pref = serde_json::from_str(line).map_err(|e| LabelError::Outbox {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 1),
            })?;
            pending.push(pref);
        }
        Ok(LabelOutbox {
            path: Some(path.to_path_buf()),
            pending,
        })
    }

    /// Labels waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The labels waiting, oldest first.
    pub fn pending(&self) -> &[NewPreference] {
        &self.pending
    }

    /// Keeps `pref` (appended to the file and synced first).
    pub fn push(&mut self, pref: NewPreference) -> Result<(), LabelError> {
        if let Some(path) = &self.path {
            let line = serde_json::to_string(&pref).map_err(|e| LabelError::Outbox {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| outbox_io(path, e))?;
            writeln!(file, "{line}")
                .and_then(|()| file.sync_all())
                .map_err(|e| outbox_io(path, e))?;
        }
        self.pending.push(pref);
        Ok(())
    }

    /// Writes the waiting labels to `store`, oldest first, each in its own
    /// transaction; stops at the first failure (the rest stay waiting).
    /// Returns how many were stored.
    pub fn flush(&mut self, store: &Store) -> Result<usize, LabelError> {
        let mut stored = 0;
        let result = self.flush_each(store, &mut stored);
        self.rewrite()?;
        result.map(|()| stored)
    }

    fn flush_each(&mut self, store: &Store, stored: &mut usize) -> Result<(), LabelError> {
        while let Some(pref) = self.pending.first() {
            if !already_stored(store, pref)? {
                store.record_preference(pref)?;
                *stored += 1;
            }
            self.pending.remove(0);
        }
        Ok(())
    }

    /// The file again with what is still waiting (atomically: a temporary
    /// file renamed over it; removed when empty).
    fn rewrite(&self) -> Result<(), LabelError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(outbox_io(path, e)),
                _ => Ok(()),
            };
        }
        let mut text = String::new();
        for pref in &self.pending {
            let line = serde_json::to_string(pref).map_err(|e| LabelError::Outbox {
                path: path.clone(),
                message: e.to_string(),
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| outbox_io(path, e))
    }
}

/// Whether the labeler already has an active label of `pref`'s pair.
fn already_stored(store: &Store, pref: &NewPreference) -> Result<bool, StoreError> {
    let pair = unordered(pref.a, pref.b);
    Ok(store
        .preferences_of(&pref.labeler)?
        .iter()
        .any(|row| unordered(row.a, row.b) == pair))
}

fn outbox_io(path: &Path, e: std::io::Error) -> LabelError {
    LabelError::Outbox {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
