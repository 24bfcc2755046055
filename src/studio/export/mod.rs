//! Exporting a product's winners at ad-platform sizes, with the product
//! at the sharpness of its original photo.
//!
//! The winners of a product are its renders ranked by their stored reward
//! scores ([`winners::ranked_renders`]). For every size asked for
//! ([`ExportSize`]: Meta feed 1080x1080 and 1080x1350, Stories/Reels
//! 1080x1920, link ad 1200x628, marketplace 2000x2000 on white, custom
//! `WxH`), the top-k renders of that size's aspect are upscaled to it and
//! the product is resampled once from the original photo and the mask the
//! render was placed with, then blended over with its soft alpha
//! ([`compose`]). Files are written atomically ([`output`]) as
//! `<out>/<product id>/rank<r>-<size>.png` (or `<size>.png` on white).
//! Headless: the CLI's `export` and the studio's export dialog call
//! [`export_winners`].

pub mod compose;
pub mod error;
pub mod output;
pub mod plan;
pub mod size;
pub mod source;
pub mod winners;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::jobs::Reporter;
use crate::product::LayerMap;
use crate::store::{ProductId, RenderId};

use super::progress::Progress;
use super::Studio;

pub use compose::{compose, Composed};
pub use error::ExportError;
pub use output::{DiskWriter, FileWriter, OutputFormat};
pub use plan::ExportItem;
pub use size::{Backdrop, ExportSize};
pub use source::MaskOrigin;
pub use winners::{ranked_renders, Winner};

/// Which products to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductSelection {
    /// Every stored product (those without scored renders are skipped).
    All,
    /// These products (each must exist and have scored renders).
    Ids(Vec<ProductId>),
}

/// An export request.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// The products.
    pub products: ProductSelection,
    /// The sizes (at least one).
    pub sizes: Vec<ExportSize>,
    /// Renders per product and size (at least 1).
    pub top_k: usize,
    /// The output folder (created if missing).
    pub out_dir: PathBuf,
    /// PNG or JPEG.
    pub format: OutputFormat,
}

/// One written file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    /// The product.
    pub product: ProductId,
    /// The size's name.
    pub size: String,
    /// Rank among the product's renders of the size's aspect (none on white).
    pub rank: Option<usize>,
    /// The render behind the product (none on white).
    pub render: Option<RenderId>,
    /// The predicted CTR of that render, if scored with one.
    pub ctr: Option<f64>,
    /// The file.
    pub path: PathBuf,
    /// Where the original photo landed at the export size.
    #[serde(skip)]
    pub map: LayerMap,
    /// Where the mask came from.
    #[serde(skip)]
    pub mask: MaskOrigin,
}

/// What an export did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    /// The files written, in order.
    pub files: Vec<ExportedFile>,
    /// Why products or sizes were left out (nothing fatal).
    pub skipped: Vec<String>,
}

/// Runs an export on the real file system (see [`export_winners_with`]).
pub fn export_winners(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    job: &ExportJob,
) -> Result<ExportReport, ExportError> {
    export_winners_with(studio, rep, job, &DiskWriter)
}

/// Runs an export: plans every file first (unknown products and named
/// products without scores fail before anything is written), then writes
/// them one by one with progress; a cancel takes effect between files.
/// A file that cannot be made from its render (wrong aspect, product cut)
/// is a skip note; a write failure stops the export, keeping the files
/// already written (each is complete: written under a temporary name and
/// renamed). Fails with [`ExportError::NothingExported`] when no file was
/// written.
pub fn export_winners_with(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    job: &ExportJob,
    writer: &dyn FileWriter,
) -> Result<ExportReport, ExportError> {
    if job.sizes.is_empty() {
        return Err(ExportError::NoSizes {
            known: ExportSize::preset_names(),
        });
    }
    output::prepare_out_dir(&job.out_dir)?;
    let mut report = ExportReport::default();
    let items = plan_all(studio, job, &mut report.skipped)?;
    let mut sources: HashMap<ProductId, source::ProductSource> = HashMap::new();
    let total = items.len() as u64;
    for (done, item) in items.iter().enumerate() {
        rep.checkpoint()?;
        rep.steps(done as u64, total, &progress_label(item));
        match export_item(studio, &mut sources, item, job.format, writer) {
            Ok(file) => report.files.push(file),
            Err(
                err @ (ExportError::AspectMismatch { .. }
                | ExportError::ProductCut { .. }
                | ExportError::BadRender { .. }
                | ExportError::Decode { .. }
                | ExportError::Product(_)),
            ) => report.skipped.push(format!(
                "product {} {}: {err}",
                item.product.0,
                item.path.display()
            )),
            Err(err) => return Err(err),
        }
    }
    rep.steps(total, total, "done");
    if report.files.is_empty() {
        return Err(ExportError::NothingExported {
            skipped: report.skipped,
        });
    }
    Ok(report)
}

fn progress_label(item: &ExportItem) -> String {
    match item.rank {
        Some(rank) => format!("product {} rank {rank} {}", item.product.0, item.size.name),
        None => format!("product {} {}", item.product.0, item.size.name),
    }
}

/// Plans the files of every selected product.
fn plan_all(
    studio: &Studio,
    job: &ExportJob,
    skipped: &mut Vec<String>,
) -> Result<Vec<ExportItem>, ExportError> {
    let (rows, strict) = match &job.products {
        ProductSelection::All => (studio.store.list_products()?, false),
        ProductSelection::Ids(ids) => {
            let mut rows = Vec::with_capacity(ids.len());
            for &id in ids {
                rows.push(
                    studio
                        .store
                        .product(id)?
                        .ok_or(ExportError::UnknownProduct(id.0))?,
                );
            }
            (rows, true)
        }
    };
    if rows.is_empty() {
        return Err(ExportError::NoProducts);
    }
    let settings = (job.top_k.max(1), job.out_dir.as_path(), job.format);
    let mut items = Vec::new();
    for row in &rows {
        items.extend(plan::plan_product(
            &studio.store,
            row,
            &job.sizes,
            settings,
            strict,
            skipped,
        )?);
    }
    Ok(items)
}

/// Composes and writes one file.
fn export_item(
    studio: &Studio,
    sources: &mut HashMap<ProductId, source::ProductSource>,
    item: &ExportItem,
    format: OutputFormat,
    writer: &dyn FileWriter,
) -> Result<ExportedFile, ExportError> {
    let src = match sources.entry(item.product) {
        Entry::Occupied(entry) => entry.into_mut(),
        Entry::Vacant(entry) => {
            let row = studio
                .store
                .product(item.product)?
                .ok_or(ExportError::UnknownProduct(item.product.0))?;
            entry.insert(source::ProductSource::load(studio, row)?)
        }
    };
    let render = item.winner.as_ref().map(|w| &w.render);
    let (mask, origin) = src.mask_for(studio, render)?;
    let composed = match (&item.size.backdrop, render) {
        (Backdrop::Render, Some(render)) => {
            let canvas = src.canvas_for(render)?;
            let pixels = source::read_render(studio, render)?;
            compose(&src.image.rgba, &mask, &canvas, Some(&pixels), &item.size)?
        }
        _ => compose(
            &src.image.rgba,
            &mask,
            &Default::default(),
            None,
            &item.size,
        )?,
    };
    let bytes = format.encode(&composed.image, &item.path)?;
    output::write_atomically(writer, &item.path, &bytes)?;
    let behind = item
        .winner
        .as_ref()
        .filter(|_| item.size.backdrop == Backdrop::Render);
    Ok(ExportedFile {
        product: item.product,
        size: item.size.name.clone(),
        rank: item.rank,
        render: behind.map(|w| w.render.id),
        ctr: behind.and_then(|w| w.ctr),
        path: item.path.clone(),
        map: composed.map,
        mask: origin,
    })
}
