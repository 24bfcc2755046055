//! The model manager's state: the manifest's models with each role's
//! state, the selection (with its total size), licence acceptances, and
//! the download that runs on its own thread (never in `ui()`), reporting
//! through a channel and stopped by a cancel flag.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::studio::download::{fetch_entry, FetchEvent, FetchOptions, HubSettings};
use crate::studio::{Manifest, ManifestEntry, RoleStatus};

/// A message from the download thread.
#[derive(Debug)]
pub enum DownloadMsg {
    /// Progress of entry `.0`.
    Event(String, FetchEvent),
    /// Entry `.0` is installed (`Ok`) or failed.
    Finished(String, Result<PathBuf, String>),
    /// Every entry was tried (or the download was cancelled).
    AllDone,
}

/// The download in progress.
#[derive(Debug)]
pub struct DownloadState {
    /// The entry being fetched.
    pub entry: String,
    /// The file being transferred.
    pub file: String,
    /// Bytes of that file so far.
    pub done: u64,
    /// Its size.
    pub total: u64,
    cancel: Arc<AtomicBool>,
    rx: Receiver<DownloadMsg>,
}

impl DownloadState {
    /// The fraction of the current file that arrived.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            self.done as f32 / self.total as f32
        }
    }

    /// Asks the download thread to stop (the part file is kept).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// The model manager window's state.
#[derive(Debug, Default)]
pub struct ModelManagerState {
    /// Whether the window is shown.
    pub open: bool,
    /// Opened by the first start (a welcome line is shown).
    pub first_run: bool,
    /// The manifest, or why it could not be read.
    pub manifest: Option<Result<Manifest, String>>,
    /// Each role's state at the last scan.
    pub roles: Vec<RoleStatus>,
    /// Entries picked for download.
    pub selected: BTreeSet<String>,
    /// Entries whose restrictive licence the user accepted.
    pub accepted: BTreeSet<String>,
    /// The running download.
    pub download: Option<DownloadState>,
    /// The last message, and whether it is an error.
    pub message: Option<(String, bool)>,
    /// The store setting being edited (`None`: not edited, show the saved
    /// setting).
    pub store_draft: Option<String>,
}

impl ModelManagerState {
    /// The manifest's entries (none when it could not be read).
    pub fn entries(&self) -> &[ManifestEntry] {
        match &self.manifest {
            Some(Ok(m)) => &m.entries,
            _ => &[],
        }
    }

    /// The selected entries' approximate total size.
    pub fn selected_size(&self) -> u64 {
        self.entries()
            .iter()
            .filter(|e| self.selected.contains(&e.name))
            .map(ManifestEntry::approx_size)
            .sum()
    }

    /// Selected entries whose licence still needs accepting.
    pub fn unaccepted(&self) -> Vec<&ManifestEntry> {
        self.entries()
            .iter()
            .filter(|e| self.selected.contains(&e.name))
            .filter(|e| e.licence_restricted() && !self.accepted.contains(&e.name))
            .collect()
    }

    /// Whether a role has a model now.
    pub fn role_found(&self, role: crate::studio::ModelRole) -> Option<bool> {
        self.roles
            .iter()
            .find(|s| s.role == role)
            .map(|s| s.found.is_ok())
    }

    /// Preselects the recommended entries (the first-run set).
    pub fn select_recommended(&mut self) {
        let names: Vec<String> = self
            .entries()
            .iter()
            .filter(|e| e.recommended && e.repo.is_some())
            .map(|e| e.name.clone())
            .collect();
        self.selected.extend(names);
    }

    /// Takes what the download thread sent; returns whether it finished.
    pub fn drain(&mut self) -> bool {
        let Some(download) = &mut self.download else {
            return false;
        };
        let mut finished = false;
        let mut messages = Vec::new();
        while let Ok(msg) = download.rx.try_recv() {
            match msg {
                DownloadMsg::Event(entry, event) => {
                    download.entry = entry;
                    match event {
                        FetchEvent::Started {
                            file,
                            total,
                            resumed_from,
                        } => {
                            (download.file, download.total, download.done) =
                                (file, total, resumed_from);
                        }
                        FetchEvent::Progress { done, total, .. } => {
                            (download.done, download.total) = (done, total);
                        }
                        _ => {}
                    }
                }
                DownloadMsg::Finished(entry, Ok(dir)) => {
                    self.selected.remove(&entry);
                    messages.push((format!("{entry} installed in {}", dir.display()), false));
                }
                DownloadMsg::Finished(entry, Err(e)) => {
                    messages.push((format!("{entry}: {e}"), true));
                }
                DownloadMsg::AllDone => finished = true,
            }
        }
        if let Some(last) = messages
            .into_iter()
            .reduce(|a, b| if a.1 && !b.1 { a } else { b })
        {
            self.message = Some(last);
        }
        if finished {
            self.download = None;
        }
        finished
    }
}

/// One entry to fetch and the folder it goes to.
pub type FetchJob = (ManifestEntry, PathBuf, FetchOptions);

/// Starts the download thread over `jobs`; `notify` wakes the UI.
pub fn spawn_download(
    jobs: Vec<FetchJob>,
    notify: impl Fn() + Send + 'static,
) -> std::io::Result<DownloadState> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let first = jobs.first().map(|j| j.0.name.clone()).unwrap_or_default();
    std::thread::Builder::new()
        .name("adstudio-model-download".into())
        .spawn(move || run_downloads(jobs, &tx, &flag, &notify))?;
    Ok(DownloadState {
        entry: first,
        file: String::new(),
        done: 0,
        total: 0,
        cancel,
        rx,
    })
}

fn run_downloads(
    jobs: Vec<FetchJob>,
    tx: &Sender<DownloadMsg>,
    cancel: &AtomicBool,
    notify: &dyn Fn(),
) {
    let settings = HubSettings::from_env();
    for (entry, dir, options) in jobs {
        let name = entry.name.clone();
        let mut on_event = |event: FetchEvent| {
            // The app may have closed; then nobody listens.
            let _ = tx.send(DownloadMsg::Event(name.clone(), event));
            notify();
        };
        let result = fetch_entry(&settings, &entry, &dir, options, &mut on_event, cancel);
        let _ = tx.send(DownloadMsg::Finished(
            name,
            result.map(|i| i.dir).map_err(|e| e.to_string()),
        ));
        notify();
        if cancel.load(Ordering::SeqCst) {
            break;
        }
    }
    let _ = tx.send(DownloadMsg::AllDone);
    notify();
}
