//! `adstudio batch` end to end through the binary on tiny models (tiny SD +
//! ControlNet, tiny random Qwen2, seeded random compact reward model) at
//! 64 px and one step: a catalog with good and bad rows (each bad row
//! reported with its line, the others finished), `winners.csv` against the
//! store, the winners' files, `index.html` parsed (escaping checked), a
//! rerun that reuses everything; an interrupted run (`--max-renders`, and
//! SIGINT once) resumed without redoing finished renders; whole-catalog
//! errors.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use adstudio::ml::reward::csv::split_record;
use adstudio::paths::DataDir;
use adstudio::store::{RenderId, Store};

use crate::common::child::{interrupt, StderrLines};
use crate::common::product_images::{cutout, disc, png_header_only, rounded_rect};
use crate::common::tiny_data::{install_models, ROLE_VARS};

/// The flags of every run: K 2, N 1, top 2, one step at 64 px.
const FLAGS: [&str; 14] = [
    "--k",
    "2",
    "--n",
    "1",
    "--top",
    "2",
    "--steps",
    "1",
    "--seed",
    "5",
    "--short-side",
    "64",
    "--max-tokens",
    "12",
];

/// A title with markup, quotes and an ampersand (escaped in the page).
const TRICKY_TITLE: &str = "Wallet <b>\"Tom's\"</b> & co";

fn batch_command(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(data)
        .arg("batch")
        .args(args);
    cmd
}

fn batch(data: &Path, args: &[&str]) -> (Output, String, String) {
    let out = batch_command(data, args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// The tiny models in `root/data`, two product cut-outs and a catalog
/// `root/catalog.csv` with the two good rows and `bad` rows after them.
fn setup(root: &Path, bad: &[&str]) -> (PathBuf, PathBuf) {
    let data = root.join("data");
    install_models(&data);
    let images = root.join("img");
    std::fs::create_dir_all(&images).unwrap();
    cutout(&disc(80, 80, 40.0, 40.0, 25.0), [200, 30, 30], [0, 255, 0])
        .save(images.join("mug.png"))
        .unwrap();
    let wallet = rounded_rect(80, 80, [15.0, 25.0, 65.0, 55.0], 6.0);
    cutout(&wallet, [120, 70, 30], [0, 0, 255])
        .save(images.join("wallet.png"))
        .unwrap();
    let mut catalog = String::from("id,image,title,category\n");
    catalog.push_str("mug,img/mug.png,Red ceramic mug,kitchen\n");
    let tricky = TRICKY_TITLE.replace('"', "\"\"");
    catalog.push_str(&format!("wallet,img/wallet.png,\"{tricky}\",\n"));
    for row in bad {
        catalog.push_str(row);
        catalog.push('\n');
    }
    let path = root.join("catalog.csv");
    std::fs::write(&path, catalog).unwrap();
    (data, path)
}

fn run_args<'a>(catalog: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![catalog, "--out", out];
    args.extend_from_slice(&FLAGS);
    args.extend_from_slice(extra);
    args
}

fn store(data: &Path) -> Store {
    Store::open(&DataDir::at(data).unwrap().database_path()).unwrap()
}

/// `winners.csv` as maps of column to value.
fn read_winners(out: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out.join("winners.csv")).unwrap();
    let mut lines = text.lines();
    let header = split_record(lines.next().unwrap()).unwrap();
    lines
        .map(|l| {
            let fields = split_record(l).unwrap();
            assert_eq!(fields.len(), header.len(), "{l}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect()
}

/// Each winner row agrees with the store: the render's prompt and seed,
/// the latest score's rank and CTR, and its file is the render's PNG.
fn check_winners_against_store(data: &Path, out: &Path, winners: &[BTreeMap<String, String>]) {
    let store = store(data);
    for w in winners {
        let id = RenderId(w["render_id"].parse().unwrap());
        let render = store.render(id).unwrap().unwrap();
        assert_eq!(
            render.params_json["request"]["prompt"],
            w["prompt"].as_str()
        );
        assert_eq!(render.seed.to_string(), w["seed"]);
        let score = store.scores_for_render(id).unwrap().pop().unwrap();
        assert_eq!(score.details_json["rank"].to_string(), w["rank"]);
        assert_eq!(score.model_id, w["reward_model"]);
        let ctr: f64 = w["predicted_ctr"].parse().unwrap();
        assert!(
            (ctr - score.ctr.unwrap()).abs() < 1e-5,
            "{ctr} vs {score:?}"
        );
        let mean: f64 = w["mean_win_probability"].parse().unwrap();
        let p_win = score.details_json["p_win"].as_object().unwrap();
        let stored_mean =
            p_win.values().map(|v| v.as_f64().unwrap()).sum::<f64>() / p_win.len() as f64;
        assert!((mean - stored_mean).abs() < 1e-5, "{mean} vs {stored_mean}");
        let copy = std::fs::read(out.join(&w["image"])).unwrap();
        assert_eq!(copy, std::fs::read(&render.image_path).unwrap());
        assert_eq!(w["diffusion_model"], "sd15");
    }
}

/// Text of the page as a parser sees it: per `<section>`, its `<h2>` text,
/// the `src` of its images and the texts of its `<p class="prompt">`.
#[derive(Debug, Default)]
struct Section {
    heading: String,
    images: Vec<String>,
    prompts: Vec<String>,
}

fn parse_page(html: &str) -> Vec<Section> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(html);
    let mut sections: Vec<Section> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().unwrap();
        let text = match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "section" {
                    sections.push(Section::default());
                }
                if name == "p" && attr(e, "class").as_deref() == Some("prompt") {
                    sections.last_mut().unwrap().prompts.push(String::new());
                }
                if name == "img" {
                    let src = attr(e, "src").unwrap();
                    sections.last_mut().unwrap().images.push(src);
                }
                if let Event::Start(_) = event {
                    open.push(name);
                }
                None
            }
            Event::End(_) => {
                open.pop();
                None
            }
            Event::Text(t) => Some(t.decode().unwrap().into_owned()),
            Event::GeneralRef(r) => Some(match r.resolve_char_ref().unwrap() {
                Some(c) => c.to_string(),
                None => match r.decode().unwrap().as_ref() {
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "amp" => "&".into(),
                    "quot" => "\"".into(),
                    other => panic!("unexpected entity {other}"),
                },
            }),
            Event::Eof => break,
            _ => None,
        };
        if let (Some(text), Some(section)) = (text, sections.last_mut()) {
            if open.iter().any(|n| n == "h2") {
                section.heading.push_str(&text);
            } else if open.last().map(String::as_str) == Some("p") {
                if let Some(p) = section.prompts.last_mut() {
                    p.push_str(&text);
                }
            }
        }
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    sections
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name).unwrap().map(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .unwrap()
            .into_owned()
    })
}

/// The page: one section per finished product with its winners' images
/// (relative, present) and prompts; the tricky title reads back as
/// written and is escaped in the file; no external asset.
fn check_page(out: &Path, winners: &[BTreeMap<String, String>]) {
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("<b>"), "unescaped markup");
    assert!(html.contains("&lt;b&gt;&quot;Tom&#39;s&quot;&lt;/b&gt; &amp; co"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<link") && !html.contains("<script"));
    let sections = parse_page(&html);
    assert_eq!(sections.len(), 2, "{sections:?}");
    assert!(sections[0].heading.starts_with("Red ceramic mug"));
    assert!(
        sections[1].heading.starts_with(TRICKY_TITLE),
        "{:?}",
        sections[1]
    );
    for (section, id) in sections.iter().zip(["mug", "wallet"]) {
        let expected: Vec<&BTreeMap<String, String>> =
            winners.iter().filter(|w| w["product"] == id).collect();
        let srcs: Vec<&str> = expected.iter().map(|w| w["image"].as_str()).collect();
        assert_eq!(section.images, srcs);
        let prompts: Vec<&str> = expected.iter().map(|w| w["prompt"].as_str()).collect();
        assert_eq!(section.prompts, prompts);
        assert!(section.images.iter().all(|s| out.join(s).is_file()));
    }
}

/// A catalog of two good rows and five bad ones (missing image, corrupt
/// image, image over the pixel limit, empty title, duplicate id): the bad
/// rows are reported at the end with their lines and the status is 1; the
/// good ones are finished, their winners in `winners.csv` match the store
/// and the page; a rerun reuses every suggestion, render and score.
#[test]
fn catalog_with_bad_rows_finishes_the_good_ones_and_reruns_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("img-corrupt.png"), b"not a png at all").unwrap();
    std::fs::write(root.join("img-huge.png"), png_header_only(9000, 9000)).unwrap();
    let bad = [
        "gone,img/missing.png,Lost lamp,",
        "corrupt,img-corrupt.png,Broken vase,",
        "huge,img-huge.png,Giant poster,",
        "untitled,img/mug.png,,",
        "mug,img/wallet.png,Second mug,",
    ];
    let (data, catalog) = setup(root, &bad);
    let out = root.join("out");
    let (c, o) = (catalog.to_str().unwrap(), out.to_str().unwrap());
    let (status, stdout, stderr) = batch(&data, &run_args(c, o, &[]));
    assert_eq!(status.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("renders: 4 new, 0 reused"), "{stdout}");
    assert!(
        stdout.contains("products: 2 finished, 5 failed"),
        "{stdout}"
    );
    for (line, says) in [
        (4, "missing.png: No such file"),
        (5, "not a recognised image format"),
        (6, "megapixels"),
        (7, "title is empty"),
        (8, "duplicate id \"mug\" (first on line 2)"),
    ] {
        let reported = stderr
            .lines()
            .find(|l| l.starts_with(&format!("line {line}")))
            .unwrap_or_else(|| panic!("line {line} not reported:\n{stderr}"));
        assert!(reported.contains(says), "{reported}");
    }
    let winners = read_winners(&out);
    assert_eq!(winners.len(), 4, "{winners:?}");
    let ranks: Vec<&str> = winners.iter().map(|w| w["rank"].as_str()).collect();
    assert_eq!(ranks, ["1", "2", "1", "2"]);
    check_winners_against_store(&data, &out, &winners);
    check_page(&out, &winners);
    let store = store(&data);
    let products = store.list_products().unwrap();
    assert_eq!(products.len(), 2);
    for p in &products {
        let renders = store.renders_for_product(p.id).unwrap();
        assert_eq!(renders.len(), 2);
        assert!(renders.iter().all(|r| r.width == 64 && r.height == 64));
        // Both suggestions of a product are rendered on the same seed.
        assert_eq!(renders[0].seed, renders[1].seed);
    }

    let (status, stdout, stderr) = batch(&data, &run_args(c, o, &[]));
    assert_eq!(status.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("renders: 0 new, 4 reused"), "{stdout}");
    assert_eq!(read_winners(&out), winners);
    assert_eq!(store.list_products().unwrap().len(), 2);
    let scores: usize = products
        .iter()
        .flat_map(|p| store.renders_for_product(p.id).unwrap())
        .map(|r| store.scores_for_render(r.id).unwrap().len())
        .sum();
    assert_eq!(scores, 4, "a rerun scored again");
}

fn render_count(data: &Path) -> usize {
    let store = store(data);
    store
        .list_products()
        .unwrap()
        .iter()
        .map(|p| store.renders_for_product(p.id).unwrap().len())
        .sum()
}

/// Stopped after one new render (`--max-renders 1`): status 130, the
/// render is kept; the rerun makes the three others and reuses it, and
/// gives the winners a run without the stop gives.
#[test]
fn an_interrupted_batch_resumes_without_redoing_finished_renders() {
    let dir = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(dir.path(), &[]);
    let out = dir.path().join("out");
    let (c, o) = (catalog.to_str().unwrap(), out.to_str().unwrap());
    let (status, stdout, stderr) = batch(&data, &run_args(c, o, &["--max-renders", "1"]));
    assert_eq!(status.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    assert_eq!(render_count(&data), 1);
    let (status, stdout, stderr) = batch(&data, &run_args(c, o, &[]));
    assert!(status.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("renders: 3 new, 1 reused"), "{stdout}");
    assert_eq!(render_count(&data), 4);
    let resumed = read_winners(&out);

    // The same batch from scratch (another store) picks the same winners.
    let fresh = dir.path().join("fresh");
    install_models(&fresh);
    let out2 = dir.path().join("out2");
    let (status, stdout, stderr) = batch(&fresh, &run_args(c, out2.to_str().unwrap(), &[]));
    assert!(status.status.success(), "{stdout}\n{stderr}");
    let again = read_winners(&out2);
    let key = |w: &BTreeMap<String, String>| {
        (
            w["product"].clone(),
            w["rank"].clone(),
            w["prompt"].clone(),
            w["seed"].clone(),
        )
    };
    let (a, b): (Vec<_>, Vec<_>) = (
        resumed.iter().map(key).collect(),
        again.iter().map(key).collect(),
    );
    assert_eq!(a, b);
}

/// SIGINT while the second render of the first product runs: the batch
/// stops within a step with status 130 and keeps the finished render.
#[test]
fn sigint_stops_the_batch_and_keeps_finished_renders() {
    let dir = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(dir.path(), &[]);
    let out = dir.path().join("out");
    let (c, o) = (catalog.to_str().unwrap(), out.to_str().unwrap());
    let mut args = run_args(c, o, &[]);
    // Long renders, so that the signal lands inside one.
    let steps = args.iter().position(|a| *a == "--steps").unwrap();
    args[steps + 1] = "200";
    let mut child = batch_command(&data, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read on a thread to the end: the child must never write to a closed
    // pipe.
    let stderr = StderrLines::of(&mut child);
    stderr.wait_for("rendering 2/2", "the second render never started");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    interrupt(&child);
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "{:?}",
        sent.elapsed()
    );
    let lines = stderr.all();
    assert_eq!(status.code(), Some(130), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("interrupted")), "{lines:?}");
    assert_eq!(render_count(&data), 1);
}

/// Whole-catalog errors are clear and happen before any work: unknown
/// format, JSON lines named .csv, a missing column, an unknown column,
/// an output folder that cannot be created.
#[test]
fn wrong_catalogs_and_unwritable_output_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let data = root.join("data");
    let write = |name: &str, text: &str| {
        let p = root.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let out = root.join("out");
    let o = out.to_str().unwrap();
    for (catalog, says) in [
        (write("c.txt", "id,image,title\n"), "unknown catalog format"),
        (write("j.csv", "{\"id\":\"a\"}\n"), "looks like JSON lines"),
        (
            write("m.csv", "id,title\na,Mug\n"),
            "missing column(s) image",
        ),
        (
            write("u.csv", "id,image,title,price\n"),
            "unknown column(s) price",
        ),
        (
            write("w.jsonl", "id,image,title\n"),
            "line 1 is not a JSON object",
        ),
    ] {
        let (status, _, stderr) = batch(&data, &[&catalog, "--out", o]);
        assert_eq!(status.status.code(), Some(1));
        assert!(stderr.contains(says), "{catalog}: {stderr}");
    }
    let catalog = write("ok.csv", "id,image,title\na,a.png,Mug\n");
    let blocker = write("file", "");
    let under_file = format!("{blocker}/out");
    let (status, _, stderr) = batch(&data, &[&catalog, "--out", &under_file]);
    assert_eq!(status.status.code(), Some(1));
    assert!(stderr.contains("cannot be created"), "{stderr}");
    assert!(!out.exists());
}

/// A JSONL catalog with per-product overrides (aspect 4:5 and K 3 on one
/// row) against `--aspect 1:1 --k 2 --top 1`: the overridden product has
/// three 64x80 renders, the other two 64x64 ones, one winner each; a
/// missing `--adapter` is named before any work.
#[test]
fn jsonl_overrides_aspect_and_adapter_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = setup(dir.path(), &[]);
    let catalog = dir.path().join("catalog.jsonl");
    std::fs::write(
        &catalog,
        "{\"id\":\"mug\",\"image\":\"img/mug.png\",\"title\":\"Red mug\",\"aspect\":\"4:5\",\"k\":3}\n\
         {\"id\":\"wallet\",\"image\":\"img/wallet.png\",\"title\":\"Wallet\",\"category\":\"leather\"}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (c, o) = (catalog.to_str().unwrap(), out.to_str().unwrap());
    let (status, _, stderr) = batch(&data, &run_args(c, o, &["--adapter", "nope"]));
    assert_eq!(status.status.code(), Some(1));
    assert!(stderr.contains("no adapter named \"nope\""), "{stderr}");
    assert_eq!(render_count(&data), 0);
    let mut args = run_args(c, o, &["--aspect", "1:1"]);
    let top = args.iter().position(|a| *a == "--top").unwrap();
    args[top + 1] = "1";
    let (status, stdout, stderr) = batch(&data, &args);
    assert!(status.status.success(), "{stdout}\n{stderr}");
    let store = store(&data);
    let mut sizes: Vec<(String, usize, u32, u32)> = store
        .list_products()
        .unwrap()
        .iter()
        .map(|p| {
            let r = store.renders_for_product(p.id).unwrap();
            assert!(r
                .iter()
                .all(|x| (x.width, x.height) == (r[0].width, r[0].height)));
            (p.title.clone(), r.len(), r[0].width, r[0].height)
        })
        .collect();
    sizes.sort();
    assert_eq!(
        sizes,
        [
            ("Red mug".to_string(), 3, 64, 80),
            ("Wallet".to_string(), 2, 64, 64)
        ]
    );
    let winners = read_winners(&out);
    assert_eq!(winners.len(), 2, "{winners:?}");
    assert!(winners.iter().all(|w| w["rank"] == "1"));
}

/// `adstudio bench batch` on the tiny models: a row per product and one
/// for all, whose overhead is the total minus the model forwards, and the
/// overhead share line.
#[test]
fn bench_batch_prints_the_overhead_share() {
    let dir = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(dir.path(), &[]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("CANDLE_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(&data)
        .args(["bench", "batch", "--catalog"])
        .arg(&catalog)
        .args([
            "--n",
            "2",
            "--steps",
            "1",
            "--short-side",
            "64",
            "--max-tokens",
            "12",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| mug") || l.starts_with("| wallet") || l.starts_with("| all"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for row in &rows {
        let n: Vec<f64> = row[2..8].iter().map(|v| v.parse().unwrap()).collect();
        // overhead = total - suggest - diffusion - reward (3 decimals each).
        assert!(
            (n[4] - (n[5] - n[1] - n[2] - n[3])).abs() < 0.003,
            "{row:?}"
        );
        assert!(n[2] > 0.0 && n[5] >= n[2], "{row:?}");
    }
    assert_eq!(rows[2][1], "4", "{stdout}");
    assert!(stdout.contains("pipeline overhead: "), "{stdout}");
    // The bench uses a scratch store: the data dir gets no renders.
    assert_eq!(render_count(&data), 0);
}
