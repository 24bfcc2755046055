//! The studio application: state, commands and applying job outputs.
//!
//! - [`StudioApp`] holds the state and carries out [`Command`]s, turning
//!   them into state changes and jobs on two workers over the headless
//!   core ([`crate::studio`]);
//! - the `*_state` modules are the tools' state, [`UiPrefs`] what persists;
//! - the `*_flow` modules are the commands' handlers, [`events`] routes
//!   the workers' typed events, [`views`] makes display images on the
//!   worker (textures are made on the UI thread);
//! - the labelling mode runs its session on a third worker, [`LabelDesk`]
//!   (its own store connection), whose replies ([`LabelReply`]) carry the
//!   blind pair's display images; [`label_key`] maps its keys.
//!
//! Drawing is `crate::ui`'s: it reads this state and pushes commands; this
//! module never imports `ui`.

mod adapters_flow;
mod adapters_state;
mod availability;
mod catalog_flow;
mod catalog_state;
mod command;
mod draft_flow;
mod events;
mod gallery;
mod label_desk;
mod label_flow;
mod label_keys;
mod label_output;
mod label_state;
mod model_manager;
mod models_flow;
mod online_flow;
mod online_state;
mod output;
mod prefs;
mod product_flow;
mod queue_flow;
mod queue_state;
mod render_flow;
mod scores_state;
mod session;
mod status;
mod studio_app;
mod suggest_state;
mod tools_flow;
mod training_state;
pub mod views;

/// The queue's rows as the Queue window draws them.
pub use crate::queue::JobState;
pub use crate::studio::queue_view::{QueueJobView, QueueSnapshot};
pub use adapters_state::AdaptersState;
pub use availability::DiffusionAvailability;
pub use catalog_state::{CatalogState, ExportSettings, ExportState};
pub use command::Command;
pub use gallery::{CentralView, DoneTile, GalleryState, GalleryTile, TileKey, TileState};
pub use label_desk::LabelDesk;
pub use label_keys::{label_key, LabelKey};
pub use label_output::{LabelOutcome, LabelReply, LabelScreen, PairImages, PairRef, SideImage};
pub use label_state::{
    LabelScope, LabelScreenView, LabelState, PairView, PrefStatsState, RevealView, SideView,
    REVEAL_SECONDS,
};
pub use model_manager::{DownloadState, ModelManagerState};
pub use online_state::{OnlinePhase, OnlinePrefs, OnlineState};
pub use output::{AppOutput, MaskViews, ShownMask};
pub use prefs::{BrushSettings, CanvasView, UiPrefs};
pub use queue_state::{QueueState, QUEUE_REFRESH_SECS};
pub use scores_state::ScoresState;
pub use session::{ProductSession, ViewTextures};
pub use status::{StatusState, WorkerStatus};
pub use studio_app::{StudioApp, StudioConfig};
pub use suggest_state::{SuggestState, SuggestionEntry};
pub use training_state::TrainingState;

/// Types the panels name, re-exported so that `ui` imports only `app`.
pub use crate::jobs::JobId;
pub use crate::ml::reward::train::EpochReport;
pub use crate::ml::DevicePreference;
pub use crate::prefs::{
    kappa_text, Accuracy, GroupAgreement, LabelerAgreement, LabelerStats, PrefStats, ProductStats,
    RewardAgreement,
};
pub use crate::render::{RenderParams, SCHEDULER_NAMES};
pub use crate::store::{Outcome, PairItem, PreferenceCounts};
pub use crate::store::{ProductRow, RenderId};
pub use crate::studio::catalog::CatalogEntry;
pub use crate::studio::export::size::{SAFE_ZONE_BOTTOM, SAFE_ZONE_TOP};
pub use crate::studio::export::{ExportReport, ExportSize};
pub use crate::studio::labelling::{
    Answer, HiddenInfo, LabelItem, LabelProgress, PairCounts, Reveal, ShownPair,
};
pub use crate::studio::manifest::human_size;
pub use crate::studio::online::{duration_text, RoundEstimate, RoundReport};
pub use crate::studio::{AdapterInfo, SuggestSettings, TrainSettings, VariantScores};
pub use crate::studio::{ManifestEntry, ModelRole};
