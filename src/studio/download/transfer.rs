//! One file into the `hf-hub` cache (`$HF_HOME/hub/models--owner--name/`):
//! reused when it is there and checks out, otherwise downloaded into
//! `blobs/ETAG.part` (resumed from what a previous run left), checked, and
//! only then renamed to its blob and linked from `snapshots/COMMIT/`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use hf_hub::Repo;

use super::checksum::{digests, Expected};
use super::error::FetchError;
use super::http::{fetch_range, metadata, ChunkEnd, RequestError};
use super::settings::HubSettings;
use super::FetchEvent;

/// How many ranged requests in a row may bring nothing before the file
/// counts as stalled, and how many transport errors are retried.
const MAX_IDLE_REQUESTS: u32 = 2;
const MAX_TRANSPORT_RETRIES: u32 = 3;

/// One file to bring into the cache.
pub struct FileJob<'a> {
    /// Connection settings.
    pub settings: &'a HubSettings,
    /// Repository id.
    pub repo_id: &'a str,
    /// Revision.
    pub revision: &'a str,
    /// Path in the repository.
    pub file: &'a str,
    /// The manifest's sha256, when known.
    pub sha256: Option<&'a str>,
}

/// A file in the cache that passed its check.
#[derive(Debug, Clone)]
pub struct CachedFile {
    /// The blob.
    pub blob: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// The commit it came from, when the hub was asked.
    pub commit: Option<String>,
}

impl FileJob<'_> {
    fn repo(&self) -> Repo {
        self.settings.repo(self.repo_id, self.revision)
    }

    fn names(&self) -> (&str, &str, &str) {
        (self.file, self.repo_id, self.revision)
    }

    /// The cached copy, when there is one that checks out (a copy that
    /// does not is deleted).
    pub fn cached(&self) -> Result<Option<CachedFile>, FetchError> {
        let cache = self.settings.cache.repo(self.repo());
        let Some(pointer) = cache.get(self.file) else {
            return Ok(None);
        };
        let blob = std::fs::canonicalize(&pointer).map_err(|e| FetchError::io(&pointer, e))?;
        let etag = blob
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let d = digests(&blob)?;
        if Expected::from(self.sha256, &etag)
            .check(self.file, &d)
            .is_err()
        {
            remove_quietly(&blob);
            remove_quietly(&pointer);
            return Ok(None);
        }
        Ok(Some(CachedFile {
            blob,
            sha256: d.sha256,
            size: d.size,
            commit: None,
        }))
    }

    /// Downloads the file (resuming a `.part`), checks it and moves it into
    /// the cache. A transport failure is returned as such, for the caller
    /// to turn into the offline message.
    pub fn download(
        &self,
        events: &mut dyn FnMut(FetchEvent),
        cancel: &AtomicBool,
    ) -> Result<CachedFile, RequestError> {
        let url = self.settings.file_url(&self.repo(), self.file);
        let meta = metadata(self.settings, &url, self.file, self.repo_id, self.revision)?;
        let cache = self.settings.cache.repo(self.repo());
        let blob = cache.blob_path(&meta.etag);
        let dir = blob.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| fetch(FetchError::io(&dir, e)))?;
        let mut part = blob.clone();
        part.set_extension("part");
        if !blob.is_file() {
            self.transfer(&url, &part, meta.size, events, cancel)?;
        }
        let from = if blob.is_file() { &blob } else { &part };
        let d = digests(from).map_err(fetch)?;
        if d.size != meta.size {
            remove_quietly(from);
            return Err(fetch(FetchError::SizeMismatch {
                file: self.file.to_string(),
                expected: meta.size,
                actual: d.size,
            }));
        }
        if let Err(e) = Expected::from(self.sha256, &meta.etag).check(self.file, &d) {
            remove_quietly(from);
            return Err(fetch(e));
        }
        if from == &part {
            std::fs::rename(&part, &blob).map_err(|e| fetch(FetchError::io(&blob, e)))?;
        }
        self.link_snapshot(&blob, &meta.commit).map_err(fetch)?;
        events(FetchEvent::Verified {
            file: self.file.to_string(),
            sha256: d.sha256.clone(),
        });
        Ok(CachedFile {
            blob,
            sha256: d.sha256,
            size: d.size,
            commit: Some(meta.commit),
        })
    }

    fn transfer(
        &self,
        url: &str,
        part: &Path,
        size: u64,
        events: &mut dyn FnMut(FetchEvent),
        cancel: &AtomicBool,
    ) -> Result<(), RequestError> {
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(part)
            .map_err(|e| fetch(FetchError::io(part, e)))?;
        let mut pos = out
            .metadata()
            .map_err(|e| fetch(FetchError::io(part, e)))?
            .len();
        if pos > size {
            out.set_len(0).map_err(|e| fetch(FetchError::io(part, e)))?;
            pos = 0;
        }
        let file = self.file.to_string();
        events(FetchEvent::Started {
            file: file.clone(),
            total: size,
            resumed_from: pos,
        });
        let (mut idle, mut transport_errors) = (0u32, 0u32);
        while pos < size {
            let mut interrupted = true;
            let (start, end) = (pos, (pos + self.settings.chunk_bytes).min(size));
            let mut on_bytes = |n: u64| {
                pos += n;
                events(FetchEvent::Progress {
                    file: file.clone(),
                    done: pos,
                    total: size,
                });
            };
            let result = fetch_range(
                self.settings,
                url,
                start,
                end,
                &mut out,
                &mut on_bytes,
                cancel,
                self.names(),
            );
            match result {
                // A body that ended before its range did is an interruption
                // too (some servers close without an error).
                Ok(ChunkEnd::Complete) => {
                    idle = 0;
                    interrupted = pos < end;
                }
                Ok(ChunkEnd::Interrupted {
                    progressed: true,
                    reason,
                }) => {
                    log::info!("{file}: transfer interrupted at byte {pos} ({reason})");
                    idle = 0;
                }
                Ok(ChunkEnd::Interrupted { reason, .. }) => {
                    log::info!("{file}: no data at byte {pos} ({reason})");
                    idle += 1;
                    if idle >= MAX_IDLE_REQUESTS {
                        return Err(fetch(FetchError::Stalled {
                            file,
                            seconds: self.settings.stall_timeout.as_secs() * u64::from(idle),
                        }));
                    }
                }
                Err(RequestError::Transport(reason)) => {
                    transport_errors += 1;
                    if transport_errors > MAX_TRANSPORT_RETRIES {
                        return Err(RequestError::Transport(reason));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                Err(other) => return Err(other),
            }
            if interrupted && pos < size {
                events(FetchEvent::Resumed {
                    file: file.clone(),
                    at: pos,
                });
            }
        }
        out.sync_all().map_err(|e| fetch(FetchError::io(part, e)))
    }

    fn link_snapshot(&self, blob: &Path, commit: &str) -> Result<(), FetchError> {
        let cache = self.settings.cache.repo(self.repo());
        let pointer = cache.pointer_path(commit).join(self.file);
        if let Some(parent) = pointer.parent() {
            std::fs::create_dir_all(parent).map_err(|e| FetchError::io(parent, e))?;
        }
        if !pointer.exists() {
            link_pointer(blob, &pointer, self.file)?;
        }
        cache
            .create_ref(commit)
            .map_err(|e| FetchError::io(self.settings.cache.path(), e))
    }
}

fn fetch(e: FetchError) -> RequestError {
    RequestError::Fetch(e)
}

fn remove_quietly(path: &Path) {
    // Best effort: a file that cannot be removed is reported by the next
    // write to it.
    let _ = std::fs::remove_file(path);
}

/// The snapshot pointer: a relative symbolic link to the blob, as
/// `hf-hub` and `huggingface_hub` make it (so their caches are shared),
/// or a hard link / copy where links are not possible.
fn link_pointer(blob: &Path, pointer: &Path, file: &str) -> Result<(), FetchError> {
    #[cfg(unix)]
    {
        let ups = 1 + file.split('/').count();
        let mut rel = PathBuf::new();
        for _ in 0..ups {
            rel.push("..");
        }
        rel.push("blobs");
        rel.push(blob.file_name().unwrap_or_default());
        if std::os::unix::fs::symlink(&rel, pointer).is_ok() {
            return Ok(());
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    link_or_copy(blob, pointer)
}

/// Hard-links `from` at `to` (same disk, no extra space), copying when
/// that is not possible.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<(), FetchError> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| FetchError::io(to, e))
}
