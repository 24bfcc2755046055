//! A manifest entry into its role's folder: every file through the cache,
//! then the folder assembled beside the target and renamed into place,
//! with a record of what was installed for `verify`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::checksum::digests;
use super::error::{FetchError, Offline};
use super::http::RequestError;
use super::settings::HubSettings;
use super::transfer::{link_or_copy, CachedFile, FileJob};
use super::FetchEvent;
use crate::studio::manifest::{is_safe_relative, ManifestEntry};

/// The record written into an installed folder.
pub const RECORD_FILE: &str = ".adstudio-model.json";

/// Choices of one fetch.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// The user accepted a restrictive licence.
    pub accept_licence: bool,
}

/// What an installed folder holds, as recorded at install time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    /// The manifest entry.
    pub name: String,
    /// Its repository.
    pub repo: String,
    /// The revision asked for.
    pub revision: String,
    /// The commit it resolved to (when a file was downloaded, not reused).
    #[serde(default)]
    pub commit: Option<String>,
    /// Each file: path, size, sha256.
    pub files: Vec<RecordedFile>,
}

/// One file of an [`InstallRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Path inside the folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256, lowercase hex.
    pub sha256: String,
}

/// A finished fetch.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The role's folder.
    pub dir: PathBuf,
    /// What it holds.
    pub record: InstallRecord,
    /// A folder that was there before and was moved aside.
    pub replaced: Option<PathBuf>,
}

/// The entry's files that `dir` lacks.
pub fn missing_files(entry: &ManifestEntry, dir: &Path) -> Vec<String> {
    entry
        .files
        .iter()
        .filter(|f| !dir.join(&f.path).is_file())
        .map(|f| f.path.clone())
        .collect()
}

/// Fetches `entry` into `dir` (the role's folder).
pub fn fetch_entry(
    settings: &HubSettings,
    entry: &ManifestEntry,
    dir: &Path,
    options: FetchOptions,
    events: &mut dyn FnMut(FetchEvent),
    cancel: &AtomicBool,
) -> Result<Installed, FetchError> {
    let Some(repo) = entry.repo.as_deref() else {
        return Err(FetchError::NoHubSource {
            name: entry.name.clone(),
            hint: entry.hint.clone().unwrap_or_default(),
        });
    };
    if entry.licence_restricted() && !options.accept_licence {
        return Err(FetchError::LicenceNotAccepted {
            name: entry.name.clone(),
            licence: entry.licence.clone(),
        });
    }
    let mut wanted: Vec<(String, Option<String>)> = entry
        .files
        .iter()
        .map(|f| (f.path.clone(), f.sha256.clone()))
        .collect();
    let mut fetched: Vec<(String, CachedFile)> = Vec::new();
    let mut i = 0;
    while i < wanted.len() {
        let (file, sha) = wanted[i].clone();
        let job = FileJob {
            settings,
            repo_id: repo,
            revision: &entry.revision,
            file: &file,
            sha256: sha.as_deref(),
        };
        let cached = match job.cached()? {
            Some(c) => {
                events(FetchEvent::Reused {
                    file: file.clone(),
                    size: c.size,
                });
                c
            }
            None => job.download(events, cancel).map_err(|e| match e {
                RequestError::Transport(reason) => {
                    offline(settings, entry, dir, &wanted[i..], reason)
                }
                RequestError::Fetch(e) => e,
            })?,
        };
        if entry.shards_from.as_deref() == Some(file.as_str()) {
            for shard in shards(&cached.blob)? {
                if !wanted.iter().any(|(w, _)| *w == shard) {
                    wanted.push((shard, None));
                }
            }
        }
        fetched.push((file, cached));
        i += 1;
    }
    place(entry, repo, dir, &fetched, events)
}

fn offline(
    settings: &HubSettings,
    entry: &ManifestEntry,
    dir: &Path,
    remaining: &[(String, Option<String>)],
    reason: String,
) -> FetchError {
    let files: Vec<String> = remaining
        .iter()
        .filter(|(f, _)| !dir.join(f).is_file())
        .map(|(f, _)| format!("  {f}"))
        .collect();
    FetchError::Offline(Box::new(Offline {
        endpoint: settings.endpoint.clone(),
        reason,
        role: format!("{} ({})", entry.role, entry.name),
        files: files.join("\n"),
        folder: dir.to_path_buf(),
        command: entry.fetch_command(),
    }))
}

/// The shard files an index (`model.safetensors.index.json`) names.
fn shards(index: &Path) -> Result<Vec<String>, FetchError> {
    let text = std::fs::read_to_string(index).map_err(|e| FetchError::io(index, e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| FetchError::Verify(format!("{}: not JSON: {e}", index.display())))?;
    let map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| FetchError::Verify(format!("{}: no weight_map", index.display())))?;
    let mut files: Vec<String> = map
        .values()
        .filter_map(|v| v.as_str())
        .filter(|f| is_safe_relative(f))
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Assembles the folder beside `dir` and renames it into place; a folder
/// already there is moved aside (never mixed with the new files).
fn place(
    entry: &ManifestEntry,
    repo: &str,
    dir: &Path,
    fetched: &[(String, CachedFile)],
    events: &mut dyn FnMut(FetchEvent),
) -> Result<Installed, FetchError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let leaf = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| entry.role.name().to_string());
    let staging = parent.join(format!(".fetching-{leaf}"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| FetchError::io(&staging, e))?;
    }
    let mut files = Vec::new();
    for (file, cached) in fetched {
        let to = staging.join(file);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| FetchError::io(p, e))?;
        }
        link_or_copy(&cached.blob, &to)?;
        files.push(RecordedFile {
            path: file.clone(),
            size: cached.size,
            sha256: cached.sha256.clone(),
        });
    }
    let record = InstallRecord {
        name: entry.name.clone(),
        repo: repo.to_string(),
        revision: entry.revision.clone(),
        commit: fetched.iter().find_map(|(_, c)| c.commit.clone()),
        files,
    };
    let json = serde_json::to_string_pretty(&record)
        .map_err(|e| FetchError::Verify(format!("cannot write the record: {e}")))?;
    let record_path = staging.join(RECORD_FILE);
    std::fs::write(&record_path, json).map_err(|e| FetchError::io(&record_path, e))?;
    let replaced = move_aside(dir, parent, &leaf)?;
    std::fs::rename(&staging, dir).map_err(|e| FetchError::io(dir, e))?;
    events(FetchEvent::Installed {
        dir: dir.to_path_buf(),
    });
    Ok(Installed {
        dir: dir.to_path_buf(),
        record,
        replaced,
    })
}

fn move_aside(dir: &Path, parent: &Path, leaf: &str) -> Result<Option<PathBuf>, FetchError> {
    if !dir.exists() {
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = parent.join(format!(".replaced-{leaf}-{stamp}"));
    std::fs::rename(dir, &aside).map_err(|e| FetchError::io(dir, e))?;
    Ok(Some(aside))
}

/// The record of a folder fetched by adstudio (`None` when there is none
/// or it cannot be read).
pub fn installed_record(dir: &Path) -> Option<InstallRecord> {
    let text = std::fs::read_to_string(dir.join(RECORD_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Re-checks an installed folder against its record: every file there,
/// with its size and sha256. Returns one line per file.
pub fn verify_installed(dir: &Path) -> Result<Vec<String>, FetchError> {
    let record_path = dir.join(RECORD_FILE);
    let text = std::fs::read_to_string(&record_path).map_err(|_| {
        FetchError::Verify(format!(
            "{} has no {RECORD_FILE}: not fetched by adstudio, nothing to check against",
            dir.display()
        ))
    })?;
    let record: InstallRecord = serde_json::from_str(&text)
        .map_err(|e| FetchError::Verify(format!("{}: {e}", record_path.display())))?;
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for f in &record.files {
        let path = dir.join(&f.path);
        if !path.is_file() {
            bad.push(format!("{}: missing", f.path));
            continue;
        }
        let d = digests(&path)?;
        if d.size != f.size || d.sha256 != f.sha256 {
            bad.push(format!(
                "{}: sha256 {} ({} bytes), expected {} ({} bytes)",
                f.path, d.sha256, d.size, f.sha256, f.size
            ));
        } else {
            lines.push(format!(
                "ok  {} ({} bytes, sha256 {})",
                f.path, d.size, d.sha256
            ));
        }
    }
    if bad.is_empty() {
        Ok(lines)
    } else {
        Err(FetchError::Verify(format!(
            "{} ({}) does not match what was fetched:\n  {}",
            dir.display(),
            record.name,
            bad.join("\n  ")
        )))
    }
}
