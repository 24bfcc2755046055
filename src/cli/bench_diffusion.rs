//! `adstudio bench diffusion`: the real SD 1.5 UNet, ControlNet and VAE
//! architectures with random weights (plain tensors), timed on this CPU.

use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};

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

/// Peak resident memory of this process in MiB (Linux; `None` elsewhere).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the diffusion benchmark at `size` px and prints a Markdown table.
pub fn bench_diffusion_table(size: usize, runs: usize, warmup: usize) -> anyhow::Result<()> {
    if size == 0 || !size.is_multiple_of(8) {
        anyhow::bail!("--size must be a positive multiple of 8, got {size}");
    }
    let dev = Device::Cpu;
    let cfg = SingleFileConfigs::sd15()?;
    let vb = random_var_builder(1, DType::F32, &dev);
    let unet = UNet::new(&cfg.unet, vb.pp("unet"))?;
    let vae = Vae::new(&cfg.vae, vb.pp("vae"))?;
    let cn = ControlNet::random(&sd15_controlnet_config()?, 2, DType::F32, &dev)?;
    let l = size / 8;
    let latents = Tensor::randn(0f32, 1.0, (2, 4, l, l), &dev)?;
    let ehs = Tensor::randn(0f32, 1.0, (2, 77, cfg.unet.cross_attention_dim), &dev)?;
    let cond = Tensor::rand(0f32, 1.0, (1, 3, size, size), &dev)?;
    let image = Tensor::rand(-1f32, 1.0, (1, 3, size, size), &dev)?;
    let one_latent = Tensor::randn(0f32, 1.0, (1, 4, l, l), &dev)?;

    let mut rows = Vec::new();
    let unet_t = time(runs, warmup, || {
        unet.forward(&latents, 500.0, &ehs, None)?;
        Ok(())
    })?;
    rows.push(("unet", "UNet CFG step (batch 2)", unet_t));
    let cn_t = time(runs, warmup, || {
        let res = cn.forward(&latents, 500.0, &ehs, &cond, 1.0)?;
        unet.forward(&latents, 500.0, &ehs, Some(&res))?;
        Ok(())
    })?;
    rows.push((
        "unet+controlnet",
        "UNet + ControlNet CFG step (batch 2)",
        cn_t,
    ));
    let enc_t = time(runs, warmup, || {
        vae.encode(&image)?;
        Ok(())
    })?;
    rows.push(("vae encode", "VAE encode", enc_t));
    let dec_t = time(runs, warmup, || {
        vae.decode(&one_latent)?;
        Ok(())
    })?;
    rows.push(("vae decode", "VAE decode", dec_t));

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "SD 1.5 architectures, random f32 weights, {size}x{size} px, CPU, {threads} threads, \
         {runs} runs (median)"
    );
    println!("| benchmark | median s | min s | max s | PyTorch s | ratio (ours / PyTorch) |");
    println!("|---|---|---|---|---|---|");
    for (key, label, (median, min, max)) in rows {
        let m = median.as_secs_f64();
        let (reference, ratio) = match pytorch_reference(size, key) {
            Some(r) => (format!("{r:.2}"), format!("{:.2}x", m / r)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {label} | {m:.3} | {:.3} | {:.3} | {reference} | {ratio} |",
            min.as_secs_f64(),
            max.as_secs_f64()
        );
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory (VmHWM): {mib:.0} MiB");
    }
    Ok(())
}
