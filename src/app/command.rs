//! Commands: everything the panels ask the app to do.
//!
//! Panels never act directly; they push commands, and the app handles them
//! between frames (starting jobs, changing state). Drag-and-drop, shortcuts,
//! the file dialog and tests all go through the same commands.

use std::path::PathBuf;

use crate::product::{BrushStroke, CanvasSettings, MaskSettings};

use super::gallery::TileKey;

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
    /// Score every pair of the open product's variants with the reward model.
    ScoreVariants,
    /// Sort the gallery by score (best first) or not.
    SetSortByScore(bool),
    /// Open the reward-model Training window.
    ShowTraining,
    /// Train the reward model with the Training window's settings.
    StartTraining,
    /// Stop the running training job.
    CancelTraining,
    /// A file dropped onto the window: an adstudio PNG is recalled, any
    /// other image opened as a product.
    OpenDropped(PathBuf),
    /// Render the open product with the render panel's parameters.
    Render,
    /// Cancel every queued and running model job (renders).
    CancelModelJobs,
    /// Cancel one model job (a gallery tile's render).
    CancelModelJob(crate::jobs::JobId),
    /// Search the models folders again.
    RescanModels,
    /// Put a gallery image's parameters back into the render panel.
    Recall(TileKey),
}
