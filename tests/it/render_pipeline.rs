//! End-to-end renders with tiny random models: product image -> canvas ->
//! variants -> PNG + store rows, reproducibility, cancel, NaN, metadata.

use crate::common::product_images;

use std::ops::ControlFlow;

use adstudio::ml::diffusion::random::tiny_controlnet_config;
use adstudio::ml::diffusion::{ControlNet, SchedulerKind, StableDiffusion};
use adstudio::product::{prepare_canvas, CanvasSettings, PreparedCanvas};
use adstudio::render::{
    encode_png, read_png_params, render_variant, render_variants, ModelIds, PngParams, RenderError,
    RenderModels, RenderParams, RenderRequest,
};
use adstudio::store::{ImageStore, NewProduct, ProductSettings, Store};
use adstudio::studio::render::save_variant;
use candle_core::{DType, Device};
use product_images::{disc, noise_image};

struct Models {
    sd: StableDiffusion,
    cn: ControlNet,
}

impl Models {
    fn new() -> Self {
        let dev = Device::Cpu;
        Self {
            sd: StableDiffusion::random_tiny(4, 11, &dev).expect("tiny model"),
            cn: ControlNet::random(
                &tiny_controlnet_config().expect("config"),
                12,
                DType::F32,
                &dev,
            )
            .expect("controlnet"),
        }
    }

    fn render(&self) -> RenderModels<'_> {
        RenderModels {
            models: self.sd.inpaint_models(Some(&self.cn)),
            scheduler_config: &self.sd.scheduler_config,
            taesd: None,
        }
    }
}

fn settings() -> CanvasSettings {
    CanvasSettings {
        short_side: 64,
        ..CanvasSettings::default()
    }
}

fn canvas() -> PreparedCanvas {
    let img = noise_image(96, 96, 7);
    let mask = disc(96, 96, 48.0, 48.0, 30.0);
    prepare_canvas(&img, &mask, &settings()).expect("canvas")
}

fn request(n: usize, steps: usize) -> RenderRequest {
    RenderRequest {
        params: RenderParams {
            prompt: "a perfume bottle on a marble table".into(),
            negative_prompt: "blurry".into(),
            seed: 40,
            steps,
            n_variants: n,
            ..RenderParams::default()
        },
        canvas: settings(),
        models: ModelIds {
            checkpoint: "tiny-random".into(),
            controlnet: Some("tiny-random-canny".into()),
        },
    }
}

fn go(_: &adstudio::render::RenderProgress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn two_variants_keep_the_product_exact_and_are_stored_with_their_parameters() {
    let models = Models::new();
    let canvas = canvas();
    let req = request(2, 5);
    let mut previews = Vec::new();
    let mut steps = Vec::new();
    let out = render_variants(&models.render(), &canvas, &req, &mut |p| {
        steps.push((p.variant, p.step, p.total));
        if let Some(img) = &p.preview {
            previews.push((p.variant, p.step, img.dimensions()));
        }
        ControlFlow::Continue(())
    })
    .expect("render");
    assert_eq!(out.len(), 2);
    assert_eq!(steps.len(), 10, "one progress call per step and variant");
    assert_eq!(
        previews,
        vec![(0, 5, (8, 8)), (1, 5, (8, 8))],
        "a preview every 5 steps at latent size"
    );
    assert_eq!((out[0].seed, out[1].seed), (40, 41));
    assert_ne!(out[0].image, out[1].image, "variants must differ");

    // Product pixels with alpha 255 are exact; something else was painted.
    let mut opaque = 0;
    for v in &out {
        assert_eq!(v.image.dimensions(), (64, 64));
        for (x, y, p) in canvas.placed.rgba.enumerate_pixels() {
            if p[3] == 255 {
                opaque += 1;
                assert_eq!(v.image.get_pixel(x, y).0, [p[0], p[1], p[2]], "({x},{y})");
            }
        }
    }
    assert!(opaque > 100, "the test product must have opaque pixels");

    // Store: PNG by content hash + a row each; the PNG carries the params.
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&dir.path().join("s.db")).expect("store");
    let images = ImageStore::new(dir.path().join("images"));
    let product = store
        .insert_product(&NewProduct {
            title: "bottle".into(),
            source_name: "bottle.png".into(),
            image_hash: "0".repeat(64),
            image_ext: "png".into(),
            width: 96,
            height: 96,
            has_transparency: true,
            settings: ProductSettings {
                mask_settings_json: serde_json::json!({}),
                mask_edits_json: serde_json::json!([]),
                canvas_settings_json: serde_json::json!({}),
            },
        })
        .expect("product");
    for v in &out {
        let saved = save_variant(&store, &images, product, &req, v).expect("save");
        let row = store.render(saved.id).expect("row").expect("exists");
        assert_eq!(row.seed, v.seed);
        assert_eq!(row.image_hash, saved.image.hash);
        assert_eq!((row.width, row.height), (64, 64));
        assert_eq!(row.model_ids_json["checkpoint"], "tiny-random");
        let bytes = std::fs::read(&saved.image.path).expect("png file");
        let decoded = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        assert_eq!(decoded, v.image, "the PNG holds the composited image");
        let params = read_png_params(&bytes).expect("params");
        assert_eq!(params, saved.params);
        assert_eq!(params.request.params.seed, v.seed);
        assert_eq!(params.variant, v.index);
        let from_row: PngParams =
            serde_json::from_value(row.params_json.clone()).expect("row params");
        assert_eq!(from_row, params);
        // Re-rendering from the stored row gives the same file (same hash).
        let again = render_variants(&models.render(), &canvas, &from_row.request, &mut go)
            .expect("rerender from row");
        let again_png = encode_png(&again[0].image, &from_row).expect("png");
        let again_stored = images.put_bytes(&again_png, "png").expect("put");
        assert_eq!(again_stored.hash, row.image_hash, "bit-exact re-render");
    }
    assert_eq!(store.renders_for_product(product).expect("list").len(), 2);
}

#[test]
fn a_variant_alone_equals_the_same_variant_of_the_batch_and_rerenders_bit_exactly() {
    let models = Models::new();
    let canvas = canvas();
    let req = request(2, 3);
    let batch = render_variants(&models.render(), &canvas, &req, &mut go).expect("batch");
    let alone =
        render_variant(&models.render(), &canvas, &req, 1, &mut go).expect("variant 1 alone");
    assert_eq!(alone.image, batch[1].image);
    assert_eq!(alone.generated, batch[1].generated);

    // From the stored parameters (JSON round trip) to the same PNG bytes.
    let params = PngParams {
        request: req.for_variant(1),
        variant: 1,
        batch_seed: req.params.seed,
    };
    let png = encode_png(&batch[1].image, &params).expect("png");
    let recovered = read_png_params(&png).expect("read");
    let again =
        render_variants(&models.render(), &canvas, &recovered.request, &mut go).expect("rerender");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].seed, 41);
    let png_again = encode_png(&again[0].image, &recovered).expect("png again");
    assert_eq!(
        png_again, png,
        "re-rendering from the parameters is bit-exact"
    );
}

#[test]
fn cancel_stops_within_one_step_and_reads_as_a_job_cancel() {
    let models = Models::new();
    let canvas = canvas();
    let req = request(2, 6);
    let mut calls = 0;
    let err = render_variants(&models.render(), &canvas, &req, &mut |p| {
        calls += 1;
        if p.step == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .expect_err("cancelled");
    assert_eq!(calls, 2, "no step runs after the cancel");
    assert!(
        matches!(
            err,
            RenderError::Cancelled {
                variant: 0,
                step: 2,
                total: 6,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn non_finite_guidance_gives_clear_errors() {
    let models = Models::new();
    let canvas = canvas();
    let mut req = request(1, 3);
    req.params.guidance_scale = f64::NAN;
    let err = render_variants(&models.render(), &canvas, &req, &mut go).expect_err("nan");
    assert!(err.to_string().contains("NaN"), "{err}");

    // Infinite guidance passes validation but poisons the latents at step 1.
    req.params.guidance_scale = f64::INFINITY;
    let err = render_variants(&models.render(), &canvas, &req, &mut go).expect_err("inf");
    assert!(
        matches!(
            err,
            RenderError::NonFinite {
                variant: 0,
                seed: 40,
                step: 1,
                total: 3
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("NaN or infinite"), "{err}");

    let mut req = request(0, 3);
    let err = render_variants(&models.render(), &canvas, &req, &mut go).expect_err("n = 0");
    assert!(err.to_string().contains("variants"), "{err}");
    req.params.n_variants = 1;
    req.canvas.short_side = 128;
    let err = render_variants(&models.render(), &canvas, &req, &mut go).expect_err("size");
    assert!(err.to_string().contains("64x64"), "{err}");
}

#[test]
fn schedulers_render_and_differ() {
    let models = Models::new();
    let canvas = canvas();
    let mut images = Vec::new();
    for kind in [
        SchedulerKind::EulerAncestral,
        SchedulerKind::Ddim,
        SchedulerKind::Lcm,
    ] {
        let mut req = request(1, 2);
        req.params.scheduler = kind;
        let out = render_variants(&models.render(), &canvas, &req, &mut go).expect("render");
        images.push(out[0].image.clone());
    }
    assert_ne!(images[0], images[1]);
    assert_ne!(images[1], images[2]);
}
