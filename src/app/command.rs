//! Commands: everything the panels ask the app to do.
//!
//! Panels never act directly; they push commands, and the app handles them
//! between frames (starting jobs, changing state). Drag-and-drop, shortcuts,
//! the file dialog and tests all go through the same commands.

use std::path::PathBuf;

use crate::product::{BrushStroke, CanvasSettings, MaskSettings};

use crate::render::RenderParams;
use crate::studio::{SuggestSettings, TrainSettings};

use super::gallery::{CentralView, TileKey};
use super::label_state::LabelScope;
use super::online_state::OnlinePrefs;
use super::prefs::{BrushSettings, CanvasView};
use crate::studio::labelling::Answer;

/// A request from the UI to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show the open-file dialog (on its own thread).
    ShowOpenDialog,
    /// Open a product image file (dialog, drop, CLI path).
    OpenPath(PathBuf),
    /// Reopen a product saved in the store.
    OpenStored(i64),
    /// Change the current product's mask settings.
    SetMaskSettings(MaskSettings),
    /// Change the current product's canvas settings.
    SetCanvasSettings(CanvasSettings),
    /// Change the current product's title.
    SetTitle(String),
    /// Add a finished brush stroke to the mask edits.
    CommitStroke(BrushStroke),
    /// Undo the last mask edit.
    Undo,
    /// Redo the last undone mask edit.
    Redo,
    /// Show or hide the mask overlay.
    ToggleMaskOverlay,
    /// Cancel every queued and running job.
    CancelJobs,
    /// Reload the list of stored products.
    RefreshProducts,
    /// Ask the prompt model for background suggestions (K from the prefs).
    Suggest,
    /// Write suggestion `i` again (only that one).
    RegenerateSuggestion(usize),
    /// Put suggestion `i` (as edited) into the render prompt.
    UseSuggestion(usize),
    /// Stop the running suggestion job.
    CancelSuggestions,
    /// List the stored PCPO adapters again.
    RefreshAdapters,
    /// Apply this adapter to the prompt model (`None`: the base model
    /// alone); persisted.
    SelectAdapter(Option<String>),
    /// Score every pair of the open product's variants with the reward model.
    ScoreVariants,
    /// Sort the gallery by score (best first) or not.
    SetSortByScore(bool),
    /// Open (true) or close the reward-model Training window.
    ShowTraining(bool),
    /// Train the reward model with the Training window's settings.
    StartTraining,
    /// Stop the running training job.
    CancelTraining,
    /// Open (true) or close the Online PCPO window.
    ShowOnline(bool),
    /// Change the Online PCPO window's settings.
    SetOnlinePrefs(OnlinePrefs),
    /// Measure costs and show how long the online rounds will take.
    EstimateOnline,
    /// Start the online rounds.
    StartOnline,
    /// Stop the online rounds (the finished rounds are kept).
    CancelOnline,
    /// A file dropped onto the window: an adstudio PNG is recalled, any
    /// other image opened as a product.
    OpenDropped(PathBuf),
    /// Render the open product with the render panel's parameters.
    Render,
    /// Render one quick draft (4 LCM steps, LCM-LoRA, TAESD) with the
    /// render panel's prompt and seed.
    Draft,
    /// Render a draft tile again at full quality: its prompt and seed with
    /// the render panel's settings.
    RenderFinal(TileKey),
    /// Cancel every queued and running model job (renders).
    CancelModelJobs,
    /// Cancel one model job (a gallery tile's render).
    CancelModelJob(crate::jobs::JobId),
    /// Search the models folders again.
    RescanModels,
    /// Put a gallery image's parameters back into the render panel.
    Recall(TileKey),
    /// Show another view of the product (source, canvas, masks, edges).
    SetView(CanvasView),
    /// Change the brush settings.
    SetBrush(BrushSettings),
    /// Change the render panel's parameters.
    SetRenderParams(RenderParams),
    /// Change the suggestion sampling settings.
    SetSuggestSettings(SuggestSettings),
    /// Change the Training window's settings.
    SetTrainSettings(TrainSettings),
    /// Replace suggestion `i`'s text (the user edited it).
    EditSuggestion(usize, String),
    /// Show the canvas, one image or a comparison in the central view.
    ShowCentral(CentralView),
    /// Pick or unpick a gallery tile for the comparison.
    ToggleSelected(TileKey),
    /// Unpick every gallery tile.
    ClearSelection,
    /// Remove a tile (a failed or cancelled render) from the gallery.
    DismissTile(TileKey),
    /// Move the comparison's split (0 = all B, 1 = all A).
    SetSplit(f32),
    /// Show (true) or leave the labelling mode.
    ShowLabelling(bool),
    /// Record labels under this name (persisted) and start labelling.
    SetLabeler(String),
    /// The name typed in the labeler prompt so far.
    SetLabelerDraft(String),
    /// Ask the labeler's name again.
    ChangeLabeler,
    /// Label the shown pair.
    LabelAnswer(Answer),
    /// Retract the labeler's last label and show its pair again.
    LabelUndo,
    /// Offer the pairs of every product or of the open one.
    SetLabelScope(LabelScope),
    /// Show the pair one image over the other with a divider (true) or
    /// side by side.
    SetLabelSplitView(bool),
    /// Read the products, renders and labels again.
    ReloadLabelling,
    /// Open (true) or close the preference statistics window.
    ShowPrefStats(bool),
    /// Read the preference statistics again.
    RefreshPrefStats,
    /// Open (true) or close the model manager.
    ShowModelManager(bool),
    /// Open the model manager with this role's default model picked.
    OfferFetch(crate::studio::ModelRole),
    /// Pick or unpick a manifest entry for download.
    ToggleModel(String),
    /// Accept (true) or withdraw acceptance of an entry's licence.
    AcceptLicence(String, bool),
    /// Download the picked entries.
    FetchModels,
    /// Stop the running download.
    CancelFetch,
    /// The compute device for the next start (persisted).
    SetDevice(crate::ml::DevicePreference),
    /// The store setting's text field changed (not saved yet).
    EditStoreSetting(String),
    /// The store for the next start (persisted; empty: the data dir's
    /// SQLite file).
    SetStore(String),
    /// Open (true, listing the products) or close the Catalog window.
    ShowCatalog(bool),
    /// List the catalog again.
    RefreshCatalog,
    /// Open (true) or close the Export winners dialog.
    ShowExport(bool),
    /// Change the Export winners dialog's settings.
    SetExportSettings(super::catalog_state::ExportSettings),
    /// Export the winners as the dialog says (on the model worker).
    StartExport,
    /// Stop the running export (finished files are kept).
    CancelExport,
    /// Show (true) or hide the Stories/Reels safe zones on 9:16 canvases
    /// (persisted).
    ShowSafeZones(bool),
}
