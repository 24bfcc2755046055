//! `adstudio bench ui` through the binary: a short run prints the machine
//! check, the thread plan and one row of frame-time percentiles for each
//! phase (idle, render running) with the frame counts asked for; bad
//! counts are refused. Timings are never asserted.

use std::process::{Command, Output};

fn bench_ui(args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("tmp");
    Command::new(env!("CARGO_BIN_EXE_adstudio"))
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["bench", "ui"])
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .env("CANDLE_NUM_THREADS", "1")
        .output()
        .expect("run adstudio")
}

/// The cells of the table row that starts with `| name |`.
fn row<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

#[test]
fn a_short_run_prints_percentiles_idle_and_while_a_render_runs() {
    let out = bench_ui(&["--frames", "24", "--steps", "3", "--short-side", "64"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("| phase | frames | p50 ms | p90 ms | p99 ms | max ms |"),
        "{stdout}"
    );
    assert!(stdout.contains("machine check"), "{stdout}");
    // CANDLE_NUM_THREADS is set, so the plan says it came from there.
    assert!(
        stdout.contains("threads: 1 model thread") && stdout.contains("CANDLE_NUM_THREADS"),
        "{stdout}"
    );
    assert!(stdout.contains("64 px canvas, 3 steps"), "{stdout}");
    for phase in ["idle", "render running"] {
        let cells = row(&stdout, phase);
        assert_eq!(cells.len(), 6, "{cells:?}");
        assert_eq!(cells[1], "24", "frames of {phase}");
        let ms: Vec<f64> = cells[2..]
            .iter()
            .map(|c| c.parse().unwrap_or_else(|_| panic!("{c:?} in {cells:?}")))
            .collect();
        assert!(ms.iter().all(|v| v.is_finite() && *v > 0.0), "{ms:?}");
        assert!(
            ms.windows(2).all(|w| w[0] <= w[1]),
            "p50 <= p90 <= p99 <= max: {ms:?}"
        );
    }
    let renders = stdout
        .split(" steps, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no render count in:\n{stdout}"));
    assert!(renders >= 1, "{stdout}");
    assert!(stdout.contains("target p99 <= 16 ms:"), "{stdout}");
}

#[test]
fn zero_frames_or_steps_are_refused() {
    for args in [["--frames", "0"], ["--steps", "0"]] {
        let out = bench_ui(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            stderr.contains(&format!("{} must be at least 1", args[0])),
            "{stderr}"
        );
    }
}
