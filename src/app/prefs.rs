//! UI preferences that persist between runs (eframe storage).

use serde::{Deserialize, Serialize};

use crate::product::{BrushMode, CanvasSettings, MaskSettings};

use crate::render::RenderParams;
use crate::studio::{SuggestSettings, TrainSettings};

/// Which image the canvas view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CanvasView {
    /// The original product image, with the mask overlay when enabled.
    #[default]
    Product,
    /// The product placed on the ad canvas.
    Canvas,
    /// The inpaint mask (white = repainted).
    InpaintMask,
    /// The ControlNet edge image.
    Control,
}

impl CanvasView {
    /// Every view, in the order the UI lists them.
    pub const ALL: [CanvasView; 4] = [
        CanvasView::Product,
        CanvasView::Canvas,
        CanvasView::InpaintMask,
        CanvasView::Control,
    ];

    /// The view's label in the UI.
    pub fn label(self) -> &'static str {
        match self {
            CanvasView::Product => "Product",
            CanvasView::Canvas => "Ad canvas",
            CanvasView::InpaintMask => "Inpaint mask",
            CanvasView::Control => "Edges",
        }
    }
}

/// Brush settings for mask editing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrushSettings {
    /// Whether dragging on the product view paints the mask.
    pub enabled: bool,
    /// Paint product or background.
    pub mode: BrushMode,
    /// Brush radius in source-image pixels.
    pub radius: f32,
    /// Edge hardness, 0 (soft) to 1 (hard).
    pub hardness: f32,
}

impl Default for BrushSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            mode: BrushMode::Background,
            radius: 24.0,
            hardness: 0.8,
        }
    }
}

/// Everything about the UI that is remembered between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiPrefs {
    /// Show the mask overlay on the product view.
    pub show_mask_overlay: bool,
    /// Draw the Stories/Reels safe zones over 9:16 canvases.
    pub show_safe_zones: bool,
    /// The canvas view's current image.
    pub view: CanvasView,
    /// Brush settings.
    pub brush: BrushSettings,
    /// Mask settings given to newly opened products.
    pub default_mask: MaskSettings,
    /// Canvas settings given to newly opened products.
    pub default_canvas: CanvasSettings,
    /// The product that was open when the studio closed (store id).
    pub last_product: Option<i64>,
    /// Sampling settings of the Suggest button.
    pub suggest: SuggestSettings,
    /// The PCPO adapter applied to the prompt model, by name (`None`: the
    /// base model alone).
    pub prompt_adapter: Option<String>,
    /// Settings of the reward-model Training window.
    pub training: TrainSettings,
    /// Settings of the Online PCPO window.
    pub online: super::online_state::OnlinePrefs,
    /// Whether the gallery is sorted by score, best first.
    pub sort_by_score: bool,
    /// The render panel's parameters.
    pub render: RenderParams,
    /// The name labels are recorded under (empty: asked when the
    /// labelling mode opens).
    pub labeler: String,
    /// The compute device the studio starts on (`--device` wins).
    pub device: crate::ml::DevicePreference,
    /// The store the studio opens at start: a `postgres://` URL or an
    /// SQLite file; empty means the data dir's `adstudio.sqlite3`
    /// (`--store` and `ADSTUDIO_STORE` win).
    pub store: String,
}

impl Default for UiPrefs {
    fn default() -> Self {
        Self {
            show_mask_overlay: true,
            show_safe_zones: true,
            view: CanvasView::Product,
            brush: BrushSettings::default(),
            default_mask: MaskSettings::default(),
            default_canvas: CanvasSettings::default(),
            last_product: None,
            suggest: Default::default(),
            prompt_adapter: None,
            training: Default::default(),
            online: Default::default(),
            sort_by_score: false,
            render: RenderParams {
                n_variants: 4,
                ..RenderParams::default()
            },
            labeler: String::new(),
            device: crate::ml::DevicePreference::Auto,
            store: String::new(),
        }
    }
}

impl UiPrefs {
    /// The key under which the prefs live in eframe storage.
    pub const STORAGE_KEY: &'static str = "adstudio.ui_prefs";

    /// Reads the prefs from eframe storage; defaults when absent or unreadable.
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Self {
        storage
            .and_then(|s| s.get_string(Self::STORAGE_KEY))
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Writes the prefs to eframe storage.
    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        match serde_json::to_string(self) {
            Ok(text) => storage.set_string(Self::STORAGE_KEY, text),
            Err(err) => log::warn!("could not save UI preferences: {err}"),
        }
    }
}
