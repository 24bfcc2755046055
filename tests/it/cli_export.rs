//! `adstudio export` runs the binary: winners of renders made and scored
//! with tiny models (tiny SD, a seeded random reward model) land at the
//! asked sizes, best first; bad sizes, unknown products, a bad `--top` and
//! an unusable output folder fail with clear messages.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use adstudio::jobs::InlineReporter;
use adstudio::product::AspectPreset;
use adstudio::render::{RenderParams, RenderRequest};
use adstudio::studio::export::ranked_renders;
use adstudio::studio::product::{build_mask, open_file};
use adstudio::studio::render::render_and_save;
use adstudio::studio::score::{score_variants, ScoreJob, VariantRef};
use adstudio::studio::{Progress, VariantJob};

use crate::common::export_store::{drawn_photo, product_with_scored_renders};
use crate::common::tiny_data::{install_models, studio, ROLE_VARS};

fn export(data: &Path, args: &[&str]) -> (Output, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data)
        .arg("export")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Opens the drawn product, renders three 2-step variants with tiny SD and
/// scores them with the tiny reward model, as the studio does.
fn render_and_score(root: &Path, data: &Path) -> adstudio::store::ProductId {
    install_models(data);
    let mut studio = studio(data);
    let rep = InlineReporter::new(|_: Progress| {});
    let photo = root.join("desk_lamp.png");
    drawn_photo(300, 210).save(&photo).unwrap();
    let opened = open_file(&mut studio, &rep, &photo, Default::default()).unwrap();
    let masked = build_mask(&mut studio, &rep, &opened.mask_request(1))
        .unwrap()
        .result
        .unwrap();
    for index in 0..3 {
        let job = VariantJob {
            product: opened.id,
            canvas: Arc::clone(&masked.prepared),
            request: RenderRequest {
                params: RenderParams {
                    prompt: "on a wooden desk".into(),
                    seed: 40,
                    steps: 2,
                    n_variants: 3,
                    ..RenderParams::default()
                },
                canvas: opened.canvas_settings,
                ..RenderRequest::default()
            },
            index,
        };
        let rendered = render_and_save(&mut studio, &rep, &job).unwrap();
        let id = rendered.render_id.unwrap();
        assert!(
            studio.store.render_mask(id).unwrap().is_some(),
            "mask recorded"
        );
    }
    let rows = studio.store.renders_for_product(opened.id).unwrap();
    let job = ScoreJob {
        product: opened.id,
        variants: rows.iter().map(VariantRef::from_row).collect(),
    };
    score_variants(&studio.models, &studio.store, &rep, &job).unwrap();
    opened.id
}

#[test]
fn exports_tiny_model_winners_at_the_asked_sizes() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let product = render_and_score(root.path(), &data);
    let out_dir = root.path().join("out");
    let id = product.0.to_string();
    let (out, stdout, stderr) = export(
        &data,
        &[
            "--product",
            &id,
            "--sizes",
            "meta-feed,marketplace",
            "--top",
            "2",
            "--out",
        ],
    );
    // `--out` takes the next argument.
    assert!(!out.status.success(), "--out without a value must fail");
    assert!(stderr.contains("--out"), "{stdout}{stderr}");
    let out_arg = out_dir.display().to_string();
    let (out, stdout, stderr) = export(
        &data,
        &[
            "--product",
            &id,
            "--sizes",
            "meta-feed,marketplace",
            "--top",
            "2",
            "--out",
            &out_arg,
        ],
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let dir = out_dir.join(&id);
    for (name, size) in [
        ("rank1-meta-feed.png", 1080),
        ("rank2-meta-feed.png", 1080),
        ("marketplace.png", 2000),
    ] {
        let img = image::open(dir.join(name)).unwrap();
        assert_eq!((img.width(), img.height()), (size, size), "{name}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        3,
        "top 2 plus marketplace"
    );
    assert!(stdout.contains("3 files written"), "{stdout}");
    // Rank 1 is the render the stored scores put first.
    let studio = studio(&data);
    let (ranked, n) = ranked_renders(&studio.store, product).unwrap();
    assert_eq!((ranked.len(), n), (3, 3));
    let best = ranked[0].ctr.unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("rank1-meta-feed"))
        .unwrap();
    assert!(
        line.contains(&format!("{:.2}%", best * 100.0)),
        "{line} vs {best}"
    );
}

#[test]
fn bad_sizes_products_and_folders_fail_clearly() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let fx = product_with_scored_renders(&data, "lamp", &[AspectPreset::Square], 2);
    let id = fx.product.0.to_string();
    let out = root.path().join("out").display().to_string();
    let fails = |args: &[&str], needle: &str| {
        let (o, stdout, stderr) = export(&data, args);
        assert!(!o.status.success(), "{args:?} should fail: {stdout}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    };
    fails(
        &["--product", &id, "--sizes", "square", "--out", &out],
        "unknown export size \"square\"",
    );
    fails(
        &["--product", &id, "--sizes", "square", "--out", &out],
        "meta-feed, meta-feed-45",
    );
    fails(
        &["--product", &id, "--sizes", "9x9", "--out", &out],
        "between 16 and 8192",
    );
    fails(
        &["--product", "999", "--sizes", "link", "--out", &out],
        "product 999 is not in the store",
    );
    fails(
        &["--product", "lamp", "--sizes", "link", "--out", &out],
        "not a product id",
    );
    fails(
        &[
            "--product",
            &id,
            "--sizes",
            "reels",
            "--top",
            "0",
            "--out",
            &out,
        ],
        "--top",
    );
    fails(
        &["--product", &id, "--sizes", "reels", "--out", &out],
        "no scored render has its aspect",
    );
    let file = root.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("out").display().to_string();
    fails(
        &[
            "--product",
            "all",
            "--sizes",
            "meta-feed",
            "--out",
            &under_file,
        ],
        "cannot use the output folder",
    );

    // JPEG at a quality, every product.
    let (o, stdout, stderr) = export(
        &data,
        &[
            "--product",
            "all",
            "--sizes",
            "meta-feed",
            "--top",
            "5",
            "--jpeg-quality",
            "80",
            "--out",
            &out,
        ],
    );
    assert!(o.status.success(), "{stdout}\n{stderr}");
    let dir = root.path().join("out").join(&id);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["rank1-meta-feed.jpg", "rank2-meta-feed.jpg"]);
}
