//! Which files an export writes: per product, the top-k scored renders of
//! each render-backed size's aspect, and one product-on-white image per
//! white size.

use std::path::{Path, PathBuf};

use crate::store::{ProductId, ProductRow, Store};

use super::error::ExportError;
use super::output::OutputFormat;
use super::size::ExportSize;
use super::winners::{ranked_renders, Winner};

/// One file to write.
#[derive(Debug, Clone)]
pub struct ExportItem {
    /// The product.
    pub product: ProductId,
    /// The size.
    pub size: ExportSize,
    /// The render behind the product; on white, the best render (its
    /// recorded mask is used), if any.
    pub winner: Option<Winner>,
    /// The rank among the product's renders of this size's aspect.
    pub rank: Option<usize>,
    /// Where the file goes.
    pub path: PathBuf,
}

/// The file of one export: `<out>/<product id>/rank<r>-<size>.<ext>`, or
/// `<out>/<product id>/<size>.<ext>` on white.
pub fn file_path(
    out: &Path,
    product: ProductId,
    rank: Option<usize>,
    size: &ExportSize,
    format: OutputFormat,
) -> PathBuf {
    let name = match rank {
        Some(r) => format!("rank{r}-{}.{}", size.name, format.extension()),
        None => format!("{}.{}", size.name, format.extension()),
    };
    out.join(product.0.to_string()).join(name)
}

/// What to export of one product. A product without scored renders is an
/// error when `strict` (it was named) and a skip note otherwise; a size
/// with no render of its aspect is a skip note.
pub fn plan_product(
    store: &Store,
    row: &ProductRow,
    sizes: &[ExportSize],
    (top_k, out, format): (usize, &Path, OutputFormat),
    strict: bool,
    skipped: &mut Vec<String>,
) -> Result<Vec<ExportItem>, ExportError> {
    let (ranked, n_renders) = ranked_renders(store, row.id)?;
    let needs_renders = sizes.iter().any(ExportSize::needs_render);
    if needs_renders && ranked.is_empty() {
        let err = ExportError::NoScoredRenders {
            product: row.id.0,
            title: row.title.clone(),
            renders: n_renders,
        };
        if strict {
            return Err(err);
        }
        skipped.push(err.to_string());
    }
    let mut items = Vec::new();
    for size in sizes {
        if !size.needs_render() {
            items.push(ExportItem {
                product: row.id,
                size: size.clone(),
                winner: ranked.first().cloned(),
                rank: None,
                path: file_path(out, row.id, None, size, format),
            });
            continue;
        }
        let matching: Vec<&Winner> = ranked
            .iter()
            .filter(|w| size.matches_aspect(w.render.width, w.render.height))
            .take(top_k)
            .collect();
        if matching.is_empty() && !ranked.is_empty() {
            skipped.push(no_match_note(row, size, &ranked));
        }
        for (i, winner) in matching.into_iter().enumerate() {
            items.push(ExportItem {
                product: row.id,
                size: size.clone(),
                winner: Some(winner.clone()),
                rank: Some(i + 1),
                path: file_path(out, row.id, Some(i + 1), size, format),
            });
        }
    }
    Ok(items)
}

fn no_match_note(row: &ProductRow, size: &ExportSize, ranked: &[Winner]) -> String {
    let mut have: Vec<String> = ranked
        .iter()
        .map(|w| format!("{}x{}", w.render.width, w.render.height))
        .collect();
    have.dedup();
    format!(
        "product {} ({:?}): {} is {}x{} but no scored render has its aspect \
         (scored renders: {}); render at that aspect to export it",
        row.id.0,
        row.title,
        size.name,
        size.width,
        size.height,
        have.join(", ")
    )
}
