//! The gallery of rendered variants (runtime state) and what the central
//! view shows.

use std::path::PathBuf;

use crate::jobs::JobId;
use crate::render::PngParams;
use crate::store::RenderId;

/// Identifies a tile for the lifetime of the gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey(pub u64);

/// What a tile shows.
pub enum TileState {
    /// Waiting for the model worker.
    Queued,
    /// Being rendered: step counter and the latest preview.
    Rendering {
        /// Finished steps.
        step: u64,
        /// Steps in all.
        total: u64,
        /// What the job does now (e.g. "loading models").
        label: String,
        /// The latest denoising preview.
        preview: Option<egui::TextureHandle>,
    },
    /// A finished image.
    Done(Box<DoneTile>),
    /// The render failed.
    Failed(String),
    /// The render was cancelled.
    Cancelled,
}

/// A finished image in the gallery.
pub struct DoneTile {
    /// The image texture.
    pub texture: egui::TextureHandle,
    /// Everything that reproduces it.
    pub params: PngParams,
    /// Its `renders` row, when stored.
    pub render_id: Option<RenderId>,
    /// The PNG file.
    pub path: PathBuf,
}

/// One variant in the gallery.
pub struct GalleryTile {
    /// Stable key.
    pub key: TileKey,
    /// The render job filling it, while one runs.
    pub job: Option<JobId>,
    /// The variant's seed.
    pub seed: u64,
    /// What it shows.
    pub state: TileState,
    /// Whether a draft job fills it (finished drafts also say so in their
    /// parameters).
    pub draft: bool,
}

impl GalleryTile {
    /// Whether it is (or will be) a draft.
    pub fn is_draft(&self) -> bool {
        self.draft || self.done().is_some_and(|d| d.params.request.params.draft)
    }

    /// The finished image, if the tile has one.
    pub fn done(&self) -> Option<&DoneTile> {
        match &self.state {
            TileState::Done(done) => Some(done),
            _ => None,
        }
    }
}

/// What the central area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CentralView {
    /// The canvas view (product, mask, canvas, edges).
    #[default]
    Canvas,
    /// One gallery image, large.
    Variant(TileKey),
    /// Two gallery images with a split slider.
    Compare(TileKey, TileKey),
}

/// The gallery: tiles in creation order, the compare selection and what the
/// central area shows.
#[derive(Default)]
pub struct GalleryState {
    /// Tiles, oldest first.
    pub tiles: Vec<GalleryTile>,
    /// Tiles picked for comparison (at most two, in picking order).
    pub selected: Vec<TileKey>,
    /// What the central area shows.
    pub central: CentralView,
    /// Position of the compare split, 0 (all B) to 1 (all A).
    pub split: f32,
    next_key: u64,
}

impl GalleryState {
    /// An empty gallery with the split in the middle.
    pub fn new() -> Self {
        Self {
            split: 0.5,
            ..Self::default()
        }
    }

    /// Adds a tile and returns its key.
    pub fn push(&mut self, job: Option<JobId>, seed: u64, state: TileState) -> TileKey {
        self.next_key += 1;
        let key = TileKey(self.next_key);
        self.tiles.push(GalleryTile {
            key,
            job,
            seed,
            state,
            draft: false,
        });
        key
    }

    /// The tile with this key, to change.
    pub fn tile_mut(&mut self, key: TileKey) -> Option<&mut GalleryTile> {
        self.tiles.iter_mut().find(|t| t.key == key)
    }

    /// The tile with this key.
    pub fn tile(&self, key: TileKey) -> Option<&GalleryTile> {
        self.tiles.iter().find(|t| t.key == key)
    }

    /// The tile a job is filling.
    pub fn tile_for_job(&mut self, job: JobId) -> Option<&mut GalleryTile> {
        self.tiles.iter_mut().find(|t| t.job == Some(job))
    }

    /// Whether a stored render is already shown.
    pub fn has_render(&self, id: RenderId) -> bool {
        self.tiles
            .iter()
            .any(|t| t.done().is_some_and(|d| d.render_id == Some(id)))
    }

    /// Removes one tile (and forgets it in the selection and the views).
    pub fn remove(&mut self, key: TileKey) {
        self.tiles.retain(|t| t.key != key);
        if self.selected.contains(&key) {
            self.toggle_selected(key);
        }
        if self.central == CentralView::Variant(key) {
            self.central = CentralView::Canvas;
        }
    }

    /// Removes every tile (another product was opened).
    pub fn clear(&mut self) {
        self.tiles.clear();
        self.selected.clear();
        self.central = CentralView::Canvas;
    }

    /// Unpicks every tile (a comparison goes back to the canvas).
    pub fn clear_selection(&mut self) {
        self.selected.clear();
        if matches!(self.central, CentralView::Compare(..)) {
            self.central = CentralView::Canvas;
        }
    }

    /// Picks or unpicks a tile; two picked tiles are compared (a third
    /// replaces the oldest).
    pub fn toggle_selected(&mut self, key: TileKey) {
        if let Some(pos) = self.selected.iter().position(|k| *k == key) {
            self.selected.remove(pos);
        } else {
            if self.selected.len() == 2 {
                self.selected.remove(0);
            }
            self.selected.push(key);
        }
        match self.selected.as_slice() {
            [a, b] => self.central = CentralView::Compare(*a, *b),
            _ => {
                if matches!(self.central, CentralView::Compare(..)) {
                    self.central = CentralView::Canvas;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gallery_with(n: usize) -> (GalleryState, Vec<TileKey>) {
        let mut g = GalleryState::new();
        let keys = (0..n)
            .map(|i| g.push(None, i as u64, TileState::Queued))
            .collect();
        (g, keys)
    }

    #[test]
    fn picking_two_tiles_compares_them_and_a_third_replaces_the_oldest() {
        let (mut g, k) = gallery_with(3);
        g.toggle_selected(k[0]);
        assert_eq!(g.central, CentralView::Canvas);
        g.toggle_selected(k[1]);
        assert_eq!(g.central, CentralView::Compare(k[0], k[1]));
        g.toggle_selected(k[2]);
        assert_eq!(g.central, CentralView::Compare(k[1], k[2]));
        g.toggle_selected(k[2]);
        assert_eq!(g.selected, vec![k[1]]);
        assert_eq!(g.central, CentralView::Canvas);
    }

    #[test]
    fn unpicking_leaves_a_single_image_view_alone() {
        let (mut g, k) = gallery_with(2);
        g.central = CentralView::Variant(k[1]);
        g.toggle_selected(k[0]);
        g.toggle_selected(k[0]);
        assert_eq!(g.central, CentralView::Variant(k[1]));
        g.remove(k[1]);
        assert_eq!(g.central, CentralView::Canvas);
        assert_eq!(g.tiles.len(), 1);
        g.clear();
        assert!(g.tiles.is_empty() && g.selected.is_empty());
        assert_eq!(g.central, CentralView::Canvas);
    }

    #[test]
    fn tiles_are_found_by_job() {
        let mut g = GalleryState::new();
        let key = g.push(Some(JobId(7)), 3, TileState::Queued);
        g.push(Some(JobId(8)), 4, TileState::Queued);
        assert_eq!(g.tile_for_job(JobId(7)).map(|t| t.key), Some(key));
        assert!(g.tile_for_job(JobId(9)).is_none());
    }
}
