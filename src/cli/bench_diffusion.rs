//! `adstudio bench diffusion`: the real SD 1.5 UNet, ControlNet and VAE
//! architectures with random weights (plain tensors), timed on this CPU.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use candle_core::{DType, Device, Module, Tensor};

use crate::ml::diffusion::blocks::attention::{
    attention_with, chunked_attention, AttentionOptions,
};
use crate::ml::diffusion::blocks::bf16::Bf16Mode;
use crate::ml::diffusion::blocks::conv::{Conv3x3, ConvAlgorithm};
use crate::ml::diffusion::blocks::kernels::Kernels;
use crate::ml::diffusion::blocks::profile;
use crate::ml::diffusion::blocks::winograd::{KernelStorage, WinogradTile};
use crate::ml::diffusion::random::random_var_builder;
use crate::ml::diffusion::single_file::{sd15_controlnet_config, SingleFileConfigs};
use crate::ml::diffusion::{ControlNet, UNet, Vae};

/// PyTorch 2.x CPU reference figures from the issue (2 threads, fp32,
/// median of 3), in seconds, by (size, what).
fn pytorch_reference(size: usize, what: &str) -> Option<f64> {
    match (size, what) {
        (512, "unet") => Some(10.3),
        (256, "unet") => Some(2.87),
        (512, "unet+controlnet") => Some(14.1),
        (512, "vae decode") => Some(15.8),
        (512, "vae encode") => Some(7.6),
        _ => None,
    }
}

/// Median, min and max of `runs` timed calls after `warmup` untimed ones.
fn time<F: FnMut() -> anyhow::Result<()>>(
    runs: usize,
    warmup: usize,
    mut f: F,
) -> anyhow::Result<(Duration, Duration, Duration)> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[0], times[times.len() - 1]))
}

/// One row of the per-operation table: what ran, on which shape, the
/// baseline (plain candle) and our implementation's median times.
struct OpRow {
    op: &'static str,
    shape: String,
    candle: Option<Duration>,
    ours: Duration,
}

/// Timed and warm-up runs of each operation of `--ops`.
#[derive(Debug, Clone, Copy)]
struct OpTiming {
    runs: usize,
    warmup: usize,
}

fn median_of<F: FnMut() -> anyhow::Result<()>>(timing: OpTiming, f: F) -> anyhow::Result<Duration> {
    Ok(time(timing.runs, timing.warmup, f)?.0)
}

/// Times plain candle's `candle` and our `ours` (median of `runs` each) as
/// one row.
fn compare_row(
    timing: OpTiming,
    op: &'static str,
    shape: String,
    candle: impl FnMut() -> anyhow::Result<()>,
    ours: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<OpRow> {
    Ok(OpRow {
        op,
        shape,
        candle: Some(median_of(timing, candle)?),
        ours: median_of(timing, ours)?,
    })
}

/// Plain candle attention: the full score matrix, softmax, product.
fn full_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> candle_core::Result<Tensor> {
    candle_nn::ops::softmax_last_dim(&q.matmul(&k.t()?)?)?.matmul(v)
}

fn attention_rows(timing: OpTiming, rows: &mut Vec<OpRow>) -> anyhow::Result<()> {
    let dev = Device::Cpu;
    // UNet self-attention at 512 px (batch 2, 8 heads of 40) and the VAE
    // mid-block attention (1 head of 512), both over 4096 tokens.
    for (b, h, n, d) in [(2, 8, 4096, 40), (1, 1, 4096, 512)] {
        let q = Tensor::randn(0f32, 1.0, (b, h, n, d), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (b, h, n, d), &dev)?;
        let v = Tensor::randn(0f32, 1.0, (b, h, n, d), &dev)?;
        let candle = median_of(timing, || {
            full_attention(&q, &k, &v)?;
            Ok(())
        })?;
        let ours = median_of(timing, || {
            chunked_attention(&q, &k, &v)?;
            Ok(())
        })?;
        let chunked = median_of(timing, || {
            attention_with(&q, &k, &v, AttentionOptions::REFERENCE)?;
            Ok(())
        })?;
        rows.push(OpRow {
            op: "attention (candle: full scores)",
            shape: format!("{:?}", (b, h, n, d)),
            candle: Some(candle),
            ours,
        });
        rows.push(OpRow {
            op: "attention (candle: chunked, candle softmax)",
            shape: format!("{:?}", (b, h, n, d)),
            candle: Some(chunked),
            ours,
        });
        let chunked_fast = median_of(timing, || {
            attention_with(&q, &k, &v, AttentionOptions::CHUNKED)?;
            Ok(())
        })?;
        rows.push(OpRow {
            op: "attention (chunked, our softmax; before fusing)",
            shape: format!("{:?}", (b, h, n, d)),
            candle: Some(chunked_fast),
            ours,
        });
        #[cfg(target_arch = "x86_64")]
        if crate::ml::diffusion::blocks::bf16::cpu_has_avx512_bf16() {
            let flat = |t: &Tensor| t.reshape((b * h, n, d));
            let (q, k, v) = (flat(&q)?, flat(&k)?, flat(&v)?);
            let bf16 = median_of(timing, || {
                crate::ml::diffusion::blocks::bf16_attention::fused_attention(&q, &k, &v)?;
                Ok(())
            })?;
            rows.push(OpRow {
                op: "attention, bf16 products (AVX512-BF16; `candle` column: ours in f32)",
                shape: format!("{:?}", (b, h, n, d)),
                candle: Some(ours),
                ours: bf16,
            });
        }
    }
    Ok(())
}

fn norm_rows(timing: OpTiming, rows: &mut Vec<OpRow>) -> anyhow::Result<()> {
    let dev = Device::Cpu;
    for shape in [(2, 320, 64, 64), (1, 128, 512, 512)] {
        let c = shape.1;
        let x = Tensor::randn(0f32, 1.0, shape, &dev)?;
        let weight = Tensor::randn(0f32, 1.0, c, &dev)?;
        let bias = Tensor::randn(0f32, 1.0, c, &dev)?;
        let candle_norm = candle_nn::GroupNorm::new(weight.clone(), bias.clone(), c, 32, 1e-5)?;
        let ours_norm = crate::ml::diffusion::blocks::norm::GroupNorm::new(
            weight.clone(),
            bias.clone(),
            32,
            1e-5,
        )?;
        rows.push(compare_row(
            timing,
            "group norm (32 groups)",
            format!("{shape:?}"),
            || {
                candle_norm.forward(&x)?;
                Ok(())
            },
            || {
                ours_norm.forward(&x)?;
                Ok(())
            },
        )?);
        rows.push(compare_row(
            timing,
            "group norm + SiLU",
            format!("{shape:?}"),
            || {
                candle_norm.forward(&x)?.silu()?;
                Ok(())
            },
            || {
                ours_norm.forward_silu(&x)?;
                Ok(())
            },
        )?);
        rows.push(compare_row(
            timing,
            "SiLU",
            format!("{shape:?}"),
            || {
                x.silu()?;
                Ok(())
            },
            || {
                crate::ml::diffusion::blocks::norm::silu(&x)?;
                Ok(())
            },
        )?);
    }
    Ok(())
}

fn geglu_rows(timing: OpTiming, rows: &mut Vec<OpRow>) -> anyhow::Result<()> {
    // The feed-forward of the 320-wide transformer at 512 px.
    let h = Tensor::randn(0f32, 1.0, (2, 4096, 2560), &Device::Cpu)?;
    rows.push(compare_row(
        timing,
        "GEGLU (h * gelu_erf(gate))",
        "(2, 4096, 2560)".to_owned(),
        || {
            let hidden = h.narrow(2, 0, 1280)?;
            let gate = h.narrow(2, 1280, 1280)?;
            (hidden * gate.gelu_erf()?)?;
            Ok(())
        },
        || {
            crate::ml::diffusion::blocks::geglu::geglu(&h)?;
            Ok(())
        },
    )?);
    Ok(())
}

fn conv_rows(timing: OpTiming, rows: &mut Vec<OpRow>) -> anyhow::Result<()> {
    let dev = Device::Cpu;
    // The UNet's four levels at 512 px (batch 2), its smallest at 256 px
    // and two VAE layers; weights at rest in f16 (the usual checkpoints).
    for (b, c, s) in [
        (2, 320, 64),
        (2, 640, 32),
        (2, 1280, 16),
        (2, 1280, 8),
        (2, 1280, 4),
        (1, 128, 512),
        (1, 512, 64),
    ] {
        let x = Tensor::randn(0f32, 1.0, (b, c, s, s), &dev)?;
        let vb = random_var_builder(3, DType::F16, &dev);
        let im2col_conv = Conv3x3::with_algorithm(c, c, vb.pp("conv"), ConvAlgorithm::Im2col)?;
        let winograd = |tile, storage| {
            Conv3x3::with_algorithm(c, c, vb.pp("conv"), ConvAlgorithm::Winograd(tile, storage))
        };
        let weight = vb
            .pp("conv")
            .get((c, c, 3, 3), "weight")?
            .to_dtype(DType::F32)?;
        let candle = median_of(timing, || {
            x.conv2d(&weight, 1, 1, 1, 1)?;
            Ok(())
        })?;
        let im2col = median_of(timing, || {
            im2col_conv.forward(&x)?;
            Ok(())
        })?;
        rows.push(OpRow {
            op: "conv 3x3 (im2col)",
            shape: format!("{:?}", (b, c, s, s)),
            candle: Some(candle),
            ours: im2col,
        });
        for (op, tile, storage) in [
            (
                "conv 3x3 (Winograd F(2x2,3x3), taps)",
                WinogradTile::F2,
                KernelStorage::Taps,
            ),
            (
                "conv 3x3 (Winograd F(2x2,3x3), kept)",
                WinogradTile::F2,
                KernelStorage::Transformed,
            ),
            (
                "conv 3x3 (Winograd F(4x4,3x3), taps)",
                WinogradTile::F4,
                KernelStorage::Taps,
            ),
            (
                "conv 3x3 (Winograd F(4x4,3x3), kept)",
                WinogradTile::F4,
                KernelStorage::Transformed,
            ),
        ] {
            let conv = winograd(tile, storage)?;
            let ours = median_of(timing, || {
                conv.forward(&x)?;
                Ok(())
            })?;
            rows.push(OpRow {
                op,
                shape: format!("{:?}", (b, c, s, s)),
                candle: Some(candle),
                ours,
            });
        }
    }
    Ok(())
}

/// Times the diffusion hot spots at SD 1.5 512 px shapes (ours against plain
/// candle) and prints a Markdown table.
/// `only`: the groups to run among `norm`, `geglu`, `conv`, `attention`
/// (empty: all). Each operation gets `warmup` untimed runs first.
pub fn bench_diffusion_ops(runs: usize, warmup: usize, only: &[String]) -> anyhow::Result<()> {
    let timing = OpTiming { runs, warmup };
    let wants = |group: &str| only.is_empty() || only.iter().any(|k| k.trim() == group);
    let mut rows = Vec::new();
    if wants("norm") {
        norm_rows(timing, &mut rows)?;
    }
    if wants("geglu") {
        geglu_rows(timing, &mut rows)?;
    }
    if wants("conv") {
        conv_rows(timing, &mut rows)?;
    }
    if wants("attention") {
        attention_rows(timing, &mut rows)?;
    }
    println!(
        "Diffusion operations, f32, CPU, {} threads, {runs} runs (median) after {warmup} warm-up",
        candle_core::utils::get_num_threads()
    );
    println!("| op | shape | candle ms | ours ms | speed-up |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let ours = row.ours.as_secs_f64() * 1e3;
        let (candle, ratio) = match row.candle {
            Some(c) => {
                let c = c.as_secs_f64() * 1e3;
                (format!("{c:.1}"), format!("{:.2}x", c / ours))
            }
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {} | {} | {candle} | {ours:.1} | {ratio} |",
            row.op, row.shape
        );
    }
    Ok(())
}

/// A `/proc/self/status` field in MiB (Linux; `None` elsewhere).
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Peak resident memory of this process in MiB since the last
/// [`reset_peak_rss`] (VmHWM).
fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Resident memory of this process now, in MiB (VmRSS).
fn current_rss_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// Resets the peak (VmHWM) to the current resident memory (Linux: "5" to
/// `/proc/self/clear_refs`; elsewhere nothing happens).
fn reset_peak_rss() {
    // Best effort: without it the rows' peaks are cumulative.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What `adstudio bench diffusion` measures.
#[derive(Debug, Clone)]
pub struct DiffusionBenchOptions {
    /// Image side in pixels (a multiple of 8).
    pub size: usize,
    /// Timed runs (the median is reported).
    pub runs: usize,
    /// Untimed warm-up runs.
    pub warmup: usize,
    /// Row keys to run (`unet`, `unet+controlnet`, `vae encode`,
    /// `vae decode`); empty: all.
    pub only: Vec<String>,
    /// Also print a per-layer profile of one more run of each row.
    pub profile: bool,
    /// The dtype weights are kept in at rest (compute is f32).
    pub weights: DType,
    /// The kernels the models run.
    pub kernels: Kernels,
    /// bf16 products (emulated; see [`crate::ml::diffusion::blocks::bf16`]).
    pub bf16: Bf16Mode,
}

impl DiffusionBenchOptions {
    fn wants(&self, key: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|k| k.trim() == key)
    }
}

/// Side of the square matrix product of the machine check.
const MACHINE_CHECK_SIDE: usize = 2048;

/// GFLOP/s of one large square f32 matrix product (best of 3): printed
/// before and after the rows, so that runs on a machine whose speed drifts
/// (a shared VM) can be compared with each other.
pub(super) fn machine_gflops(dev: &Device) -> anyhow::Result<f64> {
    let n = MACHINE_CHECK_SIDE;
    let a = Tensor::randn(0f32, 1.0, (n, n), dev)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), dev)?;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        a.matmul(&b)?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(profile::matmul_flops(n, n, n) / best / 1e9)
}

/// The 1-minute load average (`/proc/loadavg`), printed next to the
/// machine check: on a shared machine it says how many other jobs ran.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The models of the rows `--only` selects (random weights); the others
/// are not built, so a VAE-only run does not allocate the UNet.
struct BenchModels {
    unet: Option<UNet>,
    vae: Option<Vae>,
    controlnet: Option<ControlNet>,
}

impl BenchModels {
    fn new(
        options: &DiffusionBenchOptions,
        cfg: &SingleFileConfigs,
        dev: &Device,
    ) -> anyhow::Result<Self> {
        let vb = random_var_builder(1, options.weights, dev);
        let with_cn = options.wants("unet+controlnet");
        let unet = (options.wants("unet") || with_cn)
            .then(|| UNet::new(&cfg.unet, vb.pp("unet")))
            .transpose()?;
        let vae = (options.wants("vae encode") || options.wants("vae decode"))
            .then(|| Vae::new(&cfg.vae, vb.pp("vae")))
            .transpose()?;
        let controlnet = if with_cn {
            Some(ControlNet::random(
                &sd15_controlnet_config()?,
                2,
                options.weights,
                dev,
            )?)
        } else {
            None
        };
        let mut models = Self {
            unet,
            vae,
            controlnet,
        };
        models.set_kernels(options.kernels, options.bf16.enabled());
        Ok(models)
    }

    /// Every built model runs `kernels`, with bf16 operands when `bf16`.
    fn set_kernels(&mut self, kernels: Kernels, bf16: bool) {
        if let Some(m) = &mut self.unet {
            m.set_kernels(kernels);
            m.set_bf16_operands(bf16);
        }
        if let Some(m) = &mut self.vae {
            m.set_kernels(kernels);
            m.set_bf16_operands(bf16);
        }
        if let Some(m) = &mut self.controlnet {
            m.set_kernels(kernels);
            m.set_bf16_operands(bf16);
        }
    }

    fn unet(&self) -> anyhow::Result<&UNet> {
        self.unet.as_ref().context("the UNet was not built")
    }

    fn vae(&self) -> anyhow::Result<&Vae> {
        self.vae.as_ref().context("the VAE was not built")
    }

    fn controlnet(&self) -> anyhow::Result<&ControlNet> {
        self.controlnet
            .as_ref()
            .context("the ControlNet was not built")
    }
}

/// Runs the diffusion benchmark and prints a Markdown table.
pub fn bench_diffusion_table(options: &DiffusionBenchOptions) -> anyhow::Result<()> {
    let (size, runs, warmup) = (options.size, options.runs, options.warmup);
    if size == 0 || !size.is_multiple_of(8) {
        anyhow::bail!("--size must be a positive multiple of 8, got {size}");
    }
    let dev = Device::Cpu;
    let cfg = SingleFileConfigs::sd15()?;
    let mut models = BenchModels::new(options, &cfg, &dev)?;
    let l = size / 8;
    let latents = Tensor::randn(0f32, 1.0, (2, 4, l, l), &dev)?;
    let ehs = Tensor::randn(0f32, 1.0, (2, 77, cfg.unet.cross_attention_dim), &dev)?;
    let cond = Tensor::rand(0f32, 1.0, (1, 3, size, size), &dev)?;
    let image = Tensor::rand(-1f32, 1.0, (1, 3, size, size), &dev)?;
    let one_latent = Tensor::randn(0f32, 1.0, (1, 4, l, l), &dev)?;

    type RowFn<'a> = Box<dyn FnMut() -> anyhow::Result<()> + 'a>;
    let mut jobs: Vec<(&str, &str, RowFn)> = vec![
        (
            "unet",
            "UNet CFG step (batch 2)",
            Box::new(|| {
                models.unet()?.forward(&latents, 500.0, &ehs, None)?;
                Ok(())
            }),
        ),
        (
            "unet+controlnet",
            "UNet + ControlNet CFG step (batch 2)",
            Box::new(|| {
                let res = models
                    .controlnet()?
                    .forward(&latents, 500.0, &ehs, &cond, 1.0)?;
                models.unet()?.forward(&latents, 500.0, &ehs, Some(&res))?;
                Ok(())
            }),
        ),
        (
            "vae encode",
            "VAE encode",
            Box::new(|| {
                models.vae()?.encode(&image)?;
                Ok(())
            }),
        ),
        (
            "vae decode",
            "VAE decode",
            Box::new(|| {
                models.vae()?.decode(&one_latent)?;
                Ok(())
            }),
        ),
    ];
    jobs.retain(|(key, _, _)| options.wants(key));
    let load_before = load_average();
    let gflops_before = machine_gflops(&dev)?;
    let mut rows = Vec::new();
    let mut profiles = Vec::new();
    let loaded = current_rss_mib();
    for (key, label, run) in &mut jobs {
        reset_peak_rss();
        let timing = time(runs, warmup, &mut *run)?;
        rows.push((*key, *label, timing, peak_rss_mib()));
        if options.profile {
            profile::take();
            profile::set_enabled(true);
            let start = Instant::now();
            let result = run();
            let total = start.elapsed();
            profile::set_enabled(false);
            result?;
            profiles.push((*label, total, profile::take()));
        }
    }

    drop(jobs);
    let gflops_after = machine_gflops(&dev)?;
    print_table(options, &rows, (gflops_before, gflops_after));
    println!(
        "load average (1 min): {load_before} before the rows, {} after",
        load_average()
    );
    println!(
        "kernels: {:?}; {}",
        options.kernels,
        options.bf16.describe(options.kernels)
    );
    if options.bf16.enabled() && models.unet.is_some() {
        let (max, rms) = bf16_error(&mut models, options, (&latents, &ehs, &cond))?;
        println!(
            "bf16-operand UNet{} output against f32: max |diff| / max |f32| = {max:.2e}, \
             RMS relative = {rms:.2e}",
            if models.controlnet.is_some() {
                " + ControlNet"
            } else {
                ""
            }
        );
    }
    if let Some(mib) = loaded {
        println!("resident memory with the models built: {mib:.0} MiB");
    }
    for (label, total, layers) in profiles {
        print_profile(label, total, &layers);
    }
    Ok(())
}

/// The UNet (+ ControlNet, when built) noise prediction for `inputs`
/// (latents, text embeddings, control image) with bf16 operands against
/// f32: (max |diff| / max |f32|, RMS of diff / RMS of f32).
fn bf16_error(
    models: &mut BenchModels,
    options: &DiffusionBenchOptions,
    (latents, ehs, cond): (&Tensor, &Tensor, &Tensor),
) -> anyhow::Result<(f64, f64)> {
    let mut predict = |bf16: bool| -> anyhow::Result<Tensor> {
        models.set_kernels(options.kernels, bf16);
        let res = match &models.controlnet {
            Some(cn) => Some(cn.forward(latents, 500.0, ehs, cond, 1.0)?),
            None => None,
        };
        Ok(models.unet()?.forward(latents, 500.0, ehs, res.as_ref())?)
    };
    let reference = predict(false)?;
    let bf16 = predict(true)?;
    let diff = (&bf16 - &reference)?;
    let scalar = |t: Tensor| -> anyhow::Result<f64> { Ok(f64::from(t.to_scalar::<f32>()?)) };
    let max = scalar(diff.abs()?.max_all()?)? / scalar(reference.abs()?.max_all()?)?;
    let rms = (scalar(diff.sqr()?.mean_all()?)? / scalar(reference.sqr()?.mean_all()?)?).sqrt();
    Ok((max, rms))
}

/// One timed row: key, label, (median, min, max) and the peak resident
/// memory in MiB while it ran.
type Row<'a> = (
    &'a str,
    &'a str,
    (Duration, Duration, Duration),
    Option<f64>,
);

/// Prints the header, the machine check and one line per row.
fn print_table(options: &DiffusionBenchOptions, rows: &[Row<'_>], gflops: (f64, f64)) {
    let (size, runs, warmup) = (options.size, options.runs, options.warmup);
    let (gflops_before, gflops_after) = gflops;
    let threads = candle_core::utils::get_num_threads();
    println!(
        "SD 1.5 architectures, random weights at rest in {:?} (f32 compute), {size}x{size} px, \
         CPU, {threads} threads, {runs} runs (median) after {warmup} warm-up",
        options.weights
    );
    println!(
        "machine check ({MACHINE_CHECK_SIDE}^3 f32 matmul, best of 3): \
         {gflops_before:.0} GFLOP/s before the rows, {gflops_after:.0} after"
    );
    println!(
        "| benchmark | median s | min s | max s | PyTorch s | ratio (ours / PyTorch) | peak MiB |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (key, label, (median, min, max), peak) in rows {
        let m = median.as_secs_f64();
        let (reference, ratio) = match pytorch_reference(size, key) {
            Some(r) => (format!("{r:.2}"), format!("{:.2}x", m / r)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let peak = peak.map_or("-".to_owned(), |p| format!("{p:.0}"));
        println!(
            "| {label} | {m:.3} | {:.3} | {:.3} | {reference} | {ratio} | {peak} |",
            min.as_secs_f64(),
            max.as_secs_f64()
        );
    }
}

/// Prints one row's per-layer profile: time, share of the call, calls and
/// GFLOP/s of the labelled scopes, then the time no scope covered.
pub(super) fn print_profile(
    label: &str,
    total: Duration,
    layers: &[(&'static str, profile::LabelTotal)],
) {
    let total_s = total.as_secs_f64();
    println!();
    println!("Profile of one {label}: {total_s:.3} s");
    println!("| layer | s | % of call | calls | GFLOP/s |");
    println!("|---|---|---|---|---|");
    let mut covered = 0.0;
    for (name, t) in layers {
        let secs = t.elapsed.as_secs_f64();
        covered += secs;
        let rate = if t.flops > 0.0 && secs > 0.0 {
            format!("{:.0}", t.flops / secs / 1e9)
        } else {
            "-".to_owned()
        };
        println!(
            "| {name} | {secs:.3} | {:.1} | {} | {rate} |",
            100.0 * secs / total_s,
            t.calls
        );
    }
    let rest = (total_s - covered).max(0.0);
    println!(
        "| (not in a scope) | {rest:.3} | {:.1} | - | - |",
        100.0 * rest / total_s
    );
}
