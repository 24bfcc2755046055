//! `adstudio bench reward`: the reward-model bench on the synthetic click
//! world (held-out accuracy with CI, baselines, time).

use crate::ml::reward::bench::{run_synthetic, ExperimentReport, SyntheticExperiment};

/// The bench experiment, optionally resized.
pub fn reward_experiment(products: Option<usize>, epochs: Option<usize>) -> SyntheticExperiment {
    let mut exp = SyntheticExperiment::bench();
    if let Some(p) = products {
        exp.world.products = p;
    }
    if let Some(e) = epochs {
        exp.train.epochs = e;
    }
    exp
}

/// Runs the bench (epoch lines on stderr) and prints its table.
pub fn bench_reward_table(products: Option<usize>, epochs: Option<usize>) -> anyhow::Result<()> {
    let exp = reward_experiment(products, epochs);
    if exp.world.products < 2 || exp.train.epochs == 0 {
        anyhow::bail!("bench reward needs --products >= 2 and --epochs >= 1");
    }
    let report: ExperimentReport = run_synthetic(&exp, |e| {
        eprintln!(
            "epoch {}/{}: loss {:.4}, validation accuracy {}",
            e.epoch,
            e.epochs,
            e.loss,
            e.val_accuracy
                .map(|a| format!("{:.1}%", 100.0 * a))
                .unwrap_or_else(|| "n/a".into())
        );
        Ok(())
    })?;
    println!(
        "synthetic world: {} products x {} creatives, {} px; CPU, {} threads",
        exp.world.products,
        exp.world.creatives_per_product,
        exp.world.image_size,
        candle_core::utils::get_num_threads()
    );
    println!("| held-out products | pairs | accuracy | 95% CI | brightness baseline | true-CTR ceiling | hard band | epochs | train s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let hard = report
        .hard_band
        .map(|h| format!("{:.1}% ({} pairs)", 100.0 * h.fraction(), h.total))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "| {} | {} | {:.1}% | +/- {:.1}% | {:.1}% | {:.1}% | {hard} | {} | {:.1} |",
        report.val_products,
        report.val_pairs,
        100.0 * report.accuracy.fraction(),
        100.0 * report.accuracy.ci95(),
        100.0 * report.brightness_baseline,
        100.0 * report.oracle,
        report.epochs.len(),
        report.train_seconds
    );
    Ok(())
}
