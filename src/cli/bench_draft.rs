//! `adstudio bench draft`: time from "click" to the first complete draft
//! image on random weights of the real architectures (SD 1.5 UNet with a
//! random rank-64 LoRA merged at build, canny ControlNet, CLIP text, TAESD
//! with its real config, the SD VAE built but unused by the draft).
//!
//! The click-to-image total is one end-to-end run of what the studio does
//! on "Draft": prepare the canvas (placement, inpaint mask, canny control
//! image), then [`crate::render::render_variant`] on a draft request (text
//! encoding, TAESD encode, 4 LCM steps of UNet + ControlNet at batch 1,
//! TAESD decode, compositing). Each stage is also timed alone.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use image::{GrayImage, Luma, Rgba, RgbaImage};

use super::bench_diffusion::{load_average, machine_gflops};
use crate::ml::diffusion::blocks::bf16::{draft_enabled, Bf16Mode};
use crate::ml::diffusion::blocks::profile;
use crate::ml::diffusion::convert::rgb_to_tensor;
use crate::ml::diffusion::ldm::UNetLayout;
use crate::ml::diffusion::lora::{with_loras, LoraTarget, LoraWeights};
use crate::ml::diffusion::random::{random_var_builder, tiny_tokenizer, RandomWeights};
use crate::ml::diffusion::single_file::{sd15_controlnet_config, SingleFileConfigs};
use crate::ml::diffusion::{
    ClipTextModel, ControlNet, ControlWindow, StableDiffusion, Taesd, TaesdConfig, UNet, Vae,
};
use crate::product::{prepare_canvas, CanvasSettings, PreparedCanvas};
use crate::render::{render_variant, RenderModels, RenderParams, RenderRequest};

/// Rank of the random LoRA (LCM-LoRA for SD 1.5 has rank 64).
const LORA_RANK: usize = 64;

/// The draft's prompt (any text: the tokenizer is a character-level one
/// over the real encoder's first ids).
const PROMPT: &str = "a red mug on an oak table, soft morning light";

/// Tensor names with their shapes, in the order a model asked for them.
type Shapes = Arc<Mutex<Vec<(String, Vec<usize>)>>>;

/// Records the name and shape of every tensor a model asks for, handing
/// out random values.
struct ShapeRecorder {
    random: RandomWeights,
    seen: Shapes,
}

impl SimpleBackend for ShapeRecorder {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((name.to_owned(), s.dims().to_vec()));
        }
        self.random.get(s, name, h, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.random.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, _: &str) -> bool {
        true
    }
}

/// A random rank-[`LORA_RANK`] LoRA (PEFT names) over the UNet's linear
/// layers and the 3x3 convolutions of its blocks, as LCM-LoRA adapts them.
fn random_unet_lora(cfg: &SingleFileConfigs, dev: &Device) -> anyhow::Result<LoraWeights> {
    let seen: Shapes = Arc::default();
    let recorder = ShapeRecorder {
        random: RandomWeights::new(7),
        seen: Arc::clone(&seen),
    };
    UNet::new(
        &cfg.unet,
        VarBuilder::from_backend(Box::new(recorder), DType::F32, dev.clone()),
    )?;
    let shapes = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut tensors = HashMap::new();
    for (name, dims) in shapes {
        let Some(module) = name.strip_suffix(".weight") else {
            continue;
        };
        let in_block = module.contains("blocks.") || module.starts_with("mid_block.");
        let (down, up) = match dims.as_slice() {
            [out, inp] => ((LORA_RANK, *inp), (*out, LORA_RANK)),
            [out, inp, 3, 3] if in_block => ((LORA_RANK, *inp * 9), (*out, LORA_RANK)),
            _ => continue,
        };
        let scale = 0.01f32;
        let mut down_t = (Tensor::randn(0f32, 1.0, down, dev)? * f64::from(scale))?;
        if dims.len() == 4 {
            down_t = down_t.reshape((LORA_RANK, dims[1], 3, 3))?;
        }
        let up_t = (Tensor::randn(0f32, 1.0, up, dev)? * f64::from(scale))?;
        tensors.insert(format!("unet.{module}.lora_A.weight"), down_t);
        tensors.insert(format!("unet.{module}.lora_B.weight"), up_t);
    }
    Ok(LoraWeights::from_tensors(tensors)?)
}

/// The draft's models: SD 1.5 with the LoRA merged into the UNet, the
/// canny ControlNet and TAESD (real config), all with random weights.
struct DraftModels {
    sd: StableDiffusion,
    controlnet: ControlNet,
    taesd: Taesd,
    lora_modules: usize,
}

impl DraftModels {
    /// Random weights kept in `weights` at rest (the LoRA merged in f32
    /// and stored back in that dtype, as the studio's loader does).
    fn build(dev: &Device, bf16: bool, weights: DType) -> anyhow::Result<Self> {
        let cfg = SingleFileConfigs::sd15()?;
        let lora = Arc::new(random_unet_lora(&cfg, dev)?);
        let lora_modules = lora.len();
        let vb = random_var_builder(1, weights, dev);
        let layout = UNetLayout::new(cfg.unet.base.layers_per_block, &cfg.unet.levels()?);
        let (unet_vb, hits) = with_loras(vb.pp("unet"), &[(lora, 1.0)], LoraTarget::Unet(layout));
        let unet = UNet::new(&cfg.unet, unet_vb)?;
        let merged = hits.lock().map(|n| *n).unwrap_or(0);
        anyhow::ensure!(
            merged >= lora_modules,
            "merged {merged} of {lora_modules} LoRA modules"
        );
        let mut sd = StableDiffusion {
            tokenizer: tiny_tokenizer()?,
            text_encoder: ClipTextModel::new(&cfg.text_encoder, vb.pp("text_encoder"))?,
            unet,
            vae: Vae::new(&cfg.vae, vb.pp("vae"))?,
            scheduler_config: cfg.scheduler.clone(),
        };
        let mut controlnet = ControlNet::random(&sd15_controlnet_config()?, 2, weights, dev)?;
        // As the studio's draft engine (`studio::engines`).
        sd.set_bf16_operands(bf16);
        controlnet.set_bf16_operands(bf16);
        let mut taesd = Taesd::new(&TaesdConfig::default(), vb.pp("taesd"))?;
        taesd.set_bf16_operands(bf16);
        Ok(Self {
            sd,
            controlnet,
            taesd,
            lora_modules,
        })
    }

    fn render_models(&self) -> RenderModels<'_> {
        RenderModels {
            models: self.sd.inpaint_models(Some(&self.controlnet)),
            scheduler_config: &self.sd.scheduler_config,
            taesd: Some(&self.taesd),
        }
    }
}

/// A `size` x `size` product photo: an opaque disc with its mask.
fn product(size: u32) -> (RgbaImage, GrayImage) {
    let c = size as f32 / 2.0;
    let r = size as f32 * 0.3;
    let inside = |x: u32, y: u32| (x as f32 - c).hypot(y as f32 - c) < r;
    let rgba = RgbaImage::from_fn(size, size, |x, y| {
        if inside(x, y) {
            Rgba([200, 40 + (y % 50) as u8, 30, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mask = GrayImage::from_fn(size, size, |x, y| {
        Luma([if inside(x, y) { 255 } else { 0 }])
    });
    (rgba, mask)
}

/// Median of `runs` timed calls.
fn median<F: FnMut() -> anyhow::Result<()>>(runs: usize, mut f: F) -> anyhow::Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// One click-to-image run: prepare the canvas, render the draft.
fn click_to_image(
    models: &DraftModels,
    product: &(RgbaImage, GrayImage),
    request: &RenderRequest,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let canvas = prepare_canvas(&product.0, &product.1, &request.canvas)?;
    render_variant(&models.render_models(), &canvas, request, 0, &mut |_| {
        ControlFlow::Continue(())
    })?;
    Ok(start.elapsed())
}

/// Times each stage of a draft alone (median of `runs`).
fn stage_rows(
    models: &DraftModels,
    product: &(RgbaImage, GrayImage),
    settings: &CanvasSettings,
    window: ControlWindow,
    runs: usize,
) -> anyhow::Result<Vec<(&'static str, Duration)>> {
    let dev = Device::Cpu;
    let mut canvas: Option<PreparedCanvas> = None;
    let control = median(runs, || {
        canvas = Some(prepare_canvas(&product.0, &product.1, settings)?);
        Ok(())
    })?;
    let canvas = canvas.ok_or_else(|| anyhow::anyhow!("no canvas"))?;
    // A draft (no classifier-free guidance) encodes the prompt alone.
    let text = median(runs, || {
        models.sd.text().encode(PROMPT, &dev)?;
        Ok(())
    })?;
    let init = rgb_to_tensor(&crate::render::run::init_image(&canvas)?, &dev)?;
    let mut latents = None;
    let encode = median(runs, || {
        latents = Some(models.taesd.encode_to_latents(&init)?);
        Ok(())
    })?;
    let latents = latents.ok_or_else(|| anyhow::anyhow!("no latents"))?;
    let (ehs, _) = models.sd.text().encode(PROMPT, &dev)?;
    let cond = rgb_to_tensor(&canvas.control, &dev)?;
    let timesteps = [999.0, 759.0, 499.0, 259.0];
    let steps_with = |window: ControlWindow| {
        median(runs, || {
            for (i, &t) in timesteps.iter().enumerate() {
                let res = if window.keeps(i, timesteps.len()) {
                    Some(models.controlnet.forward(&latents, t, &ehs, &cond, 1.0)?)
                } else {
                    None
                };
                models.sd.unet.forward(&latents, t, &ehs, res.as_ref())?;
            }
            Ok(())
        })
    };
    let steps = steps_with(window)?;
    let steps_full = steps_with(ControlWindow::FULL)?;
    let decode = median(runs, || {
        models.taesd.decode_to_image(&latents)?;
        Ok(())
    })?;
    Ok(vec![
        (
            "control image (place product, inpaint mask, canny)",
            control,
        ),
        (
            "text encoding (CLIP, the prompt; no negative without CFG)",
            text,
        ),
        ("encode (TAESD)", encode),
        (
            "4 LCM steps (UNet, + ControlNet on the draft's window; batch 1)",
            steps,
        ),
        (
            "(for comparison: 4 LCM steps with ControlNet on every step)",
            steps_full,
        ),
        ("decode (TAESD)", decode),
    ])
}

/// Runs the draft benchmark at `size` px and prints a Markdown table;
/// with `profile`, then the per-layer profile of one more click to image.
pub fn bench_draft_table(
    size: u32,
    runs: usize,
    warmup: usize,
    bf16: Bf16Mode,
    weights: DType,
    profile: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        size >= 64 && size.is_multiple_of(8),
        "--size must be a multiple of 8 of at least 64, got {size}"
    );
    let dev = Device::Cpu;
    let load_before = load_average();
    let gflops_before = machine_gflops(&dev)?;
    let build_start = Instant::now();
    let models = DraftModels::build(&dev, draft_enabled(bf16), weights)?;
    let build = build_start.elapsed();
    let product = product(size);
    let settings = CanvasSettings {
        short_side: size,
        ..CanvasSettings::default()
    };
    let request = RenderRequest {
        params: RenderParams {
            prompt: PROMPT.into(),
            seed: 1,
            ..RenderParams::default()
        }
        .as_draft(),
        canvas: settings,
        models: Default::default(),
    };
    for _ in 0..warmup {
        click_to_image(&models, &product, &request)?;
    }
    let mut totals = Vec::new();
    let forwards_before = models.controlnet.forward_count();
    for _ in 0..runs.max(1) {
        totals.push(click_to_image(&models, &product, &request)?);
    }
    let forwards = (models.controlnet.forward_count() - forwards_before) / runs.max(1);
    totals.sort();
    let window = request.params.control_window()?;
    let stages = stage_rows(&models, &product, &settings, window, runs)?;
    let gflops_after = machine_gflops(&dev)?;
    let threads = candle_core::utils::get_num_threads();
    println!(
        "Draft at {size}x{size} px: SD 1.5 UNet + random rank-{LORA_RANK} LoRA ({} modules) \
         merged, canny ControlNet, CLIP text, TAESD (real config); random weights at rest in \
         {weights:?}, CPU, {threads} threads, {} runs (median) after {warmup} warm-up",
        models.lora_modules,
        runs.max(1)
    );
    println!(
        "{}; drafts: {}",
        bf16.describe(crate::ml::diffusion::blocks::kernels::Kernels::Fast),
        if draft_enabled(bf16) { "bf16" } else { "f32" }
    );
    println!(
        "machine check (2048^3 f32 matmul, best of 3): {gflops_before:.0} GFLOP/s before, \
         {gflops_after:.0} after; load average (1 min) {load_before} before, {} after",
        load_average()
    );
    println!(
        "models built (random weights, LoRA merged; not in the total): {:.1} s",
        build.as_secs_f64()
    );
    println!(
        "ControlNet window {:.2}..{:.2} of the steps: {forwards} ControlNet forwards per draft \
         ({} of {} steps)",
        window.start(),
        window.end(),
        window.kept_steps(request.params.steps),
        request.params.steps
    );
    println!("| stage | s |");
    println!("|---|---|");
    let mut sum = 0.0;
    for (label, d) in &stages {
        // The comparison row is not a stage of the draft.
        if !label.starts_with('(') {
            sum += d.as_secs_f64();
        }
        println!("| {label} | {:.3} |", d.as_secs_f64());
    }
    println!("| sum of the stages | {sum:.3} |");
    let median = totals[totals.len() / 2].as_secs_f64();
    println!("| **click to first complete draft (end to end)** | **{median:.3}** |");
    let each: Vec<String> = totals
        .iter()
        .map(|t| format!("{:.2}", t.as_secs_f64()))
        .collect();
    println!("end-to-end runs, sorted (s): {}", each.join(", "));
    println!(
        "target: at most 20 s; {}",
        if median <= 20.0 { "met" } else { "not met" }
    );
    if profile {
        profile_click(&models, &product, &request)?;
    }
    Ok(())
}

/// Prints the per-layer profile of one more click to image.
fn profile_click(
    models: &DraftModels,
    product: &(RgbaImage, GrayImage),
    request: &RenderRequest,
) -> anyhow::Result<()> {
    profile::take();
    profile::set_enabled(true);
    let result = click_to_image(models, product, request);
    profile::set_enabled(false);
    let total = result?;
    super::bench_diffusion::print_profile("click to first draft", total, &profile::take());
    Ok(())
}
