//! `adstudio render`: product image + prompt in, composited ad PNGs (with
//! their parameters) out, through the studio core (models from the model
//! registry: `--models`/`--controlnet` > `ADSTUDIO_SD15`/
//! `ADSTUDIO_CONTROLNET_CANNY` > `<data dir>/models/ROLE` > `./models/ROLE`).
//! `--draft` renders one 4-step LCM draft with the LCM-LoRA (`--lcm-lora`
//! or the `lcm-lora` role) merged, decoded with TAESD (`--taesd` or the
//! `taesd` role) when there is one.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::jobs::InlineReporter;
use crate::product::{AspectPreset, CanvasSettings, MaskSettings};
use crate::render::{encode_png, PngParams, RenderParams, RenderRequest};
use crate::studio::product::prepare_file;
use crate::studio::render::{render_variant, truncation_notice};
use crate::studio::{ModelHub, ModelRegistry, ModelRole, Progress, RenderStep};

use super::parse_aspect;

/// Arguments of `adstudio render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The product image (transparent PNG, or a photo on a plain backdrop).
    #[arg(long)]
    pub product: PathBuf,
    /// Prompt, seed, steps, guidance, scheduler, number of variants.
    #[command(flatten)]
    pub params: RenderParams,
    /// Canvas aspect: 1:1, 4:5, 1.91:1 or 9:16.
    #[arg(long, default_value = "1:1", value_parser = parse_aspect)]
    pub aspect: AspectPreset,
    /// Canvas short side in pixels (default 512).
    #[arg(long)]
    pub short_side: Option<u32>,
    /// A diffusers Stable Diffusion folder (unet/, vae/, text_encoder/,
    /// tokenizer/, scheduler/); default: the `sd15` model role.
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// A diffusers ControlNet folder (canny); default: the
    /// `controlnet-canny` model role, when there is one.
    #[arg(long)]
    pub controlnet: Option<PathBuf>,
    /// A diffusers TAESD folder (full-size previews; a draft's encoder and
    /// decoder); default: the `taesd` model role, when there is one.
    #[arg(long)]
    pub taesd: Option<PathBuf>,
    /// The LCM-LoRA `.safetensors` a draft merges into the model; default:
    /// the `lcm-lora` model role.
    #[arg(long = "lcm-lora")]
    pub lcm_lora: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// A one-line text progress bar.
fn progress_line(p: &RenderStep) -> String {
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
pub fn run_render(args: &RenderArgs, registry: ModelRegistry) -> anyhow::Result<Vec<PathBuf>> {
    let registry = registry
        .with_explicit(ModelRole::Sd15, args.models.as_deref())
        .with_explicit(ModelRole::ControlnetCanny, args.controlnet.as_deref())
        .with_explicit(ModelRole::Taesd, args.taesd.as_deref())
        .with_explicit(ModelRole::LcmLora, args.lcm_lora.as_deref());
    let hub = ModelHub::new(registry);
    let settings = CanvasSettings {
        aspect: args.aspect,
        short_side: args
            .short_side
            .unwrap_or(CanvasSettings::default().short_side),
        ..CanvasSettings::default()
    };
    let params = if args.params.draft {
        args.params.as_draft()
    } else {
        args.params.clone()
    };
    let request = RenderRequest {
        params,
        canvas: settings,
        models: Default::default(),
    };
    request.validate()?;
    let prepared = prepare_file(&hub, &args.product, &MaskSettings::default(), &settings)?;
    let sources = hub.diffusion_sources(request.params.draft)?;
    if sources.taesd.is_none() {
        eprintln!(
            "note: no TAESD model (role taesd, --taesd): previews use the latent \
             approximation{}",
            if request.params.draft {
                " and the draft is decoded with the VAE"
            } else {
                ""
            }
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let reporter = InlineReporter::new(|p: Progress| {
        if let Progress::Render(step) = p {
            eprintln!("{}", progress_line(&step));
        }
    });
    let mut written = Vec::new();
    for i in 0..request.params.n_variants {
        let (variant, rendered) = render_variant(&hub, &reporter, &prepared.canvas, &request, i)?;
        if let Some(notice) = truncation_notice(&variant) {
            eprintln!("warning: {notice}");
        }
        let params = PngParams {
            request: rendered.for_variant(i),
            variant: i,
            batch_seed: rendered.params.seed,
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
