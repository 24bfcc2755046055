//! The headless studio core: what a person runs, without a window.
//!
//! The GUI's workers, the command line and (later) batch runs and team
//! workers call these same functions. Each operation is a function taking a
//! [`Reporter`](crate::jobs::Reporter) for typed [`Progress`] and cancel,
//! and returning a typed output:
//!
//! | operation | function | output |
//! |---|---|---|
//! | open a product | [`product::open_file`], [`product::open_stored`] | [`OpenedProduct`] |
//! | mask and place it | [`product::rebuild_mask`], [`product::prepare_file`] | [`MaskBuild`], [`PreparedProduct`] |
//! | suggest backgrounds | [`suggest::suggest`] | [`SuggestOutcome`] |
//! | render variants | [`render::render_and_save`], [`render::render_variant`] | [`RenderedImage`] |
//! | score variants | [`score::score_variants`], [`score::rank_images`] | [`VariantScores`], [`Ranking`] |
//! | train the reward model | [`train::train_reward_model`] | [`TrainOutcome`] |
//! | catalog batch (suggest, render, rank, winners) | [`batch::run_batch`] | [`batch::BatchOutcome`] |
//! | online PCPO rounds | [`online::run_online`], [`online::estimate_online`] | [`online::OnlineOutcome`] |
//! | label pairs (A vs B) | [`labelling::LabelSession`] | [`labelling::Committed`] |
//! | export winners at ad sizes | [`export::export_winners`] | [`export::ExportReport`] |
//! | PCPO vs DPO experiment | [`experiment::run_experiment`] | [`experiment::ExperimentReport`] |
//!
//! Models come from one [`ModelHub`]: a [`ModelRegistry`] that finds each
//! [`ModelRole`] by one rule, and caches that load lazily and reload when a
//! model's files change. Nothing here knows about egui.

pub mod adapter_record;
pub mod adapters;
pub mod batch;
pub mod cache;
pub mod catalog;
pub mod download;
pub mod engines;
pub mod experiment;
pub mod export;
pub mod gallery;
pub mod hub;
pub mod labelling;
pub mod manifest;
pub mod online;
pub mod pcpo_data;
pub mod pcpo_model;
pub mod product;
pub mod progress;
pub mod registry;
pub mod render;
pub mod roles;
pub mod score;
pub mod suggest;
pub mod train;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

pub use adapters::{ActiveAdapter, AdapterInfo};
pub use hub::ModelHub;
pub use manifest::{Manifest, ManifestEntry, ManifestError, ManifestFile};
pub use product::{MaskBuild, MaskRequest, MaskedProduct, OpenedProduct, PreparedProduct};
pub use progress::{Progress, RenderStep, SuggestProgress};
pub use registry::{Located, MissingModel, ModelRegistry, ModelRole, Origin, RoleStatus};
pub use render::{RenderedImage, VariantJob};
pub use score::{Ranking, ScoreJob, VariantRef, VariantScores};
pub use suggest::{SuggestJob, SuggestOutcome, SuggestSettings};
pub use train::{TrainJob, TrainOutcome, TrainSettings};

use crate::paths::DataDir;
use crate::store::{ImageStore, Store};

/// What studio operations work with: a store connection, the image files
/// and the shared model hub. Each worker thread has its own `Studio` (its
/// own connection) over the same hub.
pub struct Studio {
    /// The SQLite store.
    pub store: Store,
    /// Content-addressed image files.
    pub images: ImageStore,
    /// The models, shared.
    pub models: Arc<ModelHub>,
    /// The last base mask, reused while only refinements change.
    pub mask_cache: Option<product::BaseMaskCache>,
}

impl Studio {
    /// A studio over an open store.
    pub fn new(store: Store, images: ImageStore, models: Arc<ModelHub>) -> Self {
        Self {
            store,
            images,
            models,
            mask_cache: None,
        }
    }

    /// Opens the store of `data_dir` (creating it when new).
    pub fn open(data_dir: &DataDir, models: Arc<ModelHub>) -> anyhow::Result<Self> {
        let location = data_dir.store_location();
        let store = Store::open_location(&location)
            .with_context(|| format!("opening the store {location}"))?;
        Ok(Self::new(
            store,
            ImageStore::new(data_dir.images_dir()),
            models,
        ))
    }
}

/// The registry of a run with data directory `data_dir` (when known):
/// environment variables, `<data dir>/models`, then `./models`.
pub fn registry_for(data_dir: Option<&DataDir>) -> ModelRegistry {
    let models_dir = data_dir.map(DataDir::models_dir);
    let mut registry = ModelRegistry::from_env(models_dir.clone());
    match Manifest::load(models_dir.as_deref()) {
        Ok(manifest) => manifest.apply_local(&mut registry),
        Err(e) => log::warn!("{e}; its [local] paths are ignored"),
    }
    registry
}

/// A short display name of a path: its last component (or the whole path).
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
