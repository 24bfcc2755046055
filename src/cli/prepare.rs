//! `adstudio prepare`: product image in, canvas + masks + edges out.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::product::{
    AspectPreset, CanvasSettings, KeySettings, MaskSettings, MaskSource, MaskSourceChoice,
    Placement,
};
use crate::studio::product::prepare_file;
use crate::studio::{ModelHub, ModelRegistry, ModelRole};

use super::parse_aspect;

/// Arguments of `adstudio prepare`.
#[derive(Debug, Clone, Args)]
pub struct PrepareArgs {
    /// The product image (PNG, JPEG, WebP, BMP or TIFF).
    pub product: PathBuf,
    /// Canvas aspect: 1:1, 4:5, 1.91:1 or 9:16.
    #[arg(long, default_value = "1:1", value_parser = parse_aspect)]
    pub aspect: AspectPreset,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Where the mask comes from.
    #[arg(long, value_enum, default_value_t = MaskSourceChoice::Auto)]
    pub mask_source: MaskSourceChoice,
    /// The U²-Net-p model file (default: $ADSTUDIO_U2NETP_ONNX, then
    /// models/u2netp/u2netp.onnx in the data dir and the working dir).
    #[arg(long)]
    pub saliency_model: Option<PathBuf>,
    /// Colour distance within which a pixel counts as background when keying.
    #[arg(long)]
    pub tolerance: Option<f32>,
    /// Grow (positive) or shrink (negative) the mask by this many pixels.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub grow: i32,
    /// Feather the mask edge by this many pixels.
    #[arg(long, default_value_t = 0.0)]
    pub feather: f32,
    /// Canvas short side in pixels (rounded to a multiple of 8).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// Fraction of the canvas the product may fill.
    #[arg(long)]
    pub fit: Option<f32>,
    /// How far the repainted zone reaches into the product edge, in pixels.
    #[arg(long)]
    pub seam_px: Option<u32>,
}

/// The mask-source names, help lines and parser all come from
/// [`MaskSourceChoice::ALL`], so they cannot drift apart.
impl clap::ValueEnum for MaskSourceChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &MaskSourceChoice::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.description()))
    }
}

/// What `prepare` wrote, also saved as `prepare.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PrepareReport {
    /// The input file.
    pub product: PathBuf,
    /// Where the base mask came from.
    pub mask_source: MaskSource,
    /// Canvas width and height.
    pub canvas_size: (u32, u32),
    /// Where the product sits on the canvas.
    pub placement: Placement,
    /// Mask settings used.
    pub mask_settings: MaskSettings,
    /// Canvas settings used.
    pub canvas_settings: CanvasSettings,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Runs `prepare`: writes `canvas.png` (product on a transparent canvas),
/// `mask.png` (inpaint mask, white = repaint), `control.png` (edges),
/// `product_mask.png` (the refined mask at source size) and `prepare.json`.
///
/// U²-Net-p (for `--mask-source saliency`, or `auto` on a busy backdrop)
/// comes from `registry`, with `--saliency-model` as its explicit path.
pub fn run_prepare(args: &PrepareArgs, registry: ModelRegistry) -> anyhow::Result<PrepareReport> {
    let defaults = CanvasSettings::default();
    let canvas_settings = CanvasSettings {
        aspect: args.aspect,
        short_side: args.short_side.unwrap_or(defaults.short_side),
        fit_fraction: args.fit.unwrap_or(defaults.fit_fraction),
        inpaint_dilate_px: args.seam_px.unwrap_or(defaults.inpaint_dilate_px),
    };
    let mask_settings = MaskSettings {
        source: args.mask_source,
        key: KeySettings {
            tolerance: args.tolerance.unwrap_or(KeySettings::default().tolerance),
        },
        grow_px: args.grow,
        feather_px: args.feather,
    };
    let hub =
        ModelHub::new(registry.with_explicit(ModelRole::U2netp, args.saliency_model.as_deref()));
    let prepared = prepare_file(&hub, &args.product, &mask_settings, &canvas_settings)?;
    let (built, prepared) = (prepared.mask, prepared.canvas);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut files = Vec::new();
    let mut save = |name: &str, write: &dyn Fn(&Path) -> image::ImageResult<()>| {
        let path = args.out.join(name);
        write(&path).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
        anyhow::Ok(())
    };
    save("canvas.png", &|p| prepared.placed.rgba.save(p))?;
    save("mask.png", &|p| prepared.inpaint_mask.save(p))?;
    save("control.png", &|p| prepared.control.save(p))?;
    save("product_mask.png", &|p| built.mask.save(p))?;
    let report = PrepareReport {
        product: args.product.clone(),
        mask_source: built.source,
        canvas_size: prepared.placed.rgba.dimensions(),
        placement: prepared.placed.placement,
        mask_settings,
        canvas_settings,
        files,
    };
    let json_path = args.out.join("prepare.json");
    let json = serde_json::to_string_pretty(&report).context("serialising the report")?;
    std::fs::write(&json_path, json).with_context(|| format!("writing {}", json_path.display()))?;
    Ok(report)
}
