//! What the studio's jobs hand back to the app: the core's typed outputs,
//! plus display images made on the worker (plain pixels: textures are made
//! on the UI thread).

use std::sync::Arc;

use image::RgbaImage;

use crate::store::ProductRow;
use crate::studio::gallery::StoredRenders;
use crate::studio::{
    MaskBuild, OpenedProduct, RenderedImage, SuggestOutcome, TrainOutcome, VariantScores,
};

/// The display images of one mask build.
#[derive(Clone)]
pub struct MaskViews {
    /// The mask overlay for the product view (background tinted).
    pub overlay: Arc<RgbaImage>,
    /// The placed product on a checkerboard.
    pub canvas: Arc<RgbaImage>,
    /// The inpaint mask.
    pub inpaint: Arc<RgbaImage>,
    /// The ControlNet image.
    pub control: Arc<RgbaImage>,
}

/// A mask build and, when it succeeded, its display images.
pub struct ShownMask {
    /// The build.
    pub build: MaskBuild,
    /// Its display images.
    pub views: Option<MaskViews>,
}

/// What a job returns to the app.
pub enum AppOutput {
    /// A product was opened (new or from the store), with its first mask.
    Opened(Box<OpenedProduct>, Box<ShownMask>),
    /// The mask and canvas were rebuilt after a settings change or edit.
    MaskRebuilt(Box<ShownMask>),
    /// The stored products, newest first.
    Products(Vec<ProductRow>),
    /// A change was saved; nothing to show.
    Saved,
    /// The stored renders of the open product, for the gallery.
    Gallery(Box<StoredRenders>),
    /// A dropped PNG written by adstudio: shown, its parameters recalled.
    DroppedRender(Box<RenderedImage>),
    /// The model registry's state (after a rescan).
    Models(Vec<crate::studio::RoleStatus>),
    /// One variant was rendered and saved.
    Rendered(Box<RenderedImage>),
    /// The stored adapters, newest first.
    Adapters(Vec<crate::studio::AdapterInfo>),
    /// Background suggestions were written.
    Suggested(SuggestOutcome),
    /// A product's variants were scored (or their stored scores read).
    Scored(Option<Box<VariantScores>>),
    /// The reward model was trained and saved.
    Trained(TrainOutcome),
    /// The estimate of an online run.
    OnlineEstimate(Box<crate::studio::online::RoundEstimate>),
    /// Online rounds finished (or were stopped after some rounds).
    Online(Box<crate::studio::online::OnlineOutcome>),
    /// The catalog was listed (newest product first).
    Catalog(Vec<crate::studio::catalog::CatalogEntry>),
    /// Winners were exported.
    Exported(Box<crate::studio::export::ExportReport>),
    /// The team queue was read (or why not).
    Queue(Result<crate::studio::queue_view::QueueSnapshot, String>),
    /// A queued job was cancelled or retried: whether it applied (or why
    /// it failed).
    QueueChanged(crate::studio::queue_view::QueueAction, Result<bool, String>),
}
