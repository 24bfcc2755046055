//! Every command-line flag the README documents (and those of `render`),
//! run through the binary and checked for its effect, not just exit code 0.
//! What tests/cli_prepare.rs, cli_suggest.rs, cli_rm.rs, cli_bench.rs and
//! render_cli.rs already check is not repeated here.
//!
//! Inputs are tiny (drawn products, the tiny model fixtures). Flags that
//! need a real model are ignored, with the reason written beside each
//! ("needs <model>: set ADSTUDIO_..."), and run in CI with the models.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use adstudio::product::{grow_shrink, MaskSourceChoice, MAX_ASPECT, MIN_SIDE};
use adstudio::render::read_png_params;

use crate::common::{fixtures, models, words};
use image::{GrayImage, Rgb, RgbImage};

fn adstudio(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.env("ADSTUDIO_DATA_DIR", data)
        .env("CANDLE_NUM_THREADS", "1")
        .env("RUST_LOG", "warn");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs and asserts success; returns stdout.
fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs and asserts failure; returns stderr.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded\nstdout: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

// ---------------------------------------------------------------- prepare

/// A 120 x 100 photo on a flat grey backdrop: a dark-blue bottle with a
/// pale ring (15 grey levels off the backdrop) around it.
fn bottle_with_halo(path: &Path) {
    let img = RgbImage::from_fn(120, 100, |x, y| {
        let (dx, dy) = (x as i32 - 60, y as i32 - 50);
        if dx.abs() < 18 && dy.abs() < 35 {
            Rgb([20, 30, 120])
        } else if dx.abs() < 24 && dy.abs() < 41 {
            Rgb([215, 215, 215])
        } else {
            Rgb([200, 200, 200])
        }
    });
    img.save(path).unwrap();
}

struct Prepared {
    canvas: image::RgbaImage,
    inpaint: GrayImage,
    product_mask: GrayImage,
    report: serde_json::Value,
}

/// `adstudio prepare PRODUCT --out DIR --short-side 64 EXTRA...`.
fn prepare(dir: &Path, product: &Path, name: &str, extra: &[&str]) -> Prepared {
    let out = dir.join(name);
    let stdout = ok(adstudio(&dir.join("data"))
        .arg("prepare")
        .arg(product)
        .arg("--out")
        .arg(&out)
        .args(extra));
    assert!(stdout.contains("canvas.png"), "{stdout}");
    Prepared {
        canvas: image::open(out.join("canvas.png")).unwrap().to_rgba8(),
        inpaint: image::open(out.join("mask.png")).unwrap().to_luma8(),
        product_mask: image::open(out.join("product_mask.png"))
            .unwrap()
            .to_luma8(),
        report: serde_json::from_slice(&std::fs::read(out.join("prepare.json")).unwrap()).unwrap(),
    }
}

/// `base` then `more`.
fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [base, more].concat()
}

fn count(mask: &GrayImage, keep: impl Fn(u8) -> bool) -> usize {
    mask.pixels().filter(|p| keep(p.0[0])).count()
}

/// `--short-side 256` gives a 256-px canvas (1:1), `--aspect 9:16` with
/// `--short-side 64` a 64 x 112 one; the report records both.
#[test]
fn prepare_short_side_and_aspect_size_the_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let square = prepare(dir.path(), &product, "a", &["--short-side", "256"]);
    assert_eq!(square.canvas.dimensions(), (256, 256));
    assert_eq!(square.report["canvas_settings"]["short_side"], 256);
    let tall = prepare(
        dir.path(),
        &product,
        "b",
        &["--short-side", "64", "--aspect", "9:16"],
    );
    assert_eq!(tall.canvas.dimensions(), (64, 112));
    assert_eq!(tall.report["canvas_size"], serde_json::json!([64, 112]));
}

/// `--mask-source` accepts every name of `MaskSourceChoice::ALL`: alpha on
/// an opaque photo takes the whole picture, key removes the backdrop, auto
/// keys it too; saliency is accepted by the parser and uses
/// `--saliency-model` (here a missing file, named in the error). An
/// unknown name lists every choice.
#[test]
fn prepare_mask_source_choices_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let fast = ["--short-side", "64", "--mask-source"];
    let alpha = prepare(dir.path(), &product, "alpha", &with(&fast, &["alpha"]));
    assert_eq!(alpha.report["mask_source"], "Alpha");
    assert_eq!(count(&alpha.product_mask, |v| v == 255), 120 * 100);
    let key = prepare(dir.path(), &product, "key", &with(&fast, &["key"]));
    assert_eq!(key.report["mask_source"], "Key");
    let keyed = count(&key.product_mask, |v| v >= 128);
    assert!((30 * 64..=40 * 74).contains(&keyed), "{keyed}");
    let auto = prepare(dir.path(), &product, "auto", &with(&fast, &["auto"]));
    assert_eq!(auto.report["mask_source"], "Key");

    let missing = dir.path().join("no-such-u2netp.onnx");
    let stderr = fails(
        adstudio(&dir.path().join("data"))
            .env_remove("ADSTUDIO_U2NETP_ONNX")
            .arg("prepare")
            .arg(&product)
            .args([
                "--out",
                "unused",
                "--mask-source",
                "saliency",
                "--saliency-model",
            ])
            .arg(&missing),
    );
    assert!(!stderr.contains("unknown mask source"), "{stderr}");
    assert!(stderr.contains("no-such-u2netp.onnx"), "{stderr}");

    let stderr = fails(adstudio(dir.path()).args([
        "prepare",
        "x.png",
        "--out",
        "o",
        "--mask-source",
        "u2net",
    ]));
    for choice in MaskSourceChoice::ALL {
        assert!(stderr.contains(choice.name()), "{stderr}");
    }
}

/// The help text and the README list exactly the names the parser takes.
#[test]
fn prepare_help_and_readme_name_every_mask_source() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(adstudio(dir.path()).args(["prepare", "--help"]));
    for choice in MaskSourceChoice::ALL {
        assert!(help.contains(choice.name()), "{help}");
        assert!(help.contains(choice.description()), "{help}");
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let documented = format!("--mask-source {}", MaskSourceChoice::names("|"));
    assert!(readme.contains(&documented), "README lacks {documented:?}");
}

/// `--tolerance`: at the default (24) the pale ring is keyed out with the
/// backdrop; at 8 it is more than 8 levels off the backdrop and stays
/// product, so the mask grows by the ring.
#[test]
fn prepare_tolerance_decides_what_is_backdrop() {
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let base = ["--short-side", "64", "--mask-source", "key"];
    let loose = prepare(dir.path(), &product, "loose", &base);
    let tight = prepare(
        dir.path(),
        &product,
        "tight",
        &with(&base, &["--tolerance", "8"]),
    );
    let (l, t) = (
        count(&loose.product_mask, |v| v >= 128),
        count(&tight.product_mask, |v| v >= 128),
    );
    // The bottle is 35 x 69 px, bottle and ring 47 x 81 px.
    assert!((30 * 64..=40 * 74).contains(&l), "default tolerance: {l}");
    assert!((44 * 78..=50 * 84).contains(&t), "tolerance 8: {t}");
    assert_eq!(tight.report["mask_settings"]["key"]["tolerance"], 8.0);
}

/// `--grow 3` / `--grow -3` are the library's dilation / erosion of the
/// base mask; `--feather 4` adds a soft edge (grey values) the hard keyed
/// mask does not have.
#[test]
fn prepare_grow_and_feather_shape_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let base = ["--short-side", "64", "--mask-source", "key"];
    let plain = prepare(dir.path(), &product, "plain", &base);
    let grown = prepare(
        dir.path(),
        &product,
        "grown",
        &with(&base, &["--grow", "3"]),
    );
    let shrunk = prepare(
        dir.path(),
        &product,
        "shrunk",
        &with(&base, &["--grow", "-3"]),
    );
    assert_eq!(grown.product_mask, grow_shrink(&plain.product_mask, 3));
    assert_eq!(shrunk.product_mask, grow_shrink(&plain.product_mask, -3));
    let area = |m: &GrayImage| count(m, |v| v >= 128);
    assert!(area(&grown.product_mask) > area(&plain.product_mask));
    assert!(area(&shrunk.product_mask) < area(&plain.product_mask));

    let soft = prepare(
        dir.path(),
        &product,
        "soft",
        &with(&base, &["--feather", "4"]),
    );
    let grey = |m: &GrayImage| count(m, |v| (16..240).contains(&v));
    assert!(
        grey(&soft.product_mask) > 2 * grey(&plain.product_mask) + 100,
        "feathered {} vs plain {}",
        grey(&soft.product_mask),
        grey(&plain.product_mask)
    );
    assert_eq!(soft.report["mask_settings"]["feather_px"], 4.0);
}

/// `--fit 0.4` places the product at about half the size of the default
/// 0.78; `--seam-px 0` / `--seam-px 8` make the repainted zone reach less /
/// more into the product than the default 10 px... measured on the
/// inpaint mask.
#[test]
fn prepare_fit_and_seam_px_change_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let base = ["--short-side", "128", "--mask-source", "key"];
    let default = prepare(dir.path(), &product, "default", &base);
    let small = prepare(
        dir.path(),
        &product,
        "small",
        &with(&base, &["--fit", "0.4"]),
    );
    let scale = |p: &Prepared| p.report["placement"]["scale"].as_f64().unwrap();
    let ratio = scale(&small) / scale(&default);
    assert!((ratio - 0.4 / 0.78).abs() < 0.03, "{ratio}");
    let opaque = |p: &Prepared| p.canvas.pixels().filter(|px| px.0[3] >= 128).count();
    assert!(
        opaque(&small) * 3 < opaque(&default),
        "area should shrink ~4x"
    );

    let none = prepare(
        dir.path(),
        &product,
        "seam0",
        &with(&base, &["--seam-px", "0"]),
    );
    let wide = prepare(
        dir.path(),
        &product,
        "seam8",
        &with(&base, &["--seam-px", "8"]),
    );
    let white = |p: &Prepared| count(&p.inpaint, |v| v >= 128);
    assert!(
        white(&none) < white(&wide),
        "{} vs {}",
        white(&none),
        white(&wide)
    );
    assert!(
        white(&wide) < white(&default),
        "{} vs {}",
        white(&wide),
        white(&default)
    );
    assert_eq!(none.report["canvas_settings"]["inpaint_dilate_px"], 0);
}

/// A 4000 x 10 strip (and a 12 x 12 icon) is refused at decode time with
/// the size and the limit in the message.
#[test]
fn prepare_refuses_degenerate_images() {
    let dir = tempfile::tempdir().unwrap();
    let strip = dir.path().join("strip.png");
    RgbImage::from_pixel(4000, 10, Rgb([200, 30, 30]))
        .save(&strip)
        .unwrap();
    let stderr = fails(
        adstudio(dir.path())
            .arg("prepare")
            .arg(&strip)
            .args(["--out", "o"]),
    );
    assert!(stderr.contains("strip.png"), "{stderr}");
    assert!(stderr.contains("4000 x 10"), "{stderr}");
    assert!(stderr.contains(&format!("{MAX_ASPECT}:1")), "{stderr}");

    let icon = dir.path().join("icon.png");
    RgbImage::from_pixel(12, 12, Rgb([200, 30, 30]))
        .save(&icon)
        .unwrap();
    let stderr = fails(
        adstudio(dir.path())
            .arg("prepare")
            .arg(&icon)
            .args(["--out", "o"]),
    );
    assert!(stderr.contains("12 x 12"), "{stderr}");
    assert!(stderr.contains(&format!("{MIN_SIDE} pixels")), "{stderr}");
}

/// With the real U²-Net-p: `--mask-source saliency --saliency-model FILE`
/// uses the model even on a keyable photo.
#[test]
#[ignore = "needs U2-Net-p: set ADSTUDIO_U2NETP_ONNX"]
fn prepare_mask_source_saliency_uses_the_model() {
    let model = models::u2netp_onnx();
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("bottle.png");
    bottle_with_halo(&product);
    let forced = prepare(
        dir.path(),
        &product,
        "sal",
        &[
            "--short-side",
            "64",
            "--mask-source",
            "saliency",
            "--saliency-model",
            model.to_str().unwrap(),
        ],
    );
    assert_eq!(forced.report["mask_source"], "Saliency");
    // The bottle itself is found.
    let mask = &forced.product_mask;
    assert!(mask.get_pixel(60, 50).0[0] >= 128);
    assert!(mask.get_pixel(3, 3).0[0] < 128);
}

// ------------------------------------------------------------------ bench

/// With the real U²-Net-p: `bench saliency --runs 2 --warmup 0 --model F`
/// prints one row with 2 runs.
#[test]
#[ignore = "needs U2-Net-p: set ADSTUDIO_U2NETP_ONNX"]
fn bench_saliency_runs_and_model() {
    let model = models::u2netp_onnx();
    let dir = tempfile::tempdir().unwrap();
    let out = ok(adstudio(dir.path())
        .env_remove("ADSTUDIO_U2NETP_ONNX")
        .args([
            "bench", "saliency", "--runs", "2", "--warmup", "0", "--model",
        ])
        .arg(&model));
    let row = out
        .lines()
        .find(|l| l.starts_with("| U²-Net-p mask"))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[4], "2", "{row}");
    assert!(out.contains("0 warm-up"), "{out}");
}

/// A copy of a tiny model fixture folder (`qwen2_tiny`, `llava_tiny`) with
/// a 512-word tokenizer (`w0`..`w510`, `<image>` = 511); the fixtures have
/// none.
fn tiny_model(root: &Path, fixture: &str) -> PathBuf {
    let tok = words::tokenizer_with_image_and_decoder();
    words::model_folder(
        &fixtures::fixture_dir(fixture),
        &root.join(fixture),
        Some(&tok),
    )
}

fn tiny_qwen2(root: &Path) -> PathBuf {
    tiny_model(root, "qwen2_tiny")
}

/// `bench pcpo --model DIR --pairs 3 --batch 2` trains one epoch of 3
/// synthetic pairs on that model and prints its row with the machine
/// checks; zero pairs is refused.
#[test]
fn bench_pcpo_model_pairs_and_batch() {
    let dir = tempfile::tempdir().unwrap();
    let model = crate::cli_pcpo::model(dir.path());
    let out = ok(adstudio(dir.path())
        .args(["bench", "pcpo", "--pairs", "3", "--batch", "2", "--model"])
        .arg(&model));
    assert!(out.contains("machine check"), "{out}");
    assert!(out.contains("| model | 3 | 2 |"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("| model | 3 |"))
        .unwrap();
    let pairs_per_sec: f64 = row.split('|').nth(5).unwrap().trim().parse().unwrap();
    assert!(pairs_per_sec > 0.0, "{row}");
    let zero = adstudio(dir.path())
        .args(["bench", "pcpo", "--pairs", "0", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(!zero.status.success());
    assert!(
        text(&zero.stderr).contains("--pairs"),
        "{}",
        text(&zero.stderr)
    );
}

/// `bench prompt-model --model DIR --runs 2` measures that model, 2 runs.
#[test]
fn bench_prompt_model_model_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_qwen2(dir.path());
    let out = ok(adstudio(dir.path())
        .env_remove("ADSTUDIO_SMOLLM2_GGUF")
        .args(["bench", "prompt-model", "--runs", "2", "--model"])
        .arg(&model));
    assert!(out.contains("qwen2_tiny"), "{out}");
    assert!(out.contains("median of 2 runs"), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("| Quantized") || l.starts_with("| F32"))
            .count(),
        2,
        "{out}"
    );
}

/// `bench reward --products 4 --epochs 2`: the world has 4 products and
/// training ran 2 epochs (the table's epochs column).
#[test]
fn bench_reward_products_and_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        ok(adstudio(dir.path()).args(["bench", "reward", "--products", "4", "--epochs", "2"]));
    assert!(out.contains("synthetic world: 4 products"), "{out}");
    let row = out.lines().last().unwrap();
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[8], "2", "epochs column of {row}");
}

/// `bench diffusion --size 8 --only "vae decode" --runs 2 --warmup 0
/// --profile`: one row at 8x8 px, 2 runs, no warm-up, and its profile.
#[test]
fn bench_diffusion_size_only_runs_warmup_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(adstudio(dir.path()).args([
        "bench",
        "diffusion",
        "--size",
        "8",
        "--only",
        "vae decode",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--profile",
    ]));
    assert!(out.contains("8x8 px"), "{out}");
    assert!(out.contains("2 runs (median) after 0 warm-up"), "{out}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| VAE") || l.starts_with("| UNet"))
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].starts_with("| VAE decode |"), "{out}");
    assert!(out.contains("Profile of one VAE decode"), "{out}");
}

/// `bench diffusion --ops --only norm --runs 1`: only the normalisation
/// rows (no convolution, GEGLU or attention rows).
#[test]
fn bench_diffusion_ops_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(adstudio(dir.path()).args([
        "bench",
        "diffusion",
        "--ops",
        "--only",
        "norm",
        "--runs",
        "1",
    ]));
    assert!(out.contains("1 runs (median)"), "{out}");
    assert!(out.contains("| group norm (32 groups) |"), "{out}");
    assert!(out.contains("| SiLU |"), "{out}");
    for other in ["conv 3x3", "GEGLU", "attention"] {
        assert!(!out.contains(other), "{other} in {out}");
    }
}

// ---------------------------------------------------------------- suggest

/// A product photo: a coloured mug on a white backdrop.
fn mug(root: &Path, name: &str, colour: [u8; 3]) -> PathBuf {
    let path = root.join(name);
    let mut img = RgbImage::from_pixel(64, 48, Rgb([255, 255, 255]));
    for y in 10..40 {
        for x in 20..44 {
            img.put_pixel(x, y, Rgb(colour));
        }
    }
    img.save(&path).unwrap();
    path
}

/// `adstudio suggest` on `model` with `--max-tokens 6` and `args`.
fn suggest(data: &Path, product: &Path, model: &Path, args: &[&str]) -> Output {
    adstudio(data)
        .args(["suggest", "--max-tokens", "6", "--product"])
        .arg(product)
        .arg("--model")
        .arg(model)
        .args(args)
        .output()
        .unwrap()
}

/// Stdout of a suggest run with a tiny random model: the pipeline screens
/// all its junk out, so the command fails saying so and prints the best
/// rejected ones marked; returns those lines without their marks.
fn stdout_ok(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() || stderr.contains("passed the rules"),
        "stderr: {stderr}"
    );
    text(&out.stdout)
        .lines()
        .map(|l| {
            l.strip_prefix("[rejected: ")
                .and_then(|rest| rest.split_once("] "))
                .map_or(l, |(_, t)| t)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `--seed`: the same seed gives the same suggestions, another seed other
/// ones; `--product` is read through the product intake (a degenerate
/// strip is refused); `--quiet` stops the candidate lines on stderr.
#[test]
fn suggest_seed_product_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_qwen2(dir.path());
    let red = mug(dir.path(), "red.png", [200, 20, 30]);
    let run = |product: &Path, seed: &str, quiet: bool| {
        let mut args = vec!["--title", "Ceramic mug", "--n", "2", "--seed", seed];
        if quiet {
            args.push("--quiet");
        }
        suggest(dir.path(), product, &model, &args)
    };
    let first = run(&red, "5", false);
    let a = stdout_ok(&first);
    assert!(
        text(&first.stderr).contains("candidate 1: w"),
        "nothing streamed"
    );
    let quiet = run(&red, "5", true);
    assert_eq!(stdout_ok(&quiet), a, "same seed, other output");
    assert!(
        !text(&quiet.stderr).contains("candidate 1:"),
        "{}",
        text(&quiet.stderr)
    );
    assert_ne!(stdout_ok(&run(&red, "6", true)), a, "--seed ignored");

    // `--product` goes through the product intake: a 4000 x 10 strip is
    // refused with its size. (What the facts change in the answers is
    // checked with the real SmolLM2 below: the tiny random model's answers
    // hardly depend on anything but the last tokens of the prompt.)
    let strip = dir.path().join("strip.png");
    RgbImage::from_pixel(4000, 10, Rgb([200, 20, 30]))
        .save(&strip)
        .unwrap();
    let out = run(&strip, "5", true);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("4000 x 10"),
        "{}",
        text(&out.stderr)
    );
}

/// `--temperature 0` is greedy, so `--top-p` does not matter; a tiny
/// `--top-p` (or 0) keeps only the top token, which is greedy too, while
/// `--top-p 1` at a high temperature samples something else. Out-of-range
/// values are refused naming the flags.
#[test]
fn suggest_temperature_and_top_p() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_qwen2(dir.path());
    let red = mug(dir.path(), "red.png", [200, 20, 30]);
    let run = |t: &str, p: &str| {
        let args = [
            "--title",
            "Ceramic mug",
            "--n",
            "1",
            "--seed",
            "1",
            "--quiet",
            "--top-p",
            p,
        ];
        // `--temperature=-1` (a separate `-1` would read as a flag).
        let temperature = format!("--temperature={t}");
        let mut args = args.to_vec();
        args.push(&temperature);
        suggest(dir.path(), &red, &model, &args)
    };
    let greedy = stdout_ok(&run("0", "0.9"));
    assert_eq!(stdout_ok(&run("0", "0.2")), greedy);
    assert_eq!(stdout_ok(&run("3", "0.000001")), greedy);
    assert_eq!(stdout_ok(&run("3", "0")), greedy);
    assert_ne!(stdout_ok(&run("3", "1")), greedy);
    let bad = run("-1", "0.9");
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--temperature"),
        "{}",
        text(&bad.stderr)
    );
    let bad = run("0.8", "1.5");
    assert!(
        text(&bad.stderr).contains("--top-p"),
        "{}",
        text(&bad.stderr)
    );
}

/// `--max-tokens 2` caps every answer at two words of the test vocabulary;
/// a 213-character mixed-language `--title` is shortened, with a note on
/// stderr giving the title used.
#[test]
fn suggest_max_tokens_and_long_title() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_qwen2(dir.path());
    let red = mug(dir.path(), "red.png", [200, 20, 30]);
    let title = "Lumora 保湿沐浴露 Hydrating Shower Gel 500ml x 2 Pack Aloe Vera & Cucumber \
        Fresh Scent For Dry Skin Men Women Family Size New 2024 Free Shipping [HOT SALE] \
        LM-SG500X2 包邮 热卖 Lumora Body Wash Gel Douche Hydratant 沐浴露 家庭装 Best Seller";
    assert!(title.chars().count() > 200);
    let out = adstudio(dir.path())
        .args([
            "suggest",
            "--max-tokens",
            "2",
            "--n",
            "2",
            "--seed",
            "2",
            "--quiet",
        ])
        .arg("--product")
        .arg(&red)
        .arg("--model")
        .arg(&model)
        .args(["--title", title])
        .output()
        .unwrap();
    let stdout = stdout_ok(&out);
    for line in stdout.lines() {
        assert!(line.split_whitespace().count() <= 2, "{line:?}");
    }
    let stderr = text(&out.stderr);
    let note = stderr
        .lines()
        .find(|l| l.starts_with("note: title shortened for the prompt model: \""))
        .unwrap_or_else(|| panic!("no note in {stderr}"));
    assert!(
        note.contains("Lumora 保湿沐浴露 Hydrating Shower Gel Aloe Vera"),
        "{note}"
    );
    assert!(!note.contains("500ml") && !note.contains("包邮"), "{note}");

    let short = suggest(
        dir.path(),
        &red,
        &model,
        &["--title", "Red mug", "--n", "1"],
    );
    stdout_ok(&short);
    assert!(!text(&short.stderr).contains("note: title shortened"));
}

/// With the real SmolLM2-135M-Instruct GGUF: `--n 2` gives two lines that
/// pass the rules, the same `--seed` reproduces them, and a long title is
/// shortened.
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn suggest_flags_with_smollm2() {
    let gguf = models::smollm2_gguf();
    let dir = tempfile::tempdir().unwrap();
    let red = mug(dir.path(), "red.png", [200, 20, 30]);
    let title = "Lumora Ceramic Coffee Mug 350ml 2 Pack Matte Red Glaze Stoneware Cup with Handle \
        for Latte Cappuccino Tea New 2024 Free Shipping [HOT SALE] LM-MUG350X2 Gift Box Best Seller";
    let run = || {
        adstudio(dir.path())
            .args(["suggest", "--n", "2", "--seed", "4", "--temperature", "0.7"])
            .args(["--top-p", "0.9", "--quiet", "--title", title])
            .arg("--product")
            .arg(&red)
            .arg("--model")
            .arg(&gguf)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let a = stdout_ok(&first);
    println!("{a}");
    assert_eq!(a.lines().count(), 2, "{a}");
    assert_eq!(stdout_ok(&run()), a);
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("note: title shortened for the prompt model: \"Lumora Ceramic Coffee Mug"),
        "{stderr}"
    );

    // --product (with --raw, whose instruction carries the image facts):
    // the facts of a blue and yellow product change the greedy answer for
    // the same title.
    let greedy = |product: &Path| {
        stdout_ok(
            &adstudio(dir.path())
                .args([
                    "suggest",
                    "--raw",
                    "--n",
                    "1",
                    "--seed",
                    "4",
                    "--temperature",
                    "0",
                ])
                .args(["--max-tokens", "40", "--quiet", "--title", "Ceramic mug"])
                .arg("--product")
                .arg(product)
                .arg("--model")
                .arg(&gguf)
                .output()
                .unwrap(),
        )
    };
    let two_tone = mug(dir.path(), "two_tone.png", [20, 40, 200]);
    let mut img = image::open(&two_tone).unwrap().to_rgb8();
    for y in 25..40 {
        for x in 20..44 {
            img.put_pixel(x, y, Rgb([240, 220, 20]));
        }
    }
    img.save(&two_tone).unwrap();
    let (r, b) = (greedy(&red), greedy(&two_tone));
    println!("red: {r}blue and yellow: {b}");
    assert_ne!(r, b, "--product ignored");
}

/// `bench suggestions --titles F --model M --n 2 --out T`: with the tiny
/// random Qwen2 and the real all-MiniLM-L6-v2, prints a row per mode and
/// split (`tune`, `holdout`, `all`) and the reject-reason table, and writes
/// one TSV row per suggestion (2 titles x 3 modes x 2); the pipeline's rows
/// are the marked best rejected ones (the tiny model's word tokenizer
/// cannot write the scene library, so it plans in free text, and its words
/// pass no rule). `--only raw` keeps one mode. Without `--titles` it fails
/// naming the flag.
#[test]
#[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
fn bench_suggestions_flags() {
    let minilm = models::minilm_dir();
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_qwen2(dir.path());
    let titles = dir.path().join("titles.tsv");
    std::fs::write(
        &titles,
        "split\tcategory\ttitle\ntune\tfood\tSesame oil\nholdout\ttoys\tPlush bear\n",
    )
    .unwrap();
    let out_tsv = dir.path().join("out.tsv");
    let stdout = ok(adstudio(dir.path())
        .env("ADSTUDIO_MINILM", &minilm)
        .args(["bench", "suggestions", "--n", "2", "--titles"])
        .arg(&titles)
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out_tsv));
    println!("{stdout}");
    for row in [
        "| pipeline | all | 2 |",
        "| pipeline | tune | 1 |",
        "| pipeline | holdout | 1 |",
        "| raw model | all | 2 |",
        "| free plan | all | 2 |",
        "| mode | reject reason | candidates | share |",
    ] {
        assert!(stdout.contains(row), "{row} missing in {stdout}");
    }
    let rows = csv_rows(&out_tsv);
    assert_eq!(rows.len(), 1 + 12, "{rows:?}");
    let pipeline: Vec<&String> = rows.iter().filter(|r| r.contains("\tpipeline\t")).collect();
    assert_eq!(pipeline.len(), 4);
    assert!(
        pipeline
            .iter()
            .all(|r| r.split('\t').nth(6).is_some_and(|c| !c.is_empty())),
        "{pipeline:?}"
    );
    let only = ok(adstudio(dir.path())
        .env("ADSTUDIO_MINILM", &minilm)
        .args([
            "bench",
            "suggestions",
            "--n",
            "1",
            "--only",
            "raw",
            "--titles",
        ])
        .arg(&titles)
        .arg("--model")
        .arg(&model));
    assert!(only.contains("| raw model | all | 2 |"), "{only}");
    assert!(!only.contains("| pipeline |"), "{only}");
    let missing = adstudio(dir.path())
        .args(["bench", "suggestions"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("--titles"),
        "{}",
        text(&missing.stderr)
    );
}

/// `bench suggestions --precision f32|quantized` with the real SmolLM2
/// GGUF: both load the model their way and give the pipeline's table; an
/// unknown precision is refused by name.
#[test]
#[ignore = "needs SmolLM2 and MiniLM: set ADSTUDIO_SMOLLM2_GGUF and ADSTUDIO_MINILM"]
fn bench_suggestions_precision_flag() {
    let gguf = models::smollm2_gguf();
    let minilm = models::minilm_dir();
    let dir = tempfile::tempdir().unwrap();
    let titles = dir.path().join("titles.tsv");
    std::fs::write(
        &titles,
        "split\tcategory\ttitle\ntune\tfood\tWildflower Raw Honey 500g Glass Jar\n",
    )
    .unwrap();
    for precision in ["f32", "quantized"] {
        let out_tsv = dir.path().join(format!("{precision}.tsv"));
        let stdout = ok(adstudio(dir.path())
            .env("ADSTUDIO_MINILM", &minilm)
            .args(["bench", "suggestions", "--n", "1", "--only", "pipeline"])
            .args(["--precision", precision, "--titles"])
            .arg(&titles)
            .arg("--model")
            .arg(&gguf)
            .arg("--out")
            .arg(&out_tsv));
        assert!(stdout.contains("| pipeline | all | 1 |"), "{stdout}");
        let rows = csv_rows(&out_tsv);
        let picked: Vec<&String> = rows
            .iter()
            .filter(|r| r.contains("\tpipeline\t") && r.split('\t').nth(6) == Some(""))
            .collect();
        assert_eq!(picked.len(), 1, "{precision}: {rows:?}");
        assert!(picked[0].contains(" in "), "{precision}: {picked:?}");
    }
    let bad = adstudio(dir.path())
        .args(["bench", "suggestions", "--precision", "f16", "--titles"])
        .arg(&titles)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("f16"), "{}", text(&bad.stderr));
}

// --------------------------------------------------------------------- rm

fn csv_rows(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `rm synth --size 24` writes 24-px images; `--seed` makes the world
/// reproducible and another seed gives another world; `--products 3
/// --creatives 2` gives 6 rows.
#[test]
fn rm_synth_size_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let world = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        ok(adstudio(dir.path())
            .args(["rm", "synth", "--products", "3", "--creatives", "2"])
            .args(["--size", "24", "--seed", seed, "--out"])
            .arg(&out));
        out
    };
    let a = world("a", "11");
    let b = world("b", "11");
    let c = world("c", "12");
    let img = image::open(a.join("images/p0000_c0.png")).unwrap();
    assert_eq!((img.width(), img.height()), (24, 24));
    assert_eq!(csv_rows(&a.join("clicks.csv")).len(), 1 + 6);
    assert_eq!(
        csv_rows(&a.join("clicks.csv")),
        csv_rows(&b.join("clicks.csv"))
    );
    assert_ne!(
        csv_rows(&a.join("clicks.csv")),
        csv_rows(&c.join("clicks.csv"))
    );
}

/// The tensors of a checkpoint by name (the file's metadata order varies).
fn weights(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

/// The numbers of a `train: N products, M pairs; validation: K products,
/// L pairs; ...` line.
fn split_counts(stdout: &str) -> [usize; 4] {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("train: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .take(4)
        .collect();
    [nums[0], nums[1], nums[2], nums[3]]
}

/// The learning rate printed on an epoch line.
fn epoch_lr(stdout: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("epoch "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let lr = line.split("lr ").nth(1).unwrap().split(',').next().unwrap();
    lr.trim().parse().unwrap()
}

/// `--data-dir` (given before or after the subcommand, no environment
/// variable) holds the store `rm import` writes and `rm train` / `rm eval`
/// read. `rm train`: `--lr` scales the printed learning rate, `--seed`
/// reproduces the checkpoint and another seed changes it, `--batch`
/// changes it, `--band` keeps fewer pairs, `--val-fraction` holds out more
/// products, `--split-seed` is saved for eval, `--resume` continues at the
/// next epoch; `rm eval` honours `--band` / `--val-fraction` /
/// `--min-impressions` over the saved pairing.
#[test]
fn rm_data_dir_train_and_eval_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let world = dir.path().join("world");
    let bare = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
        cmd.env_remove("ADSTUDIO_DATA_DIR")
            .env("CANDLE_NUM_THREADS", "1")
            .env("RUST_LOG", "warn");
        cmd
    };
    ok(bare()
        .args([
            "rm",
            "synth",
            "--products",
            "10",
            "--creatives",
            "3",
            "--seed",
            "5",
            "--out",
        ])
        .arg(&world));
    ok(bare()
        .arg("--data-dir")
        .arg(&data)
        .args(["rm", "import"])
        .arg(world.join("clicks.csv")));
    assert!(data.join("adstudio.sqlite3").is_file());

    let train = |name: &str, extra: &[&str]| {
        let ckpt = dir.path().join(name);
        let stdout = ok(bare()
            .args(["rm", "train", "--epochs", "1", "--min-impressions", "100"])
            .args(extra)
            .arg("--out")
            .arg(&ckpt)
            .arg("--data-dir")
            .arg(&data));
        (stdout, ckpt)
    };
    let (base, base_ck) = train("base.st", &["--lr", "2e-3", "--seed", "1", "--batch", "4"]);
    let (again, again_ck) = train("again.st", &["--lr", "2e-3", "--seed", "1", "--batch", "4"]);
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    assert!(
        weights(&base_ck) == weights(&again_ck),
        "same flags, other weights"
    );
    assert_eq!(split_counts(&base), split_counts(&again));
    let (fast, _) = train("fast.st", &["--lr", "8e-3", "--seed", "1", "--batch", "4"]);
    let ratio = epoch_lr(&fast) / epoch_lr(&base);
    assert!((ratio - 4.0).abs() < 1e-6, "lr ratio {ratio}");
    let (_, seed2) = train("seed2.st", &["--lr", "2e-3", "--seed", "2", "--batch", "4"]);
    assert!(weights(&base_ck) != weights(&seed2), "--seed ignored");
    let (_, batch2) = train(
        "batch2.st",
        &["--lr", "2e-3", "--seed", "1", "--batch", "2"],
    );
    assert!(weights(&base_ck) != weights(&batch2), "--batch ignored");

    let all = split_counts(&base);
    let (banded, _) = train("band.st", &["--band", "1.0,1.2"]);
    assert!(split_counts(&banded)[1] < all[1], "{banded} vs {base}");
    let (held, _) = train("val.st", &["--val-fraction", "0.5"]);
    assert!(split_counts(&held)[2] > all[2], "{held} vs {base}");
    let (_, split_ck) = train("split.st", &["--split-seed", "99"]);
    let sidecar: serde_json::Value =
        serde_json::from_slice(&bytes(&dir.path().join("split.st.pairing.json")))
            .unwrap_or_else(|e| panic!("pairing sidecar next to {}: {e}", split_ck.display()));
    assert_eq!(sidecar["split_seed"], 99, "{sidecar}");

    let resumed = ok(bare()
        .arg("--data-dir")
        .arg(&data)
        .args([
            "rm",
            "train",
            "--epochs",
            "2",
            "--min-impressions",
            "100",
            "--resume",
        ])
        .arg(&base_ck)
        .arg("--out")
        .arg(&base_ck));
    assert!(resumed.contains("epoch 2/2"), "{resumed}");
    assert!(!resumed.contains("epoch 1/2"), "{resumed}");

    let eval = |extra: &[&str]| {
        let out = ok(bare()
            .arg("--data-dir")
            .arg(&data)
            .args(["rm", "eval", "--checkpoint"])
            .arg(&base_ck)
            .args(extra));
        let row = out
            .lines()
            .find(|l| l.starts_with("| validation |") || l.starts_with("| train |"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        let cells: Vec<String> = row.split('|').map(|c| c.trim().to_string()).collect();
        (
            cells[2].parse::<usize>().unwrap(),
            cells[3].parse::<usize>().unwrap(),
            out,
        )
    };
    let (products, pairs, saved) = eval(&[]);
    assert!(saved.contains("checkpoint trained for 2 epochs"), "{saved}");
    let (_, band_pairs, _) = eval(&["--band", "1.0,1.2"]);
    assert!(band_pairs < pairs, "--band ignored by eval");
    let (more, _, _) = eval(&["--val-fraction", "0.5"]);
    assert!(more > products, "--val-fraction ignored by eval");
    let stderr = fails(
        bare()
            .arg("--data-dir")
            .arg(&data)
            .args([
                "rm",
                "eval",
                "--min-impressions",
                "100000000",
                "--checkpoint",
            ])
            .arg(&base_ck),
    );
    assert!(
        stderr.contains("below min impressions 100000000"),
        "--min-impressions ignored by eval: {stderr}"
    );
}

// ----------------------------------------------------------------- render

/// The tiny diffusers folder (sd_tiny components + a character tokenizer)
/// and its ControlNet, as render_cli.rs builds them.
fn tiny_sd(root: &Path) -> (PathBuf, PathBuf) {
    let sd_dir = fixtures::tiny_sd_folder(&root.join("sd-tiny"));
    let cn_dir = root.join("cn-tiny");
    fixtures::copy_dir(
        &fixtures::fixture_dir("sd_tiny").join("controlnet"),
        &cn_dir,
    );
    (sd_dir, cn_dir)
}

/// The flags of a 64-px, one-variant, one-step `render` with `overrides`
/// replacing or adding flags (clap refuses a flag given twice).
fn render_flags(overrides: &[(&str, &str)]) -> Vec<String> {
    let mut flags: Vec<(String, String)> = [
        ("--prompt", "a mug on oak"),
        ("--negative", "blurry"),
        ("--n", "1"),
        ("--seed", "3"),
        ("--steps", "1"),
        ("--cfg", "5"),
        ("--scheduler", "ddim"),
        ("--short-side", "64"),
        ("--control-scale", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        match flags.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => flags.push((k.to_string(), v.to_string())),
        }
    }
    flags.into_iter().flat_map(|(k, v)| [k, v]).collect()
}

/// `adstudio render` with the tiny models (and the ControlNet unless
/// `with_cn` is false); returns the written files, sorted, with their bytes.
fn render(
    root: &Path,
    name: &str,
    product: &Path,
    models: &(PathBuf, PathBuf),
    with_cn: bool,
    overrides: &[(&str, &str)],
) -> Vec<(PathBuf, Vec<u8>)> {
    let out = root.join(name);
    let mut cmd = adstudio(&root.join("data"));
    cmd.args(["render", "--product"])
        .arg(product)
        .args(render_flags(overrides))
        .arg("--models")
        .arg(&models.0)
        .arg("--out")
        .arg(&out);
    if with_cn {
        cmd.arg("--controlnet").arg(&models.1);
    }
    let run = cmd.output().unwrap();
    let stderr = text(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // The last progress line shows the requested --n and --steps.
    let flags = render_flags(overrides);
    let value = |flag: &str| {
        let i = flags.iter().position(|f| f == flag).unwrap();
        flags[i + 1].clone()
    };
    let (n, steps) = (value("--n"), value("--steps"));
    let last = format!("variant {n}/{n} [####################] step {steps}/{steps}");
    assert!(stderr.contains(&last), "no {last:?} in {stderr}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn pixels(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

/// Every `render` flag reaches the request written into the PNG and
/// changes the picture: `--aspect 4:5 --short-side 64` gives 64 x 80;
/// `--n 3 --seed 7` writes seeds 7, 8, 9; `--n` and `--steps` show in the
/// progress lines and the PNG parameters; `--prompt`, `--negative`, `--cfg`, `--scheduler`,
/// `--control-scale` and `--controlnet` each change the pixels, and the
/// same flags reproduce them exactly.
#[test]
fn render_flags_reach_the_request_and_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let models = tiny_sd(root);
    let product = root.join("mug.png");
    let mut img = image::RgbaImage::new(80, 80);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = ((x as f32 - 40.0).powi(2) + (y as f32 - 40.0).powi(2)).sqrt();
        if d < 25.0 {
            *p = image::Rgba([200, 30, 30, 255]);
        }
    }
    img.save(&product).unwrap();

    let base = render(root, "base", &product, &models, true, &[]);
    assert_eq!(base.len(), 1);
    assert!(
        base[0].0.ends_with("variant_0_seed_3.png"),
        "{:?}",
        base[0].0
    );
    let params = read_png_params(&base[0].1).unwrap().request;
    assert_eq!(params.params.prompt, "a mug on oak");
    assert_eq!(params.params.negative_prompt, "blurry");
    assert_eq!(
        (
            params.params.steps,
            params.params.guidance_scale,
            params.params.conditioning_scale
        ),
        (1, 5.0, 1.0)
    );
    assert_eq!(format!("{:?}", params.params.scheduler), "Ddim");
    assert_eq!(params.canvas.short_side, 64);
    assert_eq!(params.models.controlnet.as_deref(), Some("cn-tiny"));
    assert_eq!(pixels(&base[0].1).dimensions(), (64, 64));
    let again = render(root, "again", &product, &models, true, &[]);
    assert_eq!(again[0].1, base[0].1, "same flags, other bytes");

    let base_px = pixels(&base[0].1);
    let changed = |name: &str, with_cn: bool, flag: &str, value: &str| {
        let files = render(root, name, &product, &models, with_cn, &[(flag, value)]);
        let request = read_png_params(&files[0].1).unwrap().request;
        assert_ne!(
            pixels(&files[0].1),
            base_px,
            "{flag} {value} changed nothing"
        );
        request
    };
    assert_eq!(
        changed("p", true, "--prompt", "a mug in snow")
            .params
            .prompt,
        "a mug in snow"
    );
    assert_eq!(
        changed("neg", true, "--negative", "dark, noisy")
            .params
            .negative_prompt,
        "dark, noisy"
    );
    assert_eq!(
        changed("cfg", true, "--cfg", "1.5").params.guidance_scale,
        1.5
    );
    let r = changed("sch", true, "--scheduler", "euler-a");
    assert_eq!(format!("{:?}", r.params.scheduler), "EulerAncestral");
    assert_eq!(
        changed("cs", true, "--control-scale", "0.2")
            .params
            .conditioning_scale,
        0.2
    );
    assert_eq!(changed("seed", true, "--seed", "4").params.seed, 4);
    // Without --controlnet the request names no ControlNet.
    assert_eq!(
        changed("nocn", false, "--seed", "3").models.controlnet,
        None
    );

    let many = render(
        root,
        "many",
        &product,
        &models,
        true,
        &[
            ("--n", "3"),
            ("--seed", "7"),
            ("--aspect", "4:5"),
            ("--steps", "2"),
        ],
    );
    let names: Vec<String> = many
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "variant_0_seed_7.png",
            "variant_1_seed_8.png",
            "variant_2_seed_9.png"
        ]
    );
    for (_, bytes) in &many {
        assert_eq!(pixels(bytes).dimensions(), (64, 80));
        let p = read_png_params(bytes).unwrap().request;
        assert_eq!(p.params.steps, 2);
        assert_eq!(p.canvas.aspect.label(), "4:5");
    }
}

/// `--control-start` / `--control-end` (diffusers' `control_guidance_start`
/// / `control_guidance_end`) reach the PNG parameters and the pixels: with
/// 2 steps, `--control-end 0.5` (ControlNet on the first step only) and
/// `--control-start 0.5` (on the second only) each differ from every step
/// and from `--control-scale 0`; with 1 step, `--control-end 0.5` keeps no
/// step and gives exactly the pixels of `--control-scale 0`; a reversed
/// window is refused.
#[test]
fn render_control_window_flags_reach_the_request_and_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let models = tiny_sd(root);
    let product = root.join("mug.png");
    let mut img = image::RgbaImage::new(64, 64);
    for (x, y, p) in img.enumerate_pixels_mut() {
        if (16..48).contains(&x) && (16..48).contains(&y) {
            *p = image::Rgba([30, 60, 200, 255]);
        }
    }
    img.save(&product).unwrap();
    let run = |name: &str, flags: &[(&str, &str)]| {
        let files = render(root, name, &product, &models, true, flags);
        let request = read_png_params(&files[0].1).unwrap().request;
        (pixels(&files[0].1), request)
    };
    let two = [("--steps", "2")];
    let (every, full) = run("every", &two);
    assert_eq!(
        (full.params.control_start, full.params.control_end),
        (0.0, None)
    );
    let (off, _) = run("off", &[("--steps", "2"), ("--control-scale", "0")]);
    let (first, r) = run("first", &[("--steps", "2"), ("--control-end", "0.5")]);
    assert_eq!(r.params.control_end, Some(0.5));
    let (second, r) = run("second", &[("--steps", "2"), ("--control-start", "0.5")]);
    assert_eq!(r.params.control_start, 0.5);
    for (name, image) in [("first", &first), ("second", &second)] {
        assert_ne!(image, &every, "{name}: same as every step");
        assert_ne!(image, &off, "{name}: same as no ControlNet");
    }
    assert_ne!(first, second);
    let (none, _) = run("none", &[("--control-end", "0.5")]);
    let (off1, _) = run("off1", &[("--control-scale", "0")]);
    assert_eq!(none, off1, "a window keeping no step runs no ControlNet");

    let mut cmd = adstudio(&root.join("data"));
    cmd.args(["render", "--product"])
        .arg(&product)
        .args(render_flags(&[
            ("--control-start", "0.7"),
            ("--control-end", "0.2"),
        ]))
        .arg("--models")
        .arg(&models.0)
        .arg("--controlnet")
        .arg(&models.1)
        .arg("--out")
        .arg(root.join("bad"));
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("0 <= start < end <= 1"), "{stderr}");
}
