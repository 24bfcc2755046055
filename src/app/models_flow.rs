//! The model manager's commands: open it (on first start with the
//! recommended set picked), pick entries, accept licences, fetch on the
//! download thread, cancel, and rescan the registry when it is done.

use crate::studio::download::FetchOptions;
use crate::studio::{Manifest, ModelRole};

use super::model_manager::spawn_download;
use super::studio_app::StudioApp;

impl StudioApp {
    /// Reads the manifest (built-in + the data dir's) for the manager.
    pub(super) fn load_manifest(&mut self) {
        let models_dir = self.data_root.join("models");
        self.model_manager.manifest =
            Some(Manifest::load(Some(&models_dir)).map_err(|e| e.to_string()));
    }

    /// Opens or closes the manager.
    pub(super) fn show_model_manager(&mut self, open: bool) {
        if open && self.model_manager.manifest.is_none() {
            self.load_manifest();
        }
        self.model_manager.open = open;
        if open {
            self.model_manager.roles = self.models.status();
        }
    }

    /// Opens the manager with `role`'s default entry picked (Render or
    /// Suggest found it missing).
    pub(super) fn offer_fetch(&mut self, role: ModelRole) {
        self.show_model_manager(true);
        let name = match &self.model_manager.manifest {
            Some(Ok(m)) => m.default_for(role).map(|e| e.name.clone()),
            _ => None,
        };
        if let Some(name) = name {
            self.model_manager.selected.insert(name);
        }
    }

    /// The first start: the manager opens with the recommended set picked.
    pub(super) fn open_first_run(&mut self) {
        self.show_model_manager(true);
        self.model_manager.first_run = true;
        self.model_manager.select_recommended();
    }

    /// Picks or unpicks an entry.
    pub(super) fn toggle_model(&mut self, name: &str) {
        let selected = &mut self.model_manager.selected;
        if !selected.remove(name) {
            selected.insert(name.to_string());
        }
    }

    /// Accepts (or withdraws acceptance of) an entry's licence.
    pub(super) fn accept_licence(&mut self, name: &str, accepted: bool) {
        let set = &mut self.model_manager.accepted;
        if accepted {
            set.insert(name.to_string());
        } else {
            set.remove(name);
        }
    }

    /// Starts downloading the picked entries on the download thread.
    pub(super) fn fetch_selected(&mut self) {
        let mm = &mut self.model_manager;
        if mm.download.is_some() {
            return;
        }
        if let Some(e) = mm.unaccepted().first() {
            mm.message = Some((
                format!("accept the {} licence of {} first", e.licence, e.name),
                true,
            ));
            return;
        }
        let registry = self.models.registry();
        let jobs: Vec<_> = mm
            .entries()
            .iter()
            .filter(|e| mm.selected.contains(&e.name) && e.repo.is_some())
            .map(|e| {
                let options = FetchOptions {
                    accept_licence: mm.accepted.contains(&e.name),
                };
                (e.clone(), registry.install_dir(e.role), options)
            })
            .collect();
        if jobs.is_empty() {
            mm.message = Some(("pick a model that is on the hub first".into(), true));
            return;
        }
        let ctx = self.ctx.clone();
        match spawn_download(jobs, move || ctx.request_repaint()) {
            Ok(download) => {
                mm.download = Some(download);
                mm.message = None;
            }
            Err(e) => mm.message = Some((format!("could not start the download: {e}"), true)),
        }
    }

    /// Stops the download (what arrived is kept and resumed next time).
    pub(super) fn cancel_fetch(&mut self) {
        if let Some(d) = &self.model_manager.download {
            d.cancel();
        }
    }

    /// Takes the download thread's news; a finished download rescans the
    /// models so Render and Suggest see them.
    pub(super) fn drain_downloads(&mut self) {
        if self.model_manager.drain() {
            self.model_manager.roles = self.models.status();
            self.rescan_models();
        }
    }
}
