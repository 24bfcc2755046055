//! The app's adapter side: listing the stored adapters and choosing the
//! one applied to the prompt model.

use crate::jobs::JobId;
use crate::studio::adapters::list_adapters;
use crate::studio::AdapterInfo;

use super::output::AppOutput;
use super::studio_app::StudioApp;

impl StudioApp {
    /// Lists the stored adapters again (a job on the studio worker: it
    /// reads the store).
    pub(super) fn refresh_adapters(&mut self) {
        if self.adapters.job.is_some() {
            return;
        }
        self.adapters.job = self.submit("Listing the adapters", |studio, _| {
            list_adapters(&studio.store).map(AppOutput::Adapters)
        });
    }

    /// Shows a listing.
    pub(super) fn show_adapters(&mut self, id: JobId, listed: Vec<AdapterInfo>) {
        if self.adapters.job == Some(id) {
            self.adapters.job = None;
        }
        self.adapters.listed = listed;
        self.adapters.loaded = true;
        self.adapters.error = None;
    }

    /// Makes `name` the active adapter (`None`: the base model alone);
    /// the prompt model applies it on the next suggestion job.
    pub(super) fn select_adapter(&mut self, name: Option<String>) {
        self.prefs.prompt_adapter = name;
    }

    /// New render parameters from the panel; a prompt typed over a used
    /// suggestion no longer records the adapter that wrote it.
    pub(super) fn set_render_params(&mut self, params: &crate::render::RenderParams) {
        let mut params = params.clone();
        if params.prompt != self.prefs.render.prompt {
            params.prompt_adapter = None;
        }
        self.prefs.render = params;
    }

    /// A failed or cancelled listing.
    pub(super) fn end_adapters_job(&mut self, id: JobId, error: Option<&str>) {
        if self.adapters.job == Some(id) {
            self.adapters.job = None;
            self.adapters.error = error.map(str::to_string);
        }
    }
}
