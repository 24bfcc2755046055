//! The JSONL layouts of exported preference pairs.
//!
//! Both formats carry one decisive label per line, oriented as chosen
//! (the preferred item) and rejected, plus the same extra fields
//! ([`PairExtras`]) so that an export can be imported again faithfully:
//!
//! - TRL (the preference layout of Hugging Face TRL's DPO trainer):
//!   `prompt` = the suggestion instruction for the product (phrasing 0 of
//!   the prompt model's instructions, with the product title), `chosen` /
//!   `rejected` = the background descriptions (the render prompts),
//!   `images` = `[product image path]`, the image the prompt is about.
//! - CAIG: `id`, `image` = the product image path, `chosen` / `rejected`
//!   background descriptions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{Outcome, PreferenceSource};

/// An export/import file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairFormat {
    /// TRL preference layout (`prompt`, `chosen`, `rejected`, `images`).
    Trl,
    /// CAIG layout (`id`, `image`, `chosen`, `rejected`).
    Caig,
}

impl PairFormat {
    /// "trl" or "caig".
    pub fn as_str(self) -> &'static str {
        match self {
            PairFormat::Trl => "trl",
            PairFormat::Caig => "caig",
        }
    }

    /// The layout of a JSON object, told by its fields: `prompt` means TRL,
    /// `id` with `image` means CAIG.
    pub fn detect(row: &serde_json::Map<String, Value>) -> Option<PairFormat> {
        if row.contains_key("prompt") {
            Some(PairFormat::Trl)
        } else if row.contains_key("id") && row.contains_key("image") {
            Some(PairFormat::Caig)
        } else {
            None
        }
    }
}

impl fmt::Display for PairFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PairFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "trl" => Ok(PairFormat::Trl),
            "caig" => Ok(PairFormat::Caig),
            other => Err(format!("unknown format {other:?}; use trl or caig")),
        }
    }
}

/// The product's editing settings, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedSettings {
    /// How the mask is computed.
    pub mask_settings: Value,
    /// Brush edits on the mask.
    pub mask_edits: Value,
    /// Placement on the ad canvas.
    pub canvas_settings: Value,
}

fn human() -> PreferenceSource {
    PreferenceSource::Human
}

fn outcome_a() -> Outcome {
    Outcome::A
}

/// The fields both layouts share besides their own: who labelled, how,
/// and the product and renders, enough to recreate them in another store.
/// Image paths are absolute in an export; relative paths in an imported
/// file are taken from the file's directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairExtras {
    /// User name or model id.
    pub labeler: String,
    /// Human or model (default human).
    #[serde(default = "human")]
    pub source: PreferenceSource,
    /// The stored outcome: `a` when the chosen item was item A, `b` when it
    /// was item B (default `a`).
    #[serde(default = "outcome_a")]
    pub outcome: Outcome,
    /// Whether A was shown on the left, if it was shown.
    #[serde(default)]
    pub left_is_a: Option<bool>,
    /// The model's probability that A is better, if recorded.
    #[serde(default)]
    pub model_p_a: Option<f64>,
    /// When the label was given (ISO 8601 UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// The product title.
    pub product_title: String,
    /// The product image (TRL: also `images[0]`; CAIG: also `image`).
    #[serde(default)]
    pub product_image: Option<String>,
    /// The file name the product was imported from.
    #[serde(default)]
    pub product_source_name: Option<String>,
    /// The product's editing settings.
    #[serde(default)]
    pub product_settings: Option<ExportedSettings>,
    /// The chosen render's image.
    pub chosen_image: String,
    /// The rejected render's image.
    pub rejected_image: String,
    /// The chosen render's seed.
    pub chosen_seed: u64,
    /// The rejected render's seed.
    pub rejected_seed: u64,
    /// The chosen render's full parameters (its prompt is `chosen`).
    #[serde(default)]
    pub chosen_params: Option<Value>,
    /// The rejected render's full parameters.
    #[serde(default)]
    pub rejected_params: Option<Value>,
    /// The models of the chosen render.
    #[serde(default)]
    pub chosen_model_ids: Option<Value>,
    /// The models of the rejected render.
    #[serde(default)]
    pub rejected_model_ids: Option<Value>,
}

/// One line of a TRL export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrlRecord {
    /// The instruction for the product.
    pub prompt: String,
    /// The preferred background description.
    pub chosen: String,
    /// The other background description.
    pub rejected: String,
    /// The product image path (the image the prompt is about).
    #[serde(default)]
    pub images: Vec<String>,
    /// The shared extra fields.
    #[serde(flatten)]
    pub extras: PairExtras,
}

/// One line of a CAIG export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaigRecord {
    /// A unique id of the pair ("pref-<label id>").
    pub id: String,
    /// The product image path.
    pub image: String,
    /// The preferred background description.
    pub chosen: String,
    /// The other background description.
    pub rejected: String,
    /// The shared extra fields.
    #[serde(flatten)]
    pub extras: PairExtras,
}

/// A pair in either layout, as the importer uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRecord {
    /// The preferred background description.
    pub chosen: String,
    /// The other background description.
    pub rejected: String,
    /// The product image path.
    pub product_image: String,
    /// The shared extra fields.
    pub extras: PairExtras,
}

impl TrlRecord {
    /// The layout-independent pair; the product image is `product_image`
    /// or else `images[0]`.
    pub fn into_pair(self) -> Result<PairRecord, String> {
        let product_image = self
            .extras
            .product_image
            .clone()
            .or_else(|| self.images.first().cloned())
            .ok_or("no product image: neither product_image nor images[0]")?;
        Ok(PairRecord {
            chosen: self.chosen,
            rejected: self.rejected,
            product_image,
            extras: self.extras,
        })
    }
}

impl CaigRecord {
    /// The layout-independent pair; the product image is `image`.
    pub fn into_pair(self) -> PairRecord {
        PairRecord {
            chosen: self.chosen,
            rejected: self.rejected,
            product_image: self.extras.product_image.clone().unwrap_or(self.image),
            extras: self.extras,
        }
    }
}
