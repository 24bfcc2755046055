//! `adstudio prefs export`: the decisive labels on renders as TRL or CAIG
//! JSONL.
//!
//! Exported: active (not retracted) labels with outcome A or B on two
//! renders of the same product, from people and models alike (`source`
//! says which). Not exported: ties, can't tell and skips (no chosen /
//! rejected), and labels on imported creatives (they have neither a
//! background description nor a product image, which both layouts are
//! about); the report counts them.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::PrefsError;
use super::records::{CaigRecord, ExportedSettings, PairExtras, PairFormat, PairRecord, TrlRecord};
use crate::ml::prompt_model::instructions::instruction;
use crate::store::{
    ImageStore, Outcome, PairItem, PreferenceId, PreferenceRow, ProductRow, RenderId, RenderRow,
    Store,
};

/// What an export wrote and left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// The file written.
    pub file: PathBuf,
    /// Its layout.
    pub format: PairFormat,
    /// Lines written (one per label).
    pub written: usize,
    /// Active labels that are a tie, can't tell or skip.
    pub skipped_undecided: usize,
    /// Active labels on creatives.
    pub skipped_creatives: usize,
    /// Labels that could not be exported, with the reason.
    pub problems: Vec<(PreferenceId, String)>,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {} {} pairs to {}",
            self.written,
            self.format,
            self.file.display()
        )?;
        write!(
            f,
            "not exported: {} tie/can't tell/skip labels, {} labels on creatives, {} with problems",
            self.skipped_undecided,
            self.skipped_creatives,
            self.problems.len()
        )?;
        for (id, problem) in &self.problems {
            write!(f, "\n  label {id}: {problem}")?;
        }
        Ok(())
    }
}

/// The prompt recorded in a render's parameters: `request.prompt` (the
/// studio's layout) or a top-level `prompt`.
pub fn prompt_of(params: &Value) -> Option<&str> {
    params
        .pointer("/request/prompt")
        .or_else(|| params.get("prompt"))
        .and_then(Value::as_str)
}

/// The TRL prompt for a product: the prompt model's first instruction
/// phrasing with the product title, without image facts.
pub fn instruction_for(title: &str) -> String {
    instruction(0, title, None)
}

/// Writes the exportable labels of `store` to `out` in `format` (through
/// a temporary file renamed into place). Fails with
/// [`PrefsError::NothingToExport`], writing nothing, when no label can be
/// exported.
pub fn export_prefs(
    store: &Store,
    images: &ImageStore,
    format: PairFormat,
    out: &Path,
) -> Result<ExportReport, PrefsError> {
    let mut report = ExportReport {
        file: out.to_path_buf(),
        format,
        written: 0,
        skipped_undecided: 0,
        skipped_creatives: 0,
        problems: Vec::new(),
    };
    let mut lines = Vec::new();
    for label in store.active_preferences()? {
        match (label.a, label.b, label.outcome) {
            (_, _, Outcome::Tie | Outcome::CantTell | Outcome::Skip) => {
                report.skipped_undecided += 1
            }
            (PairItem::Render(a), PairItem::Render(b), _) => {
                match exported_pair(store, images, &label, a, b)? {
                    Ok(pair) => lines.push(line(format, label.id, pair)?),
                    Err(problem) => report.problems.push((label.id, problem)),
                }
            }
            _ => report.skipped_creatives += 1,
        }
    }
    if lines.is_empty() {
        return Err(PrefsError::NothingToExport {
            skipped_undecided: report.skipped_undecided,
            skipped_creatives: report.skipped_creatives,
        });
    }
    write_lines(out, &lines)?;
    report.written = lines.len();
    Ok(report)
}

/// One JSONL line.
fn line(format: PairFormat, id: PreferenceId, pair: PairRecord) -> Result<String, PrefsError> {
    let json = match format {
        PairFormat::Trl => serde_json::to_string(&TrlRecord {
            prompt: instruction_for(&pair.extras.product_title),
            chosen: pair.chosen,
            rejected: pair.rejected,
            images: vec![pair.product_image],
            extras: pair.extras,
        }),
        PairFormat::Caig => serde_json::to_string(&CaigRecord {
            id: format!("pref-{id}"),
            image: pair.product_image,
            chosen: pair.chosen,
            rejected: pair.rejected,
            extras: pair.extras,
        }),
    };
    json.map_err(|source| PrefsError::Serialise { label: id, source })
}

/// The pair of a decisive label on renders `a` and `b`, or why it cannot
/// be exported (renders of different products, no prompt).
fn exported_pair(
    store: &Store,
    images: &ImageStore,
    label: &PreferenceRow,
    a: RenderId,
    b: RenderId,
) -> Result<Result<PairRecord, String>, PrefsError> {
    let render = |id: RenderId| {
        store
            .render(id)?
            .ok_or_else(|| PrefsError::missing(PairItem::Render(id), label.id))
    };
    let (a, b) = (render(a)?, render(b)?);
    if a.product_id != b.product_id {
        return Ok(Err(format!(
            "render {} is of product {} but render {} of product {}",
            a.id, a.product_id, b.id, b.product_id
        )));
    }
    let product = store
        .product(a.product_id)?
        .ok_or_else(|| PrefsError::missing(label.a, label.id))?;
    let (chosen, rejected) = if label.outcome == Outcome::A {
        (a, b)
    } else {
        (b, a)
    };
    let (Some(chosen_prompt), Some(rejected_prompt)) = (
        prompt_of(&chosen.params_json),
        prompt_of(&rejected.params_json),
    ) else {
        return Ok(Err(format!(
            "render {} or {} has no prompt in its parameters",
            chosen.id, rejected.id
        )));
    };
    let product_image = absolute(images.path_for(&product.image_hash, &product.image_ext)?);
    Ok(Ok(PairRecord {
        chosen: chosen_prompt.to_string(),
        rejected: rejected_prompt.to_string(),
        product_image: product_image.clone(),
        extras: extras(images, label, &product, product_image, &chosen, &rejected)?,
    }))
}

fn extras(
    images: &ImageStore,
    label: &PreferenceRow,
    product: &ProductRow,
    product_image: String,
    chosen: &RenderRow,
    rejected: &RenderRow,
) -> Result<PairExtras, PrefsError> {
    let s = &product.settings;
    Ok(PairExtras {
        labeler: label.labeler.clone(),
        source: label.source,
        outcome: label.outcome,
        left_is_a: label.left_is_a,
        model_p_a: label.model_p_a,
        created_at: Some(label.created_at.clone()),
        product_title: product.title.clone(),
        product_image: Some(product_image),
        product_source_name: Some(product.source_name.clone()),
        product_settings: Some(ExportedSettings {
            mask_settings: s.mask_settings_json.clone(),
            mask_edits: s.mask_edits_json.clone(),
            canvas_settings: s.canvas_settings_json.clone(),
        }),
        chosen_image: render_image(images, chosen)?,
        rejected_image: render_image(images, rejected)?,
        chosen_seed: chosen.seed,
        rejected_seed: rejected.seed,
        chosen_params: Some(chosen.params_json.clone()),
        rejected_params: Some(rejected.params_json.clone()),
        chosen_model_ids: Some(chosen.model_ids_json.clone()),
        rejected_model_ids: Some(rejected.model_ids_json.clone()),
    })
}

/// The render's file in the image store (its extension from the recorded
/// path, PNG by default).
fn render_image(images: &ImageStore, render: &RenderRow) -> Result<String, PrefsError> {
    let ext = Path::new(&render.image_path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("png");
    Ok(absolute(images.path_for(&render.image_hash, ext)?))
}

fn absolute(path: PathBuf) -> String {
    std::path::absolute(&path)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn write_lines(out: &Path, lines: &[String]) -> Result<(), PrefsError> {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let temp = out.with_file_name(name);
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        for line in lines {
            writeln!(file, "{line}")?;
        }
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temp, out));
    if let Err(source) = renamed {
        // Best effort: the temporary file may not exist.
        let _ = std::fs::remove_file(&temp);
        return Err(PrefsError::io(out, source));
    }
    Ok(())
}
