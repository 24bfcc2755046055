//! Drafts: "Draft" renders one 4-step LCM image with the render panel's
//! prompt and seed; "Render final" on a draft renders its prompt and seed
//! again with the render panel's settings. Both run as model jobs.

use super::gallery::TileKey;
use super::studio_app::StudioApp;

impl StudioApp {
    /// Why the Draft button is disabled, or `None` when it can draft.
    pub fn draft_blocker(&self) -> Option<String> {
        self.render_blocker()
            .or_else(|| self.diffusion.draft_blocker())
    }

    /// Starts a draft of the render panel's parameters.
    pub(super) fn start_draft(&mut self) {
        if let Some(reason) = self.draft_blocker() {
            self.status.message = Some((reason, true));
            return;
        }
        let params = self.prefs.render.as_draft();
        self.submit_variants(params);
    }

    /// Renders the draft in tile `key` again at full quality.
    pub(super) fn render_final(&mut self, key: TileKey) {
        let Some(done) = self.gallery.tile(key).and_then(|t| t.done()) else {
            return;
        };
        let request = &done.params.request;
        if !request.params.draft {
            return;
        }
        let open = self.session.as_ref().map(|s| s.product.canvas_settings);
        if open != Some(request.canvas) {
            self.status.message = Some((
                "This draft was made on another canvas; Recall it first, then Render final.".into(),
                true,
            ));
            return;
        }
        let params = request.params.final_of_draft(&self.prefs.render);
        self.submit_variants(params);
    }
}
