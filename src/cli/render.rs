//! `adstudio render`: product image + prompt in, composited ad PNGs (with
//! their parameters) out.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context as _;
use candle_core::{DType, Device};
use clap::{Args, ValueEnum};

use crate::ml::diffusion::{ControlNet, SchedulerKind, StableDiffusion};
use crate::product::{
    build_mask, load_product_file, prepare_canvas, AspectPreset, CanvasSettings, MaskEdits,
    MaskSettings,
};
use crate::render::{
    encode_png, render_variant, ModelIds, PngParams, RenderModels, RenderProgress, RenderRequest,
};

/// The scheduler names of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchedulerArg {
    /// Euler ancestral (the default).
    EulerA,
    /// DDIM.
    Ddim,
    /// LCM (for LCM-distilled UNets or LCM-LoRA).
    Lcm,
}

impl From<SchedulerArg> for SchedulerKind {
    fn from(s: SchedulerArg) -> Self {
        match s {
            SchedulerArg::EulerA => SchedulerKind::EulerAncestral,
            SchedulerArg::Ddim => SchedulerKind::Ddim,
            SchedulerArg::Lcm => SchedulerKind::Lcm,
        }
    }
}

/// Arguments of `adstudio render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The product image (transparent PNG, or a photo on a plain backdrop).
    #[arg(long)]
    pub product: PathBuf,
    /// The prompt.
    #[arg(long)]
    pub prompt: String,
    /// The negative prompt.
    #[arg(long, default_value = "")]
    pub negative: String,
    /// Number of variants (variant i uses seed + i).
    #[arg(long, default_value_t = 4)]
    pub n: usize,
    /// Seed of the first variant.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Denoising steps.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Classifier-free guidance scale.
    #[arg(long, default_value_t = 7.5)]
    pub cfg: f64,
    /// The scheduler.
    #[arg(long, value_enum, default_value = "euler-a")]
    pub scheduler: SchedulerArg,
    /// Canvas aspect: 1:1, 4:5, 1.91:1 or 9:16.
    #[arg(long, default_value = "1:1", value_parser = parse_aspect)]
    pub aspect: AspectPreset,
    /// Canvas short side in pixels (default 512).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// A diffusers Stable Diffusion folder (unet/, vae/, text_encoder/,
    /// tokenizer/, scheduler/).
    #[arg(long)]
    pub models: PathBuf,
    /// A diffusers ControlNet folder (canny).
    #[arg(long)]
    pub controlnet: Option<PathBuf>,
    /// ControlNet conditioning scale.
    #[arg(long, default_value_t = 1.0)]
    pub control_scale: f64,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_aspect(s: &str) -> Result<AspectPreset, String> {
    AspectPreset::parse(s).ok_or_else(|| {
        let known: Vec<&str> = AspectPreset::ALL.iter().map(|a| a.label()).collect();
        format!("unknown aspect {s:?}; use one of {}", known.join(", "))
    })
}

fn folder_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A one-line text progress bar.
fn progress_line(p: &RenderProgress) -> String {
    const WIDTH: usize = 20;
    let filled = (p.step * WIDTH).checked_div(p.total).unwrap_or(WIDTH);
    format!(
        "variant {}/{} [{}{}] step {}/{}",
        p.variant + 1,
        p.n_variants,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled.min(WIDTH)),
        p.step,
        p.total
    )
}

/// Runs `render`: writes `variant_<i>_seed_<seed>.png` per variant into
/// `out` and returns their paths. Progress goes to stderr, one line a step.
pub fn run_render(args: &RenderArgs) -> anyhow::Result<Vec<PathBuf>> {
    let device = Device::Cpu;
    let image = load_product_file(&args.product)
        .with_context(|| format!("opening {}", args.product.display()))?;
    let built = build_mask(&image, &MaskSettings::default(), &MaskEdits::default())
        .with_context(|| format!("masking {}", args.product.display()))?;
    let settings = CanvasSettings {
        aspect: args.aspect,
        short_side: args
            .short_side
            .unwrap_or(CanvasSettings::default().short_side),
        ..CanvasSettings::default()
    };
    let canvas = prepare_canvas(&image.rgba, &built.mask, &settings)
        .with_context(|| format!("placing {} on the canvas", args.product.display()))?;
    let sd = StableDiffusion::load_diffusers(&args.models, DType::F32, &device)
        .with_context(|| format!("loading {}", args.models.display()))?;
    let cn = args
        .controlnet
        .as_ref()
        .map(|dir| {
            ControlNet::load(dir, DType::F32, &device)
                .with_context(|| format!("loading ControlNet {}", dir.display()))
        })
        .transpose()?;
    let request = RenderRequest {
        prompt: args.prompt.clone(),
        negative_prompt: args.negative.clone(),
        seed: args.seed,
        steps: args.steps,
        guidance_scale: args.cfg,
        conditioning_scale: args.control_scale,
        scheduler: args.scheduler.into(),
        n_variants: args.n,
        canvas: settings,
        models: ModelIds {
            checkpoint: folder_name(&args.models),
            controlnet: args.controlnet.as_deref().map(folder_name),
        },
    };
    request.validate()?;
    let models = RenderModels {
        models: sd.inpaint_models(cn.as_ref()),
        scheduler_config: &sd.scheduler_config,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut written = Vec::new();
    for i in 0..request.n_variants {
        let variant = render_variant(&models, &canvas, &request, i, &mut |p| {
            eprintln!("{}", progress_line(p));
            ControlFlow::Continue(())
        })?;
        if variant.prompt_truncated_tokens > 0 {
            eprintln!(
                "warning: the prompt is longer than 77 tokens; {} tokens were cut off",
                variant.prompt_truncated_tokens
            );
        }
        let params = PngParams {
            request: request.for_variant(i),
            variant: i,
            batch_seed: request.seed,
        };
        let bytes = encode_png(&variant.image, &params)?;
        let path = args
            .out
            .join(format!("variant_{i}_seed_{}.png", variant.seed));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
