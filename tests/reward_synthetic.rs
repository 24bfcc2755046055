//! The compact reward model trained from scratch on the synthetic click
//! world.

use adstudio::ml::reward::bench::{run_synthetic, SyntheticExperiment};

/// CI-sized run: held-out pairwise accuracy must reach 75% and beat the
/// "brighter image wins" rule by at least 10 points.
#[test]
fn compact_rm_learns_synthetic_world() {
    let exp = SyntheticExperiment::ci();
    let report = run_synthetic(&exp, |e| {
        eprintln!(
            "epoch {}/{}: loss {:.4} (ce {:.4}, mse {:.4}) val {:?} {:.1}s",
            e.epoch, e.epochs, e.loss, e.ce, e.mse, e.val_accuracy, e.seconds
        );
        Ok(())
    })
    .unwrap();
    eprintln!("{report}");
    let acc = report.accuracy.fraction();
    assert!(
        report.val_pairs >= 200,
        "too few held-out pairs: {}",
        report.val_pairs
    );
    assert!(acc >= 0.75, "held-out accuracy {acc:.3} < 0.75");
    assert!(
        acc >= report.brightness_baseline + 0.10,
        "accuracy {acc:.3} does not beat the brightness baseline {:.3} by 10 points",
        report.brightness_baseline
    );
}

/// The bench configuration (run with `--ignored --release`).
#[test]
#[ignore = "bench: run with --ignored --release"]
fn bench_reward_full() {
    let report = adstudio::ml::reward::bench::bench_reward(|e| {
        eprintln!(
            "epoch {}/{}: loss {:.4} (ce {:.4}, mse {:.4}) val {:?} {:.1}s",
            e.epoch, e.epochs, e.loss, e.ce, e.mse, e.val_accuracy, e.seconds
        );
        Ok(())
    })
    .unwrap();
    eprintln!("{report}");
    assert!(report.accuracy.fraction() >= 0.85);
}
