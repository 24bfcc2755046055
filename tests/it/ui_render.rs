//! Rendering in the studio window, driven headless with egui_kittest and
//! tiny random Stable Diffusion models written to a temporary models
//! folder: render two variants, recall, compare, drop a rendered PNG,
//! reload the gallery after a restart, cancel mid-render (after the first
//! live preview), missing models, a broken checkpoint.

use crate::common::fixtures;
use crate::common::studio;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adstudio::app::{CentralView, DiffusionAvailability, StudioApp, TileState};
use adstudio::ml::diffusion::random::{tiny_configs, tiny_controlnet_config, RandomWeights};
use adstudio::ml::diffusion::{ClipTextModel, ControlNet, UNet, Vae};
use adstudio::render::read_png_params;
use adstudio::store::Store;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use image::{Rgba, RgbaImage};
use studio::{drop_file, step_until};

/// Random weights that remember every tensor handed out, so a model built
/// from them can be saved as a safetensors file.
#[derive(Clone)]
struct Recorder {
    random: RandomWeights,
    seen: Arc<Mutex<HashMap<String, Tensor>>>,
}

impl SimpleBackend for Recorder {
    fn get(
        &self,
        s: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.random.get(s, name, init, dtype, dev)?;
        self.seen
            .lock()
            .expect("lock")
            .insert(name.to_string(), t.clone());
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.random.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, _: &str) -> bool {
        true
    }
}

/// The studio on `data_dir` in this file's window size.
fn open_studio(data_dir: &Path) -> Harness<'static, StudioApp> {
    let mut harness = studio::studio(data_dir, egui::vec2(1400.0, 900.0));
    // A small canvas keeps the tiny renders fast.
    harness.state_mut().prefs_mut().default_canvas.short_side = 64;
    harness
}

/// Builds a component with recorded random weights and writes its
/// `config.json` and weights file into `dir`.
fn write_component(
    dir: &Path,
    seed: u64,
    config: &str,
    weights: &str,
    build: impl FnOnce(VarBuilder<'static>),
) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let recorder = Recorder {
        random: RandomWeights::new(seed),
        seen: Arc::default(),
    };
    let seen = Arc::clone(&recorder.seen);
    build(VarBuilder::from_backend(
        Box::new(recorder),
        DType::F32,
        Device::Cpu,
    ));
    let tensors = seen.lock().expect("lock").clone();
    candle_core::safetensors::save(&tensors, dir.join(weights)).expect("save weights");
    std::fs::write(dir.join("config.json"), config).expect("config");
}

/// Tiny SD (9-channel UNet, blocks 32/64, VAE scale 8, 2-layer CLIP) and
/// a tiny ControlNet in the diffusers layout, under `models/sd15` and
/// `models/controlnet-canny`.
pub(crate) fn write_tiny_models(models: &Path) {
    let tiny = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ml/diffusion/tiny/");
    let text = |f: &str| std::fs::read_to_string(format!("{tiny}{f}")).expect("tiny config");
    let configs = tiny_configs().expect("configs");
    let sd = models.join("sd15");
    write_component(
        &sd.join("unet"),
        11,
        &text("unet.json"),
        "diffusion_pytorch_model.safetensors",
        |vb| {
            UNet::new(&configs.unet, vb).expect("unet");
        },
    );
    write_component(
        &sd.join("vae"),
        12,
        &text("vae.json"),
        "diffusion_pytorch_model.safetensors",
        |vb| {
            Vae::new(&configs.vae, vb).expect("vae");
        },
    );
    write_component(
        &sd.join("text_encoder"),
        13,
        &text("text_encoder.json"),
        "model.safetensors",
        |vb| {
            ClipTextModel::new(&configs.text_encoder, vb).expect("text encoder");
        },
    );
    let cn_cfg = tiny_controlnet_config().expect("controlnet config");
    write_component(
        &models.join("controlnet-canny"),
        14,
        &text("controlnet.json"),
        "diffusion_pytorch_model.safetensors",
        |vb| {
            ControlNet::new(&cn_cfg, vb).expect("controlnet");
        },
    );
    let sched = sd.join("scheduler");
    std::fs::create_dir_all(&sched).expect("mkdir");
    std::fs::write(
        sched.join("scheduler_config.json"),
        text("scheduler_euler_a.json"),
    )
    .expect("scheduler");
    fixtures::write_tiny_clip_tokenizer(&sd.join("tokenizer"));
}

/// A 120x100 product: an opaque red disc with an anti-aliased edge.
fn draw_product(path: &Path) {
    let mut img = RgbaImage::new(120, 100);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = ((x as f32 + 0.5 - 60.0).powi(2) + (y as f32 + 0.5 - 50.0).powi(2)).sqrt();
        let alpha = (35.5 - d).clamp(0.0, 1.0);
        *p = Rgba([
            200,
            (x * 2) as u8,
            (y * 2) as u8,
            (alpha * 255.0).round() as u8,
        ]);
    }
    img.save(path).expect("save product");
}

pub(crate) fn done_count(app: &StudioApp) -> usize {
    app.gallery()
        .tiles
        .iter()
        .filter(|t| t.done().is_some())
        .count()
}

/// Opens the drawn product in a fresh studio with tiny models.
pub(crate) fn studio_with_product(root: &Path) -> Harness<'static, StudioApp> {
    let data = root.join("data");
    write_tiny_models(&data.join("models"));
    let product = root.join("red_disc.png");
    draw_product(&product);
    let mut harness = open_studio(&data);
    drop_file(&mut harness, product);
    step_until(&mut harness, "product opened, models found", |app| {
        app.session().is_some_and(|s| s.prepared.is_some())
            && matches!(app.diffusion(), DiffusionAvailability::Ready { .. })
    });
    harness
}

#[test]
fn render_two_variants_recall_compare_drop_and_reload() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_product(tmp.path());
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.seed = 40;
        render.steps = 2;
        render.n_variants = 2;
        render.negative_prompt = "blurry".into();
    }
    harness.get_by_label("Prompt").focus();
    harness.step();
    harness.get_by_label("Prompt").type_text("red disc on oak");
    harness.step();
    assert_eq!(harness.state().prefs().render.prompt, "red disc on oak");

    harness.get_by_label("Render 2 variants").click();
    step_until(&mut harness, "two variants rendered", |app| {
        done_count(app) == 2
    });
    let app = harness.state();
    assert_eq!(app.gallery().tiles.len(), 2);
    let session = app.session().expect("session");
    let placed = session
        .prepared
        .as_ref()
        .expect("canvas")
        .placed
        .rgba
        .clone();
    let mut seeds = Vec::new();
    for tile in &app.gallery().tiles {
        let done = tile.done().expect("done");
        let bytes = std::fs::read(&done.path).expect("stored PNG exists");
        let params = read_png_params(&bytes).expect("PNG parameters");
        assert_eq!(params, done.params);
        assert_eq!(params.request.params.prompt, "red disc on oak");
        assert_eq!(params.request.params.negative_prompt, "blurry");
        assert_eq!(params.request.params.steps, 2);
        assert_eq!(params.request.models.checkpoint, "sd15");
        assert_eq!(
            params.request.models.controlnet.as_deref(),
            Some("controlnet-canny")
        );
        assert_eq!(params.batch_seed, 40);
        seeds.push(params.request.params.seed);
        let img = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        assert_eq!(img.dimensions(), placed.dimensions());
        let mut opaque = 0;
        for (x, y, p) in placed.enumerate_pixels() {
            if p[3] == 255 {
                opaque += 1;
                assert_eq!(
                    img.get_pixel(x, y).0,
                    [p[0], p[1], p[2]],
                    "product at ({x},{y})"
                );
            }
        }
        assert!(
            opaque > 200,
            "the product must have opaque pixels ({opaque})"
        );
    }
    seeds.sort_unstable();
    assert_eq!(seeds, vec![40, 41], "variant i uses seed + i");
    let store = Store::open(&tmp.path().join("data").join("adstudio.sqlite3")).expect("store");
    let rows = store.renders_for_product(session.product.id).expect("rows");
    assert_eq!(rows.len(), 2, "one row per variant");

    // Recall: edit seed and prompt, then recall the newest tile (seed 41).
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.seed = 7;
        render.prompt = "something else".into();
        render.steps = 30;
    }
    harness.run_steps(2);
    harness
        .get_all_by_label("Recall")
        .next()
        .expect("a Recall button")
        .click();
    harness.run_steps(2);
    let render = &harness.state().prefs().render;
    assert_eq!(render.seed, 41);
    assert_eq!(render.prompt, "red disc on oak");
    assert_eq!(render.steps, 2);
    assert_eq!(render.negative_prompt, "blurry");

    // Compare: pick two tiles; the central view compares them.
    harness
        .get_all_by_label("Compare")
        .next()
        .expect("Compare button")
        .click();
    harness.run_steps(2);
    harness
        .get_all_by_label("Compare")
        .next()
        .expect("second Compare button")
        .click();
    harness.run_steps(2);
    assert!(matches!(
        harness.state().gallery().central,
        CentralView::Compare(..)
    ));
    assert!(harness.query_by_label_contains("Compare: A seed").is_some());
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "Split")
        .set_value_accesskit(0.25);
    harness.run_steps(2);
    assert!((harness.state().gallery().split - 0.25).abs() < 1e-6);

    // Clicking a tile opens it large; "Back to canvas" returns.
    harness.get_by_label("Variant seed 40").click();
    harness.run_steps(2);
    let key40 = harness
        .state()
        .gallery()
        .tiles
        .iter()
        .find(|t| t.seed == 40)
        .map(|t| t.key)
        .expect("tile of seed 40");
    assert_eq!(
        harness.state().gallery().central,
        CentralView::Variant(key40)
    );
    harness
        .get_all_by_label("Back to canvas")
        .next()
        .expect("back button")
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().gallery().central, CentralView::Canvas);

    // Dropping a rendered PNG recalls its parameters and shows it.
    let product_id = session_id(harness.state());
    let first = {
        let done = harness.state().gallery().tiles[0].done().expect("done");
        (done.params.clone(), done.path.clone())
    };
    let dropped = tmp.path().join("ad.png");
    std::fs::copy(&first.1, &dropped).expect("copy png");
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.seed = 999;
        render.prompt = "changed".into();
    }
    drop_file(&mut harness, dropped);
    step_until(&mut harness, "dropped render shown", |app| {
        app.gallery().tiles.len() == 3
    });
    let app = harness.state();
    assert_eq!(app.prefs().render.seed, first.0.request.params.seed);
    assert_eq!(app.prefs().render.prompt, "red disc on oak");
    assert!(matches!(app.gallery().central, CentralView::Variant(_)));
    assert_eq!(
        session_id(app),
        product_id,
        "the dropped PNG did not replace the product"
    );
    assert_eq!(app.products().len(), 1, "no product was added for it");
    drop(harness);

    // After a restart, reopening the product loads its stored renders.
    let mut harness = open_studio(&tmp.path().join("data"));
    step_until(&mut harness, "products listed", |app| {
        app.products().len() == 1
    });
    harness
        .state_mut()
        .handle_command(adstudio::app::Command::OpenStored(product_id.0));
    step_until(&mut harness, "stored renders loaded", |app| {
        done_count(app) == 2
    });
}

fn session_id(app: &StudioApp) -> adstudio::store::ProductId {
    app.session().expect("session").product.id
}

#[test]
fn cancel_mid_render_stops_and_saves_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_product(tmp.path());
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.prompt = "red disc".into();
        render.steps = 1000;
        render.n_variants = 2;
    }
    harness.run_steps(2);
    // Ctrl+Enter renders, like the button.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    // Wait for the first live preview (step 5), then cancel from the status bar.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        harness.step();
        let stepping = harness.state().gallery().tiles.iter().any(|t| {
            matches!(
                &t.state,
                TileState::Rendering { step, preview: Some(_), .. } if *step >= 5
            )
        });
        if stepping {
            break;
        }
        assert!(Instant::now() < deadline, "no live preview arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.get_by_label("Cancel model jobs").click();
    // Both the running and the queued variant end cancelled.
    step_until(&mut harness, "render cancelled", |app| {
        let tiles = &app.gallery().tiles;
        tiles.len() == 2
            && tiles
                .iter()
                .all(|t| matches!(t.state, TileState::Cancelled))
    });
    let (message, is_error) = harness.state().status().message.clone().expect("message");
    assert_eq!((message.as_str(), is_error), ("Cancelled", false));
    harness
        .get_all_by_label("Dismiss")
        .next()
        .expect("Dismiss on a cancelled tile")
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().gallery().tiles.len(), 1);
    let store = Store::open(&tmp.path().join("data").join("adstudio.sqlite3")).expect("store");
    let rows = store
        .renders_for_product(session_id(harness.state()))
        .expect("rows");
    assert!(rows.is_empty(), "a cancelled render leaves no row");
    let pngs = walk_pngs(&tmp.path().join("data").join("images"));
    assert_eq!(pngs.len(), 1, "only the product image is stored: {pngs:?}");
}

fn walk_pngs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_pngs(&p));
            } else if p.extension().is_some_and(|x| x == "png") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn without_models_render_is_disabled_and_names_the_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let product = tmp.path().join("red_disc.png");
    draw_product(&product);
    let mut harness = open_studio(&data);
    drop_file(&mut harness, product);
    step_until(&mut harness, "product opened", |app| {
        app.session().is_some_and(|s| s.prepared.is_some())
            && matches!(app.diffusion(), DiffusionAvailability::Missing { .. })
    });
    let button = harness.get_by_label("Render 4 variants");
    assert!(button.accesskit_node().is_disabled());
    let expected = data.join("models").join("sd15");
    let text = format!("{}", expected.display());
    assert!(
        harness.query_by_label_contains(&text).is_some(),
        "the message names {text}"
    );
    assert!(harness.query_by_label("Rescan models").is_some());
}

#[test]
fn a_broken_checkpoint_fails_each_tile_with_the_file_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut harness = studio_with_product(tmp.path());
    let unet = tmp
        .path()
        .join("data/models/sd15/unet/diffusion_pytorch_model.safetensors");
    std::fs::write(&unet, b"not a safetensors file").expect("break the weights");
    {
        let render = &mut harness.state_mut().prefs_mut().render;
        render.steps = 2;
        render.n_variants = 2;
    }
    harness.run_steps(2);
    harness.get_by_label("Render 2 variants").click();
    step_until(&mut harness, "both variants failed", |app| {
        let tiles = &app.gallery().tiles;
        tiles.len() == 2
            && tiles
                .iter()
                .all(|t| matches!(t.state, TileState::Failed(_)))
    });
    for tile in &harness.state().gallery().tiles {
        let TileState::Failed(error) = &tile.state else {
            unreachable!("checked above");
        };
        assert!(
            error.contains("diffusion_pytorch_model.safetensors"),
            "the error names the file: {error}"
        );
    }
    // The failure text is on screen, and the studio keeps working.
    assert!(harness
        .query_all_by_label_contains("safetensors")
        .next()
        .is_some());
    assert!(!harness.state().is_busy());
}
