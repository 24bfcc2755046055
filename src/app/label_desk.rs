//! The labelling worker's side: its own store connection and the
//! [`LabelSession`], and one method per command the app sends. Every
//! method returns the screen to show; a label error is a refusal with the
//! reason, never a lost session.
//!
//! An answer names the pair it was given for ([`PairRef`]): when the
//! session's current pair is another one (the screen was stale), nothing
//! is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::jobs::{Steps, Worker, WorkerOptions};

use crate::paths::DataDir;
use crate::prefs::{prefs_stats, PrefStats, PrefsError};
use crate::store::{ImageStore, Store};
use crate::studio::labelling::{Answer, LabelError, LabelSession, Scope};

use super::label_output::{
    display_image, LabelOutcome, LabelReply, LabelScreen, PairImages, PairRef, SideImage,
};

/// How many decoded display images the desk keeps (the next pair often
/// shows an item of the last one).
const IMAGE_CACHE: usize = 8;

/// The labelling worker.
pub(super) type LabelWorker = Worker<LabelDesk, LabelReply, Steps>;

/// Starts the labelling worker on the store of `data_dir`; `repaint`
/// wakes the UI after each event.
pub(super) fn spawn_label_worker(
    data_dir: &DataDir,
    repaint: egui::Context,
) -> anyhow::Result<LabelWorker> {
    use anyhow::Context as _;
    let desk = LabelDesk::open(data_dir)?;
    Worker::spawn(
        desk,
        WorkerOptions {
            queue_capacity: 64,
            notify: Arc::new(move || repaint.request_repaint()),
        },
    )
    .context("starting the labelling worker")
}

/// The labelling worker's resources.
pub struct LabelDesk {
    store: Store,
    images: ImageStore,
    session: Option<LabelSession>,
    cache: HashMap<PathBuf, SideImage>,
    cache_order: Vec<PathBuf>,
}

impl LabelDesk {
    /// A desk over an open store.
    pub fn new(store: Store, images: ImageStore) -> Self {
        Self {
            store,
            images,
            session: None,
            cache: HashMap::new(),
            cache_order: Vec::new(),
        }
    }

    /// Opens the store of `data_dir` with a connection of its own.
    pub fn open(data_dir: &DataDir) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let location = data_dir.store_location();
        let store = Store::open_location(&location)
            .with_context(|| format!("opening the store {location} for labelling"))?;
        Ok(Self::new(store, ImageStore::new(data_dir.images_dir())))
    }

    /// Opens a session for `labeler` over `scope` (replacing any other).
    pub fn start(&mut self, labeler: &str, scope: &Scope, seed: u64) -> LabelReply {
        match LabelSession::open(&self.store, &self.images, labeler, scope, seed) {
            Ok(session) => {
                self.session = Some(session);
                self.reply(LabelOutcome::Opened)
            }
            Err(error) => {
                self.session = None;
                LabelReply::Screen {
                    screen: None,
                    outcome: LabelOutcome::Refused(error.to_string()),
                }
            }
        }
    }

    /// Commits `answer` for the pair `expected`, when it is still the
    /// current pair.
    pub fn answer(&mut self, expected: PairRef, answer: Answer) -> LabelReply {
        let Some(session) = self.session.as_mut() else {
            return no_session();
        };
        if session.current().map(PairRef::of) != Some(expected) {
            return self.reply(LabelOutcome::Refused(
                "the pair changed before the answer arrived; nothing was recorded".into(),
            ));
        }
        match session.answer(&self.store, answer) {
            Ok(committed) => self.reply(LabelOutcome::Labelled {
                id: committed.id,
                answer,
                reveal: Box::new(committed.reveal),
            }),
            Err(error) => self.refused(&error),
        }
    }

    /// Retracts the labeler's last label.
    pub fn undo(&mut self) -> LabelReply {
        let Some(session) = self.session.as_mut() else {
            return no_session();
        };
        match session.undo(&self.store) {
            Ok(undone) => self.reply(LabelOutcome::Undone(undone)),
            Err(error) => self.refused(&error),
        }
    }

    /// Reads the pool and the labels again.
    pub fn reload(&mut self) -> LabelReply {
        let Some(session) = self.session.as_mut() else {
            return no_session();
        };
        match session.reload(&self.store, &self.images) {
            Ok(()) => self.reply(LabelOutcome::Reloaded),
            Err(error) => self.refused(&error),
        }
    }

    /// The store's preference statistics.
    pub fn stats(&self) -> Result<PrefStats, PrefsError> {
        prefs_stats(&self.store)
    }

    /// A failed command: says why, after reading the pool again so that
    /// a deleted render or creative is no longer offered (a reload that
    /// fails too is added to the reason).
    fn refused(&mut self, error: &LabelError) -> LabelReply {
        let mut reason = error.to_string();
        if matches!(error, LabelError::Store(_)) {
            if let Some(session) = self.session.as_mut() {
                if let Err(again) = session.reload(&self.store, &self.images) {
                    reason = format!("{reason}; reading the store again failed: {again}");
                }
            }
        }
        self.reply(LabelOutcome::Refused(reason))
    }

    fn reply(&mut self, outcome: LabelOutcome) -> LabelReply {
        LabelReply::Screen {
            screen: self.screen().map(Box::new),
            outcome,
        }
    }

    /// The session's screen, with the current pair's display images.
    fn screen(&mut self) -> Option<LabelScreen> {
        let session = self.session.as_ref()?;
        let shown = session.current().cloned();
        let labeler = session.labeler().to_string();
        let progress = session.progress();
        let pair = shown.map(|shown| PairImages {
            left: self.image(&shown.left.image_path),
            right: self.image(&shown.right.image_path),
            shown,
        });
        Some(LabelScreen {
            labeler,
            pair,
            progress,
        })
    }

    fn image(&mut self, path: &Path) -> SideImage {
        if let Some(found) = self.cache.get(path) {
            return found.clone();
        }
        let decoded = display_image(path);
        if decoded.is_ok() {
            if self.cache_order.len() >= IMAGE_CACHE {
                let oldest = self.cache_order.remove(0);
                self.cache.remove(&oldest);
            }
            self.cache_order.push(path.to_path_buf());
            self.cache.insert(path.to_path_buf(), decoded.clone());
        }
        decoded
    }
}

fn no_session() -> LabelReply {
    LabelReply::Screen {
        screen: None,
        outcome: LabelOutcome::Refused("no labelling session is open".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::store::{NewProduct, NewRender, PairItem, ProductSettings};
    use crate::studio::labelling::Scope;

    /// A desk over a temporary store with one product of three renders;
    /// the first two have image files, the third has none.
    fn desk(dir: &Path) -> LabelDesk {
        let store = Store::open(&dir.join("store.db")).unwrap();
        let product = store
            .insert_product(&NewProduct {
                title: "mug".into(),
                source_name: "mug.png".into(),
                image_hash: "0".repeat(64),
                image_ext: "png".into(),
                width: 8,
                height: 8,
                has_transparency: false,
                settings: ProductSettings {
                    mask_settings_json: json!({}),
                    mask_edits_json: json!([]),
                    canvas_settings_json: json!({}),
                },
            })
            .unwrap();
        for i in 0..3u8 {
            let path = dir.join(format!("r{i}.png"));
            if i < 2 {
                image::RgbaImage::from_pixel(8, 8, image::Rgba([i * 100, 0, 0, 255]))
                    .save(&path)
                    .unwrap();
            }
            store
                .insert_render(&NewRender {
                    product_id: product,
                    params_json: json!({"prompt": format!("prompt {i}")}),
                    seed: u64::from(i),
                    model_ids_json: json!([]),
                    image_hash: "1".repeat(64),
                    image_path: path.display().to_string(),
                    width: 8,
                    height: 8,
                })
                .unwrap();
        }
        LabelDesk::new(store, ImageStore::new(dir.join("images")))
    }

    fn screen(reply: LabelReply) -> (Option<Box<LabelScreen>>, LabelOutcome) {
        match reply {
            LabelReply::Screen { screen, outcome } => (screen, outcome),
            LabelReply::Stats(_) => panic!("a screen was expected"),
        }
    }

    #[test]
    fn answers_for_the_shown_pair_commit_and_stale_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = desk(dir.path());
        let (shown, outcome) = screen(desk.start("ana", &Scope::All, 7));
        assert!(matches!(outcome, LabelOutcome::Opened), "{outcome:?}");
        let shown = shown.unwrap();
        let pair = shown.pair.as_ref().unwrap();
        for (side, item) in [
            (&pair.left, pair.shown.left.item),
            (&pair.right, pair.shown.right.item),
        ] {
            let has_file = item != PairItem::Render(crate::store::RenderId(3));
            assert_eq!(side.is_ok(), has_file, "{item:?}");
        }
        let expected = PairRef::of(&pair.shown);
        let stale = PairRef {
            left: expected.right,
            right: expected.left,
        };
        let (_, refused) = screen(desk.answer(stale, Answer::Left));
        assert!(matches!(refused, LabelOutcome::Refused(_)), "{refused:?}");
        assert!(desk.store.preferences().unwrap().is_empty());

        let (next, labelled) = screen(desk.answer(expected, Answer::Left));
        let LabelOutcome::Labelled { id, answer, reveal } = labelled else {
            panic!("labelled expected");
        };
        assert_eq!(answer, Answer::Left);
        assert_eq!(reveal.left.item, expected.left);
        let rows = desk.store.preferences().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].labeler, "ana");
        let next = next.unwrap();
        assert_eq!(next.progress.overall.labelled, 1);
        assert_eq!(next.progress.overall.remaining, 2);

        let (_, undone) = screen(desk.undo());
        assert!(
            matches!(undone, LabelOutcome::Undone(Some(_))),
            "{undone:?}"
        );
        assert!(!desk.store.preferences().unwrap()[0].is_active());
        assert_eq!(desk.stats().unwrap().retracted, 1);
    }

    #[test]
    fn commands_without_a_session_or_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = desk(dir.path());
        let (none, outcome) = screen(desk.undo());
        assert!(none.is_none());
        assert!(matches!(outcome, LabelOutcome::Refused(_)));
        let (none, outcome) = screen(desk.start("  ", &Scope::All, 1));
        assert!(none.is_none());
        let LabelOutcome::Refused(reason) = outcome else {
            panic!("refused expected");
        };
        assert!(reason.contains("name"), "{reason}");
    }
}
