//! The export's error type.

use std::path::PathBuf;

use crate::jobs::Cancelled;
use crate::product::ProductError;
use crate::store::StoreError;

/// Everything that can stop an export (or one file of it). Messages name
/// the product, the size and the file involved.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A size name that is neither a preset nor `WIDTHxHEIGHT`.
    #[error("unknown export size {given:?}; use one of {known} or WIDTHxHEIGHT (e.g. 1600x900)")]
    UnknownSize {
        /// What was asked for.
        given: String,
        /// The preset names, comma-separated.
        known: String,
    },
    /// A custom `WIDTHxHEIGHT` out of range.
    #[error("export size {given:?}: {reason}")]
    BadCustomSize {
        /// What was asked for.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No size was asked for.
    #[error("no export size given; use one of {known} or WIDTHxHEIGHT")]
    NoSizes {
        /// The preset names, comma-separated.
        known: String,
    },
    /// A product id that is not in the store.
    #[error("product {0} is not in the store")]
    UnknownProduct(i64),
    /// The store holds no product at all.
    #[error("the store has no products to export")]
    NoProducts,
    /// The product has no render with a reward-model score.
    #[error(
        "product {product} ({title:?}) has no scored renders ({renders} renders); \
         render and score variants first"
    )]
    NoScoredRenders {
        /// The product id.
        product: i64,
        /// Its title.
        title: String,
        /// How many renders it has.
        renders: usize,
    },
    /// The export size's aspect ratio differs from the render's canvas.
    #[error(
        "{size} is {width}x{height} (aspect {:.3}) but the render is {render_w}x{render_h} \
         (aspect {:.3}); render the product at a canvas of the size's aspect",
        f64::from(*width) / f64::from(*height),
        f64::from(*render_w) / f64::from(*render_h)
    )]
    AspectMismatch {
        /// The size's name.
        size: String,
        /// Export width.
        width: u32,
        /// Export height.
        height: u32,
        /// Render width.
        render_w: u32,
        /// Render height.
        render_h: u32,
    },
    /// Cropping the upscaled render to the size would cut the product.
    #[error("{size}: cropping the render to {width}x{height} would cut the product")]
    ProductCut {
        /// The size's name.
        size: String,
        /// Export width.
        width: u32,
        /// Export height.
        height: u32,
    },
    /// A render whose stored parameters do not describe its canvas.
    #[error("render {render}: {reason}")]
    BadRender {
        /// The render id.
        render: i64,
        /// What is wrong.
        reason: String,
    },
    /// A stored image could not be decoded.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being read.
        what: String,
        /// The decoder's error.
        source: image::ImageError,
    },
    /// The output folder cannot be created or is not a folder.
    #[error("cannot use the output folder {}: {source}", path.display())]
    OutputDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The disk filled up while writing a file; nothing was left behind.
    #[error("disk full while writing {}; free some space and export again (files already written are complete)", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
    },
    /// A file could not be written; nothing was left behind.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Encoding an image failed.
    #[error("cannot encode {}: {source}", path.display())]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The encoder's error.
        source: image::ImageError,
    },
    /// Nothing could be exported; every reason is listed.
    #[error("nothing was exported:\n  {}", skipped.join("\n  "))]
    NothingExported {
        /// Why each product or size was skipped.
        skipped: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The product image or mask could not be used.
    #[error(transparent)]
    Product(#[from] ProductError),
    /// The export was cancelled; files already written are complete.
    #[error("export cancelled")]
    Cancelled(#[from] Cancelled),
}

impl ExportError {
    /// The error for an I/O failure while writing `path` (disk full gets
    /// its own message).
    pub fn write(path: PathBuf, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                ExportError::DiskFull { path }
            }
            _ => ExportError::Write { path, source },
        }
    }
}
