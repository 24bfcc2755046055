//! `adstudio prefs`: statistics (text and JSON), TRL and CAIG export,
//! import with a per-row report, and the round trip into an empty store,
//! all through the binary on a store built with the library.
//!
//! The store: "Ceramic mug" with renders m1..m4, "Running shoe" with
//! s1..s3, two click-log creatives c1, c2 of product key P9; human labels
//! by alice, bob (who saw every pair the other way round) and carol, a
//! retracted label by dave, and the reward model rm-v1 by labels and
//! scores.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use crate::common::backends::on_both_backends;
use adstudio::cli::rm::import_click_file;
use adstudio::paths::DataDir;
use adstudio::prefs::{prompt_of, wilson_interval, Z95};
use adstudio::product::{CanvasSettings, MaskEdits, MaskSettings};
use adstudio::render::{ModelIds, PngParams, RenderParams, RenderRequest};

use adstudio::store::{
    ImageStore, NewPreference, NewProduct, NewRender, NewScore, Outcome, PairItem,
    PreferenceSource, ProductSettings, Store,
};
use image::{DynamicImage, Rgba, RgbaImage};
use serde_json::{json, Value};

fn adstudio(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    cmd.env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data);
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn run_ok(cmd: &mut Command) -> String {
    let (out, stdout, stderr) = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

fn open(data: &Path) -> (Store, ImageStore) {
    let dir = DataDir::at(data).unwrap();
    (
        Store::open(&dir.database_path()).unwrap(),
        ImageStore::new(dir.images_dir()),
    )
}

fn product(store: &Store, images: &ImageStore, title: &str, colour: [u8; 3]) -> i64 {
    let mut img = RgbaImage::from_pixel(32, 32, Rgba([0, 0, 0, 0]));
    for y in 8..24 {
        for x in 8..24 {
            img.put_pixel(x, y, Rgba([colour[0], colour[1], colour[2], 255]));
        }
    }
    let stored = images.put_png(&DynamicImage::ImageRgba8(img)).unwrap();
    store
        .insert_product(&NewProduct {
            title: title.to_string(),
            source_name: format!("{title}.png"),
            image_hash: stored.hash,
            image_ext: "png".to_string(),
            width: 32,
            height: 32,
            has_transparency: true,
            settings: ProductSettings {
                mask_settings_json: serde_json::to_value(MaskSettings::default()).unwrap(),
                mask_edits_json: serde_json::to_value(MaskEdits::default()).unwrap(),
                canvas_settings_json: serde_json::to_value(CanvasSettings::default()).unwrap(),
            },
        })
        .unwrap()
        .0
}

fn render(store: &Store, images: &ImageStore, product: i64, prompt: &str, seed: u64) -> PairItem {
    let shade = (seed * 37 % 251) as u8;
    let img = RgbaImage::from_pixel(24, 24, Rgba([shade, 255 - shade, 90, 255]));
    let stored = images.put_png(&DynamicImage::ImageRgba8(img)).unwrap();
    let request = RenderRequest {
        params: RenderParams {
            prompt: prompt.to_string(),
            seed,
            n_variants: 1,
            ..RenderParams::default()
        },
        canvas: CanvasSettings::default(),
        models: ModelIds {
            checkpoint: "sd-test".to_string(),
            controlnet: None,
        },
    };
    let params = PngParams {
        request: request.clone(),
        variant: 0,
        batch_seed: seed,
    };
    let id = store
        .insert_render(&NewRender {
            product_id: adstudio::store::ProductId(product),
            params_json: serde_json::to_value(&params).unwrap(),
            seed,
            model_ids_json: serde_json::to_value(&request.models).unwrap(),
            image_hash: stored.hash,
            image_path: stored.path.display().to_string(),
            width: 24,
            height: 24,
        })
        .unwrap();
    PairItem::Render(id)
}

fn creatives(store: &Store, images: &ImageStore, dir: &Path) -> (PairItem, PairItem) {
    for (i, name) in ["c1.png", "c2.png"].iter().enumerate() {
        RgbaImage::from_pixel(16, 16, Rgba([40 * i as u8, 9, 200, 255]))
            .save(dir.join(name))
            .unwrap();
    }
    let csv = dir.join("clicks.csv");
    std::fs::write(
        &csv,
        "creative_id,product_id,image_path,impressions,clicks\n\
         c1,P9,c1.png,2000,40\nc2,P9,c2.png,2000,20\n",
    )
    .unwrap();
    import_click_file(store, images, &csv).unwrap();
    let ids: Vec<PairItem> = store
        .creatives()
        .unwrap()
        .iter()
        .map(|c| PairItem::Creative(c.id))
        .collect();
    (ids[0], ids[1])
}

fn human(store: &Store, a: PairItem, b: PairItem, outcome: Outcome, who: &str) {
    store
        .record_preference(&NewPreference {
            left_is_a: Some(false),
            ..NewPreference::human(a, b, outcome, who)
        })
        .unwrap();
}

fn model(store: &Store, a: PairItem, b: PairItem, outcome: Outcome, p_a: f64) {
    store
        .record_preference(&NewPreference {
            left_is_a: None,
            source: PreferenceSource::Model,
            model_p_a: Some(p_a),
            ..NewPreference::human(a, b, outcome, "rm-v1")
        })
        .unwrap();
}

fn score(store: &Store, item: PairItem, value: f64) {
    let PairItem::Render(render_id) = item else {
        panic!("not a render")
    };
    store
        .insert_score(&NewScore {
            render_id,
            model_id: "rm-v1".to_string(),
            score: value,
            ctr: Some(0.02),
            details_json: json!(null),
        })
        .unwrap();
}

/// Builds the labelled store described at the top in `data`.
fn world(data: &Path) {
    let (store, images) = open(data);
    let mug = product(&store, &images, "Ceramic mug", [200, 30, 30]);
    let shoe = product(&store, &images, "Running shoe", [30, 30, 200]);
    let m: Vec<PairItem> = (1..=4)
        .map(|i| {
            render(
                &store,
                &images,
                mug,
                &format!("mug scene {i}, soft light"),
                i,
            )
        })
        .collect();
    let s: Vec<PairItem> = (1..=3)
        .map(|i| {
            render(
                &store,
                &images,
                shoe,
                &format!("shoe scene {i}, track"),
                10 + i,
            )
        })
        .collect();
    let (c1, c2) = creatives(&store, &images, data);
    use Outcome::{CantTell, Skip, Tie, A, B};
    for (a, b, outcome) in [
        (m[0], m[1], A),
        (m[0], m[2], B),
        (m[1], m[2], A),
        (s[0], s[1], A),
        (m[2], m[3], Tie),
        (c1, c2, A),
    ] {
        human(&store, a, b, outcome, "alice");
    }
    for (a, b, outcome) in [
        (m[1], m[0], B),
        (m[2], m[0], B),
        (m[2], m[1], B),
        (s[1], s[0], B),
        (m[3], m[2], CantTell),
        (c2, c1, A),
    ] {
        human(&store, a, b, outcome, "bob");
    }
    human(&store, m[0], m[1], A, "carol");
    human(&store, s[0], s[2], Skip, "carol");
    human(&store, m[0], m[3], A, "dave");
    store.retract_last_preference("dave").unwrap();
    model(&store, m[0], m[1], A, 0.7);
    model(&store, s[0], s[1], B, 0.3);
    score(&store, m[1], 0.2);
    score(&store, m[2], 0.8);
}

fn cells_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in\n{text}"));
    line[prefix.len()..].split_whitespace().collect()
}

/// Counts, kappas and the reward model's accuracy, checked against values
/// worked out by hand for the world above: alice ~ bob share 5 rated pairs
/// (m1m2, m1m3, m2m3, s1s2, c1c2) and agree on 3, both with marginals 4
/// first / 1 second: kappa = (15/25 - 17/25) / (8/25) = -0.25; carol
/// shares one pair with each (undefined); Fleiss over the 5 pairs with 2+
/// ratings: P̄ = 3/5, P̄e = 85/121, kappa = -62/180. rm-v1: right on m1m2
/// (label), wrong on s1s2 (label) and m2m3 (scores): 1 of 3.
#[test]
fn stats_prints_products_labelers_kappas_and_reward_model_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let text = run_ok(adstudio(dir.path()).args(["prefs", "stats"]));
    assert!(
        text.contains("labels: 16 active (a 7, b 6, tie 1, can't tell 1, skip 1), 1 retracted"),
        "{text}"
    );
    // pairs, a, b, tie, can't tell, skip, model
    assert_eq!(
        cells_after(&text, "#1 Ceramic mug"),
        ["4", "3", "4", "1", "1", "0", "1"]
    );
    assert_eq!(
        cells_after(&text, "#2 Running shoe"),
        ["2", "1", "1", "0", "0", "1", "1"]
    );
    assert_eq!(
        cells_after(&text, "creatives P9"),
        ["1", "2", "0", "0", "0", "0", "0"]
    );
    // source, pairs, a, b, tie, can't tell, skip
    assert_eq!(
        cells_after(&text, "alice"),
        ["human", "6", "4", "1", "1", "0", "0"]
    );
    assert_eq!(
        cells_after(&text, "bob "),
        ["human", "6", "1", "4", "0", "1", "0"]
    );
    assert_eq!(
        cells_after(&text, "rm-v1 "),
        ["model", "2", "1", "1", "0", "0", "0"]
    );
    assert!(!text.contains("dave"), "{text}");
    assert_eq!(cells_after(&text, "alice ~ bob"), ["5", "3", "-0.250"]);
    assert_eq!(cells_after(&text, "alice ~ carol"), ["1", "1", "undefined"]);
    assert_eq!(cells_after(&text, "bob ~ carol"), ["1", "1", "undefined"]);
    let fleiss = format!("Fleiss' kappa: {:.3} (3 labelers, 5 pairs", -62.0 / 180.0);
    assert!(text.contains(&fleiss), "{text}");
    assert!(
        text.contains("(3 pairs decided by a human majority"),
        "{text}"
    );
    let (lo, hi) = wilson_interval(1, 3, Z95).unwrap();
    let ci = format!("{:.1}%-{:.1}%", 100.0 * lo, 100.0 * hi);
    let (_, reward) = text.split_once("reward model vs people").unwrap();
    assert_eq!(
        cells_after(reward, "rm-v1"),
        ["3", "2", "1", "0", "33.3%", ci.as_str()]
    );
}

#[test]
fn stats_json_carries_the_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let text = run_ok(adstudio(dir.path()).args(["prefs", "stats", "--json"]));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["total"]["a"], 7);
    assert_eq!(v["retracted"], 1);
    assert_eq!(v["products"][0]["product"]["title"], "Ceramic mug");
    assert_eq!(v["products"][2]["product"]["key"], "P9");
    let ab = &v["between_labelers"][0];
    assert_eq!(
        (ab["labeler_a"].as_str(), ab["labeler_b"].as_str()),
        (Some("alice"), Some("bob"))
    );
    assert!((ab["kappa"].as_f64().unwrap() + 0.25).abs() < 1e-9);
    assert!(v["between_labelers"][1]["kappa"].is_null());
    let fleiss = v["all_labelers"]["kappa"].as_f64().unwrap();
    assert!((fleiss + 62.0 / 180.0).abs() < 1e-9, "{fleiss}");
    let rm = &v["people_vs_models"]["models"][0];
    assert_eq!(rm["model_id"], "rm-v1");
    assert_eq!(rm["accuracy"]["correct"], 1);
    assert_eq!(rm["accuracy"]["total"], 3);
}

/// (chosen prompt, rejected prompt, labeler, outcome) of every active
/// decisive label on renders.
fn pairs_of(data: &Path) -> Vec<(String, String, String, String)> {
    pairs_in(&open(data).0)
}

/// (chosen prompt, rejected prompt, labeler, outcome) of the decisive
/// active labels on renders, sorted.
fn pairs_in(store: &Store) -> Vec<(String, String, String, String)> {
    let prompt = |item: PairItem| {
        let PairItem::Render(id) = item else {
            return None;
        };
        let render = store.render(id).unwrap().unwrap();
        prompt_of(&render.params_json).map(str::to_string)
    };
    let mut out: Vec<_> = store
        .active_preferences()
        .unwrap()
        .into_iter()
        .filter(|l| matches!(l.outcome, Outcome::A | Outcome::B))
        .filter_map(|l| {
            let (a, b) = (prompt(l.a)?, prompt(l.b)?);
            let (chosen, rejected) = if l.outcome == Outcome::A {
                (a, b)
            } else {
                (b, a)
            };
            Some((chosen, rejected, l.labeler, l.outcome.to_string()))
        })
        .collect();
    out.sort();
    out
}

fn export(data: &Path, format: &str, out: &Path) -> String {
    run_ok(
        adstudio(data)
            .args(["prefs", "export", "--format", format, "--out"])
            .arg(out),
    )
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn export_writes_trl_and_caig_rows_for_decisive_render_labels() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    world(&data);
    let expected = pairs_of(&data);
    assert_eq!(expected.len(), 11);
    let trl = dir.path().join("pairs.trl.jsonl");
    let report = export(&data, "trl", &trl);
    assert!(report.contains("wrote 11 trl pairs"), "{report}");
    assert!(
        report.contains("3 tie/can't tell/skip labels, 2 labels on creatives"),
        "{report}"
    );
    let rows = lines_of(&trl);
    assert_eq!(rows.len(), 11);
    let mut seen = Vec::new();
    for row in &rows {
        let title = row["product_title"].as_str().unwrap();
        assert!(row["prompt"].as_str().unwrap().contains(title), "{row}");
        assert!(
            Path::new(row["images"][0].as_str().unwrap()).is_file(),
            "{row}"
        );
        assert!(Path::new(row["chosen_image"].as_str().unwrap()).is_file());
        assert_eq!(row["chosen_params"]["request"]["prompt"], row["chosen"]);
        assert_eq!(
            row["rejected_params"]["request"]["seed"],
            row["rejected_seed"]
        );
        seen.push((
            row["chosen"].as_str().unwrap().to_string(),
            row["rejected"].as_str().unwrap().to_string(),
            row["labeler"].as_str().unwrap().to_string(),
            row["outcome"].as_str().unwrap().to_string(),
        ));
    }
    seen.sort();
    assert_eq!(seen, expected);
    let model_rows: Vec<&Value> = rows.iter().filter(|r| r["source"] == "model").collect();
    assert_eq!(model_rows.len(), 2);
    assert!(model_rows.iter().all(|r| r["model_p_a"].is_f64()));

    let caig = dir.path().join("pairs.caig.jsonl");
    assert!(export(&data, "caig", &caig).contains("wrote 11 caig pairs"));
    let rows = lines_of(&caig);
    let ids: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 11);
    for row in &rows {
        assert!(Path::new(row["image"].as_str().unwrap()).is_file(), "{row}");
        assert!(row.get("prompt").is_none(), "{row}");
        assert!(row["chosen"].as_str().unwrap().contains("scene"), "{row}");
    }
}

#[test]
fn export_without_labels_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (store, images) = open(&data);
    let mug = product(&store, &images, "Mug", [1, 2, 3]);
    let a = render(&store, &images, mug, "x", 1);
    let b = render(&store, &images, mug, "y", 2);
    human(&store, a, b, Outcome::Tie, "alice");
    drop(store);
    let out = dir.path().join("none.jsonl");
    let (status, _, stderr) = run(adstudio(&data)
        .args(["prefs", "export", "--format", "trl", "--out"])
        .arg(&out));
    assert!(!status.status.success());
    assert!(stderr.contains("no labels to export"), "{stderr}");
    assert!(stderr.contains("1 tie/can't tell/skip"), "{stderr}");
    assert!(!out.exists());
}

fn import(data: &Path, file: &Path, extra: &[&str]) -> (bool, String, String) {
    let (out, stdout, stderr) = run(adstudio(data)
        .args(["prefs", "import"])
        .arg(file)
        .args(extra));
    (out.status.success(), stdout, stderr)
}

/// Both layouts: an export imported into an empty store (another data
/// dir) gives the same (chosen, rejected, labeler, outcome) multiset, the
/// products and renders are recreated with their images, and importing
/// the same file again adds nothing.
#[test]
fn export_then_import_into_an_empty_store_gives_the_same_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    world(&data);
    let expected = pairs_of(&data);
    for format in ["trl", "caig"] {
        let file = dir.path().join(format!("pairs.{format}.jsonl"));
        export(&data, format, &file);
        let fresh = dir.path().join(format!("fresh-{format}"));
        let (ok, stdout, stderr) = import(&fresh, &file, &[]);
        assert!(ok, "{stdout}\n{stderr}");
        assert!(stdout.contains("11 rows imported, 0 failed"), "{stdout}");
        assert_eq!(pairs_of(&fresh), expected, "{format}");
        let (store, images) = open(&fresh);
        let titles: Vec<String> = store
            .list_products()
            .unwrap()
            .into_iter()
            .map(|p| p.title)
            .collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        for p in store.list_products().unwrap() {
            assert!(images.contains(&p.image_hash, &p.image_ext).unwrap());
            for r in store.renders_for_product(p.id).unwrap() {
                assert!(Path::new(&r.image_path).is_file());
                assert!(r.image_path.starts_with(fresh.to_str().unwrap()));
            }
        }
        let (ok, again, _) = import(&fresh, &file, &["--format", format]);
        assert!(ok && again.contains("already present"), "{again}");
        assert_eq!(pairs_of(&fresh), expected);
    }
}

/// A malformed line, a row naming a missing image and a row of the other
/// layout fail with their line number; the other rows are imported and
/// the exit status is non-zero.
#[test]
fn import_reports_bad_rows_by_line_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    world(&data);
    let trl = dir.path().join("pairs.jsonl");
    export(&data, "trl", &trl);
    let mut lines: Vec<String> = std::fs::read_to_string(&trl)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut missing: Value = serde_json::from_str(&lines[2]).unwrap();
    missing["chosen_image"] = json!("/nowhere/gone.png");
    lines[2] = missing.to_string();
    lines.insert(1, "{\"prompt\": \"cut off".to_string());
    lines.push(json!({"id": "x", "image": "i.png"}).to_string());
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let fresh = dir.path().join("fresh");
    let (ok, stdout, stderr) = import(&fresh, &bad, &["--format", "trl"]);
    assert!(!ok, "{stdout}");
    assert!(stdout.contains("line 2: error: malformed JSON"), "{stdout}");
    assert!(
        stdout.contains("line 4: error: chosen_image /nowhere/gone.png"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 13: error: a caig row in a file imported as trl"),
        "{stdout}"
    );
    assert!(stdout.contains("10 rows imported, 3 failed"), "{stdout}");
    assert!(stderr.contains("3 of 13 rows"), "{stderr}");
    let imported = pairs_of(&fresh);
    assert_eq!(imported.len(), 10);
    let (store, _) = open(&fresh);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

on_both_backends! {
    /// `--store` (and `ADSTUDIO_STORE`) send a command's rows to the chosen
    /// store: an import lands there, not in the data dir's SQLite file, and
    /// `prefs stats` reads it back.
    fn store_flag_sends_the_import_to_the_chosen_store(db) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        world(&data);
        let expected = pairs_of(&data);
        let file = dir.path().join("pairs.trl.jsonl");
        export(&data, "trl", &file);
        let fresh = dir.path().join("fresh");
        let stdout = run_ok(
            adstudio(&fresh)
                .env_remove("ADSTUDIO_STORE")
                .arg("--store")
                .arg(db.store_arg())
                .args(["prefs", "import"])
                .arg(&file),
        );
        assert!(stdout.contains("11 rows imported, 0 failed"), "{stdout}");
        assert_eq!(pairs_in(&db.open()), expected);
        assert!(
            !fresh.join("adstudio.sqlite3").exists(),
            "the data dir's default store stayed unused"
        );
        let stats = run_ok(
            adstudio(&fresh)
                .env("ADSTUDIO_STORE", db.store_arg())
                .args(["prefs", "stats", "--json"]),
        );
        let v: Value = serde_json::from_str(&stats).unwrap();
        let decided = v["total"]["a"].as_u64().unwrap() + v["total"]["b"].as_u64().unwrap();
        assert_eq!(decided, 11, "{stats}");
    }
}

/// An unreachable server: the command fails within seconds, naming the
/// backend and the URL without its password.
#[test]
fn unreachable_store_server_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (out, _, stderr) = run(adstudio(dir.path())
        .args(["--store", "postgres://ann:s3cret@127.0.0.1:1/ads"])
        .args(["prefs", "stats"]));
    assert!(!out.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(
        stderr.contains("postgres://ann@127.0.0.1:1/ads"),
        "{stderr}"
    );
    assert!(stderr.contains("PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
