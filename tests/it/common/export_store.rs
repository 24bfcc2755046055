//! A data directory holding a drawn product (soft alpha, two objects) with
//! scored renders at several canvas aspects and their recorded masks: what
//! the export, its command and the studio's catalog read. The renders are
//! drawn (a background per seed, the placed product composited over it as
//! the renderer does), so no diffusion model is needed.
#![allow(dead_code)]

use std::path::Path;

use adstudio::paths::DataDir;
use adstudio::product::{
    build_mask, composite, load_product_bytes, prepare_canvas, AspectPreset, CanvasSettings,
    MaskEdits, MaskSettings,
};
use adstudio::render::{PngParams, RenderParams, RenderRequest};
use adstudio::store::{
    ImageStore, NewProduct, NewScore, ProductId, ProductSettings, RenderId, Store,
};
use adstudio::studio::render::record_render_mask;
use image::{GrayImage, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::json;

use super::product_images::{disc, rounded_rect};

/// A stored product and its renders, best first.
pub struct ExportFixture {
    /// The product.
    pub product: ProductId,
    /// (render, aspect, score) best first within each aspect.
    pub renders: Vec<(RenderId, AspectPreset, f64)>,
    /// The original photo.
    pub photo: RgbaImage,
    /// The mask the renders were placed with.
    pub mask: GrayImage,
}

/// The drawn product photo: a disc and a rounded bar, anti-aliased, the
/// bar half transparent at its right end (soft alpha), both textured with
/// a fine pattern (so a product upscaled from the 512 canvas is visibly
/// different from one resampled from the photo).
pub fn drawn_photo(w: u32, h: u32) -> RgbaImage {
    let (wf, hf) = (w as f32, h as f32);
    let a = disc(w, h, wf * 0.3, hf * 0.45, hf * 0.28);
    let b = rounded_rect(w, h, [wf * 0.55, hf * 0.3, wf * 0.92, hf * 0.75], hf * 0.06);
    RgbaImage::from_fn(w, h, |x, y| {
        let ca = u32::from(a.get_pixel(x, y).0[0]);
        let fade = if x as f32 > wf * 0.8 { 140 } else { 255 };
        let cb = u32::from(b.get_pixel(x, y).0[0]) * fade / 255;
        let alpha = ca.max(cb) as u8;
        if alpha == 0 {
            return Rgba([0, 0, 0, 0]);
        }
        let r = ((x * 37 + y * 11) % 251) as u8;
        let g = ((x ^ y) * 5 % 256) as u8;
        let bl = if (x / 2 + y / 2).is_multiple_of(2) {
            40
        } else {
            210
        };
        Rgba([r, g, bl, alpha])
    })
}

/// A drawn background for seed `seed`: smooth gradients and stripes.
pub fn drawn_background(w: u32, h: u32, seed: u64) -> RgbImage {
    let s = seed as u32;
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            ((x * 255 / w.max(1) + s * 40) % 256) as u8,
            ((y * 255 / h.max(1) + s * 70) % 256) as u8,
            if ((x + y + s * 5) / 16).is_multiple_of(2) {
                60
            } else {
                180
            },
        ])
    })
}

/// Creates the store of `data_dir` with one drawn product titled `title`
/// and `per_aspect` scored renders at each of `aspects` (scores decrease
/// with the index, so render 0 of an aspect is its best).
pub fn product_with_scored_renders(
    data_dir: &Path,
    title: &str,
    aspects: &[AspectPreset],
    per_aspect: usize,
) -> ExportFixture {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let data = DataDir::at(data_dir).expect("data dir");
    let store = Store::open(&data.database_path()).expect("store");
    let images = ImageStore::new(data.images_dir());
    let photo = drawn_photo(600, 420);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(photo.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode photo");
    let stored = images.put_bytes(&png, "png").expect("store photo");
    let decoded = load_product_bytes(&png).expect("decode photo");
    let mask = build_mask(&decoded, &MaskSettings::default(), &MaskEdits::default())
        .expect("mask")
        .mask;
    let product = store
        .insert_product(&NewProduct {
            title: title.to_string(),
            source_name: format!("{title}.png"),
            image_hash: stored.hash,
            image_ext: "png".to_string(),
            width: photo.width(),
            height: photo.height(),
            has_transparency: true,
            settings: ProductSettings {
                mask_settings_json: serde_json::to_value(MaskSettings::default()).expect("json"),
                mask_edits_json: json!([]),
                canvas_settings_json: serde_json::to_value(CanvasSettings::default())
                    .expect("json"),
            },
        })
        .expect("product");
    let mut renders = Vec::new();
    for (a, &aspect) in aspects.iter().enumerate() {
        for i in 0..per_aspect {
            let seed = (a * 10 + i) as u64;
            let score = 1.0 - i as f64 * 0.5 - a as f64 * 0.01;
            let id = add_render(&store, &images, product, &decoded.rgba, &mask, aspect, seed);
            store
                .insert_score(&NewScore {
                    render_id: id,
                    model_id: "rm-test".to_string(),
                    score,
                    ctr: Some(0.02 + 0.01 * score.max(0.0)),
                    details_json: json!({"kind": "pairwise-rm"}),
                })
                .expect("score");
            renders.push((id, aspect, score));
        }
    }
    ExportFixture {
        product,
        renders,
        photo: decoded.rgba,
        mask,
    }
}

/// Draws one render of the product at `aspect` (512 short side), stores it
/// with its canvas settings and records its mask.
fn add_render(
    store: &Store,
    images: &ImageStore,
    product: ProductId,
    photo: &RgbaImage,
    mask: &GrayImage,
    aspect: AspectPreset,
    seed: u64,
) -> RenderId {
    let settings = CanvasSettings {
        aspect,
        ..CanvasSettings::default()
    };
    let canvas = prepare_canvas(photo, mask, &settings).expect("canvas");
    let (w, h) = settings.canvas_size();
    let image = composite(&canvas.placed, &drawn_background(w, h, seed)).expect("composite");
    let stored = images
        .put_png(&image::DynamicImage::ImageRgb8(image))
        .expect("store render");
    let id = store
        .insert_render(&adstudio::store::NewRender {
            product_id: product,
            params_json: serde_json::to_value(PngParams {
                request: RenderRequest {
                    params: RenderParams {
                        prompt: format!("scene {seed}"),
                        seed,
                        n_variants: 1,
                        ..RenderParams::default()
                    },
                    canvas: settings,
                    ..RenderRequest::default()
                },
                variant: 0,
                batch_seed: seed,
            })
            .expect("params"),
            seed,
            model_ids_json: json!({"checkpoint": "drawn"}),
            image_hash: stored.hash,
            image_path: stored.path.display().to_string(),
            width: w,
            height: h,
        })
        .expect("render");
    record_render_mask(store, images, id, &canvas.source_mask).expect("mask");
    id
}
