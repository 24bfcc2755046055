//! What the labelling worker hands back to the app: the labelling screen
//! (the blind pair with its display images, progress) and what the last
//! command did (a label with its reveal, an undo, a refusal), or the
//! preference statistics. Plain pixels only: textures are made on the UI
//! thread.

use std::path::Path;
use std::sync::Arc;

use image::RgbaImage;

use crate::prefs::PrefStats;
use crate::store::{PairItem, PreferenceId};
use crate::studio::labelling::{Answer, LabelProgress, Reveal, ShownPair, Undone};

/// The longest side of a display image, in pixels (larger images are
/// scaled down on the worker).
pub const LABEL_IMAGE_MAX_SIDE: u32 = 1024;

/// A display image of one side, or why it could not be read.
pub type SideImage = Result<Arc<RgbaImage>, String>;

/// Identifies the pair an answer refers to (what was on screen when the
/// key was pressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairRef {
    /// The left item.
    pub left: PairItem,
    /// The right item.
    pub right: PairItem,
}

impl PairRef {
    /// The reference of a shown pair.
    pub fn of(pair: &ShownPair) -> PairRef {
        PairRef {
            left: pair.left.item,
            right: pair.right.item,
        }
    }
}

/// The blind pair with its two display images.
#[derive(Clone)]
pub struct PairImages {
    /// What may be shown (no prompt, seed or score).
    pub shown: ShownPair,
    /// The left image.
    pub left: SideImage,
    /// The right image.
    pub right: SideImage,
}

/// The labelling screen after a command.
#[derive(Clone)]
pub struct LabelScreen {
    /// Whom the labels are recorded for.
    pub labeler: String,
    /// The pair to label, or `None` when nothing is left in scope.
    pub pair: Option<PairImages>,
    /// Labelled and remaining pairs.
    pub progress: LabelProgress,
}

/// What the command that produced a screen did.
#[derive(Debug, Clone)]
pub enum LabelOutcome {
    /// A session was opened (or reopened with another scope or name).
    Opened,
    /// One label was committed.
    Labelled {
        /// Its `preferences` row (the COMMIT has returned); `None`: kept
        /// in the local outbox until the store is back.
        id: Option<PreferenceId>,
        /// The key the labeler pressed.
        answer: Answer,
        /// What labelling hid.
        reveal: Box<Reveal>,
    },
    /// The last label was retracted (`None`: there was none).
    Undone(Option<Undone>),
    /// The pool and labels were read again.
    Reloaded,
    /// Nothing was written; why.
    Refused(String),
}

/// What a labelling job returns.
pub enum LabelReply {
    /// The screen after a session command.
    Screen {
        /// The screen to show (`None` when no session could be opened).
        screen: Option<Box<LabelScreen>>,
        /// What the command did.
        outcome: LabelOutcome,
    },
    /// The preference statistics of the store.
    Stats(Box<PrefStats>),
}

/// Reads an image file for display, scaled down so its longest side is at
/// most [`LABEL_IMAGE_MAX_SIDE`]. The error names the file.
pub fn display_image(path: &Path) -> SideImage {
    let image = image::open(path)
        .map_err(|e| format!("{} could not be read: {e}", path.display()))?
        .to_rgba8();
    let (w, h) = image.dimensions();
    let longest = w.max(h);
    if longest <= LABEL_IMAGE_MAX_SIDE {
        return Ok(Arc::new(image));
    }
    let scale = f64::from(LABEL_IMAGE_MAX_SIDE) / f64::from(longest);
    let size = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    Ok(Arc::new(image::imageops::resize(
        &image,
        size(w),
        size(h),
        image::imageops::FilterType::Triangle,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_images_are_scaled_down_and_missing_files_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wide.png");
        RgbaImage::from_pixel(2048, 512, image::Rgba([1, 2, 3, 255]))
            .save(&path)
            .expect("save");
        let shown = display_image(&path).expect("decoded");
        assert_eq!(shown.dimensions(), (1024, 256));
        let small = dir.path().join("small.png");
        RgbaImage::from_pixel(30, 20, image::Rgba([1, 2, 3, 255]))
            .save(&small)
            .expect("save");
        assert_eq!(
            display_image(&small).expect("decoded").dimensions(),
            (30, 20)
        );
        let missing = dir.path().join("gone.png");
        let error = display_image(&missing).expect_err("missing file");
        assert!(error.contains("gone.png"), "{error}");
    }
}
