//! `adstudio prefs import`: labels from a TRL or CAIG JSONL file (as
//! written by [`super::export_prefs`]) into the store, one transaction per
//! row, with a report line per row.
//!
//! Each row names the product image and both render images; they are
//! copied into the image store, and the product and renders are created
//! unless the store already has them (same image hash). A row that fails
//! (malformed JSON, missing field, unreadable image, a label that is not
//! A or B, ...) stores nothing and is reported with its line number; the
//! other rows are not affected. (Image files copied for a failed row stay
//! in the content-addressed store, unreferenced and harmless.)

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::PrefsError;
use super::export::prompt_of;
use super::records::{CaigRecord, PairFormat, PairRecord, TrlRecord};
use crate::product::{load_product_bytes, CanvasSettings, MaskEdits, MaskSettings};
use crate::render::{ModelIds, PngParams, RenderParams, RenderRequest};
use crate::store::{
    resolve_image_path, ImageStore, ImportedIds, ImportedPreference, ImportedRender, NewProduct,
    Outcome, ProductSettings, Store,
};

/// The result of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLine {
    /// Line number in the file (1-based).
    pub line: usize,
    /// What was stored, or why nothing was.
    pub result: Result<ImportedIds, String>,
}

/// The per-row results of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The imported file.
    pub file: PathBuf,
    /// One entry per non-blank line.
    pub lines: Vec<ImportLine>,
}

impl ImportReport {
    /// Rows that failed.
    pub fn failed(&self) -> usize {
        self.lines.iter().filter(|l| l.result.is_err()).count()
    }

    /// Rows that are in the store now (new or already present).
    pub fn ok(&self) -> usize {
        self.lines.len() - self.failed()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            match &line.result {
                Ok(ids) if ids.already_present => writeln!(
                    f,
                    "line {}: ok, label {} already present",
                    line.line, ids.preference
                )?,
                Ok(ids) => writeln!(
                    f,
                    "line {}: ok, label {} (product {}{}, {} new renders)",
                    line.line,
                    ids.preference,
                    ids.product,
                    if ids.product_created { " new" } else { "" },
                    ids.renders_created
                )?,
                Err(reason) => writeln!(f, "line {}: error: {reason}", line.line)?,
            }
        }
        write!(
            f,
            "{}: {} rows imported, {} failed",
            self.file.display(),
            self.ok(),
            self.failed()
        )
    }
}

/// Imports every non-blank line of `file`. `format` forces the layout;
/// without it each row's layout is told by its fields (see
/// [`PairFormat::detect`]). Fails as a whole only when the file cannot be
/// read; row problems are in the report.
pub fn import_prefs(
    store: &Store,
    images: &ImageStore,
    file: &Path,
    format: Option<PairFormat>,
) -> Result<ImportReport, PrefsError> {
    let text = std::fs::read_to_string(file).map_err(|e| PrefsError::io(file, e))?;
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| ImportLine {
            line: i + 1,
            result: parse_row(l, format)
                .and_then(|pair| prepare(images, file, &pair))
                .and_then(|pref| {
                    store
                        .import_render_preference(&pref)
                        .map_err(|e| e.to_string())
                }),
        })
        .collect();
    Ok(ImportReport {
        file: file.to_path_buf(),
        lines,
    })
}

/// Parses one line into a pair, checking the layout.
pub fn parse_row(text: &str, format: Option<PairFormat>) -> Result<PairRecord, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(map) = &value else {
        return Err("not a JSON object".to_string());
    };
    let detected = PairFormat::detect(map);
    let layout = match (format, detected) {
        (Some(f), Some(d)) if f != d => {
            return Err(format!("a {d} row in a file imported as {f}"));
        }
        (Some(f), _) | (None, Some(f)) => f,
        (None, None) => {
            return Err(
                "neither a TRL row (prompt, chosen, rejected) nor a CAIG row (id, image, \
                 chosen, rejected)"
                    .to_string(),
            )
        }
    };
    let invalid = |e: serde_json::Error| format!("invalid {layout} row: {e}");
    let pair = match layout {
        PairFormat::Trl => serde_json::from_value::<TrlRecord>(value)
            .map_err(invalid)?
            .into_pair()?,
        PairFormat::Caig => serde_json::from_value::<CaigRecord>(value)
            .map_err(invalid)?
            .into_pair(),
    };
    validate(&pair)?;
    Ok(pair)
}

/// Checks the label's own fields.
fn validate(pair: &PairRecord) -> Result<(), String> {
    let x = &pair.extras;
    if !matches!(x.outcome, Outcome::A | Outcome::B) {
        return Err(format!(
            "outcome {} is not a or b (only decisive labels have a chosen and a rejected item)",
            x.outcome
        ));
    }
    if x.labeler.trim().is_empty() {
        return Err("labeler is empty".to_string());
    }
    if x.model_p_a.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(format!("model_p_a {:?} is not in [0, 1]", x.model_p_a));
    }
    if let Some(t) = x.created_at.as_deref().filter(|t| !is_utc_timestamp(t)) {
        return Err(format!(
            "created_at {t:?} is not an ISO 8601 UTC time like 2025-01-31T12:00:00.000Z"
        ));
    }
    if pair.extras.chosen_image == pair.extras.rejected_image {
        return Err("chosen_image and rejected_image are the same file".to_string());
    }
    for (side, text, params) in [
        ("chosen", &pair.chosen, &x.chosen_params),
        ("rejected", &pair.rejected, &x.rejected_params),
    ] {
        if let Some(params) = params {
            if prompt_of(params) != Some(text.as_str()) {
                return Err(format!(
                    "{side} {text:?} is not the prompt recorded in {side}_params"
                ));
            }
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
fn is_utc_timestamp(text: &str) -> bool {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let head = SHAPE.iter().zip(b).all(|(&p, &c)| {
        if p == b'd' {
            c.is_ascii_digit()
        } else {
            p == c
        }
    });
    let frac = &b[19..b.len() - 1];
    head && (frac.is_empty()
        || (frac.len() > 1 && frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit)))
}

/// Copies the row's images into the image store and builds what the store
/// imports.
fn prepare(
    images: &ImageStore,
    file: &Path,
    pair: &PairRecord,
) -> Result<ImportedPreference, String> {
    let x = &pair.extras;
    let (bytes, ext, path) = read_image(file, &pair.product_image, "product image")?;
    let decoded = load_product_bytes(&bytes).map_err(|e| format!("product image {path}: {e}"))?;
    let stored = images.put_bytes(&bytes, ext).map_err(|e| e.to_string())?;
    let product = NewProduct {
        title: x.product_title.clone(),
        source_name: x.product_source_name.clone().unwrap_or_else(|| {
            Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        image_hash: stored.hash,
        image_ext: ext.to_string(),
        width: decoded.rgba.width(),
        height: decoded.rgba.height(),
        has_transparency: decoded.has_transparency,
        settings: settings(pair)?,
    };
    let chosen = render(
        images,
        file,
        "chosen",
        &pair.chosen,
        x.chosen_seed,
        &x.chosen_image,
    )
    .map(|r| with_extras(r, &x.chosen_params, &x.chosen_model_ids))?;
    let rejected = render(
        images,
        file,
        "rejected",
        &pair.rejected,
        x.rejected_seed,
        &x.rejected_image,
    )
    .map(|r| with_extras(r, &x.rejected_params, &x.rejected_model_ids))?;
    let (a, b) = if x.outcome == Outcome::A {
        (chosen, rejected)
    } else {
        (rejected, chosen)
    };
    Ok(ImportedPreference {
        product,
        a,
        b,
        outcome: x.outcome,
        source: x.source,
        labeler: x.labeler.clone(),
        left_is_a: x.left_is_a,
        model_p_a: x.model_p_a,
        created_at: x.created_at.clone(),
    })
}

/// The row's product settings, or the studio's defaults.
fn settings(pair: &PairRecord) -> Result<ProductSettings, String> {
    if let Some(s) = &pair.extras.product_settings {
        return Ok(ProductSettings {
            mask_settings_json: s.mask_settings.clone(),
            mask_edits_json: s.mask_edits.clone(),
            canvas_settings_json: s.canvas_settings.clone(),
        });
    }
    let json = |v: serde_json::Result<Value>| v.map_err(|e| format!("default settings: {e}"));
    Ok(ProductSettings {
        mask_settings_json: json(serde_json::to_value(MaskSettings::default()))?,
        mask_edits_json: json(serde_json::to_value(MaskEdits::default()))?,
        canvas_settings_json: json(serde_json::to_value(CanvasSettings::default()))?,
    })
}

/// A render from its image and description; parameters recorded in the
/// studio's layout with defaults besides the prompt and seed (the row's
/// own parameters replace them, see [`with_extras`]).
fn render(
    images: &ImageStore,
    file: &Path,
    side: &str,
    prompt: &str,
    seed: u64,
    image: &str,
) -> Result<ImportedRender, String> {
    let what = format!("{side}_image");
    let (bytes, ext, path) = read_image(file, image, &what)?;
    let (width, height) = image::ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| format!("{what} {path}: {e}"))?
        .into_dimensions()
        .map_err(|e| format!("{what} {path}: {e}"))?;
    let stored = images.put_bytes(&bytes, ext).map_err(|e| e.to_string())?;
    let params = PngParams {
        request: RenderRequest {
            params: RenderParams {
                prompt: prompt.to_string(),
                seed,
                n_variants: 1,
                ..RenderParams::default()
            },
            canvas: CanvasSettings::default(),
            models: ModelIds::default(),
        },
        variant: 0,
        batch_seed: seed,
    };
    let json = |v: serde_json::Result<Value>| v.map_err(|e| format!("{side} parameters: {e}"));
    Ok(ImportedRender {
        params_json: json(serde_json::to_value(&params))?,
        seed,
        model_ids_json: json(serde_json::to_value(ModelIds::default()))?,
        image_hash: stored.hash,
        image_path: stored.path.display().to_string(),
        width,
        height,
    })
}

fn with_extras(
    mut render: ImportedRender,
    params: &Option<Value>,
    model_ids: &Option<Value>,
) -> ImportedRender {
    if let Some(p) = params {
        render.params_json = p.clone();
    }
    if let Some(m) = model_ids {
        render.model_ids_json = m.clone();
    }
    render
}

/// Reads an image named by the row (relative to the file's directory),
/// with the extension of its detected format and its resolved path.
fn read_image(
    file: &Path,
    image: &str,
    what: &str,
) -> Result<(Vec<u8>, &'static str, String), String> {
    let path = resolve_image_path(file, Path::new(image));
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| format!("{what} {shown}: {e}"))?;
    let ext = image::guess_format(&bytes)
        .ok()
        .and_then(|f| f.extensions_str().first().copied())
        .ok_or_else(|| format!("{what} {shown} is not an image"))?;
    Ok((bytes, ext, shown))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn timestamps_in_the_stores_format_pass_and_others_fail() {
        assert!(is_utc_timestamp("2025-01-31T12:00:00.123Z"));
        assert!(is_utc_timestamp("2025-01-31T12:00:00Z"));
        assert!(!is_utc_timestamp("2025-01-31 12:00:00Z"));
        assert!(!is_utc_timestamp("2025-01-31T12:00:00.Z"));
        assert!(!is_utc_timestamp("yesterday"));
    }

    #[test]
    fn rows_are_told_apart_by_their_fields_and_checked() {
        let err = parse_row("{\"prompt\": 1", None).unwrap_err();
        assert!(err.starts_with("malformed JSON"), "{err}");
        let err = parse_row("{\"x\": 1}", None).unwrap_err();
        assert!(err.contains("neither a TRL row"), "{err}");
        let caig = r#"{"id": "p", "image": "i.png", "chosen": "a", "rejected": "b"}"#;
        let err = parse_row(caig, Some(PairFormat::Trl)).unwrap_err();
        assert_eq!(err, "a caig row in a file imported as trl");
        let err = parse_row(caig, None).unwrap_err();
        assert!(err.contains("missing field `labeler`"), "{err}");
        let row = r#"{"id": "p", "image": "i.png", "chosen": "a", "rejected": "b",
            "labeler": "ann", "product_title": "Mug", "chosen_image": "c.png",
            "rejected_image": "r.png", "chosen_seed": 1, "rejected_seed": 2}"#;
        let pair = parse_row(row, None).unwrap();
        assert_eq!(
            (pair.product_image.as_str(), pair.extras.outcome),
            ("i.png", Outcome::A)
        );
        let tie = row.replace("\"labeler\"", "\"outcome\": \"tie\", \"labeler\"");
        assert!(parse_row(&tie, None).unwrap_err().contains("not a or b"));
        let moved = row.replace(
            "\"labeler\"",
            "\"chosen_params\": {\"prompt\": \"z\"}, \"labeler\"",
        );
        assert!(parse_row(&moved, None)
            .unwrap_err()
            .contains("chosen_params"));
    }
}
