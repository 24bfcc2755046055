//! A data directory whose store holds products with renders, for the
//! labelling tests (no image files: labelling does not open them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use adstudio::paths::DataDir;
use adstudio::store::{NewProduct, NewRender, ProductId, ProductSettings, RenderId, Store};
use serde_json::json;

/// Creates the store of `data_dir` with `products` products of `renders`
/// renders each; returns the product ids and their render ids.
pub fn products_with_renders(
    data_dir: &Path,
    products: usize,
    renders: usize,
) -> Vec<(ProductId, Vec<RenderId>)> {
    let store = Store::open(&database(data_dir)).expect("open store");
    (0..products)
        .map(|p| {
            let product = store
                .insert_product(&NewProduct {
                    title: format!("product {p}"),
                    source_name: format!("p{p}.png"),
                    image_hash: "ab".repeat(32),
                    image_ext: "png".to_string(),
                    width: 64,
                    height: 64,
                    has_transparency: false,
                    settings: ProductSettings {
                        mask_settings_json: json!({}),
                        mask_edits_json: json!([]),
                        canvas_settings_json: json!({}),
                    },
                })
                .expect("product");
            let ids = (0..renders)
                .map(|r| {
                    store
                        .insert_render(&NewRender {
                            product_id: product,
                            params_json: json!({"prompt": format!("background {r}")}),
                            seed: r as u64,
                            model_ids_json: json!([]),
                            image_hash: "cd".repeat(32),
                            image_path: format!("images/p{p}-r{r}.png"),
                            width: 64,
                            height: 64,
                        })
                        .expect("render")
                })
                .collect();
            (product, ids)
        })
        .collect()
}

/// The database file of `data_dir`.
pub fn database(data_dir: &Path) -> PathBuf {
    DataDir::at(data_dir).expect("data dir").database_path()
}

/// Backdrop colours (wall top, wall bottom) of the drawn ads.
const PALETTES: [([f32; 3], [f32; 3]); 6] = [
    ([250.0, 228.0, 196.0], [214.0, 140.0, 90.0]),
    ([52.0, 64.0, 100.0], [18.0, 22.0, 36.0]),
    ([190.0, 230.0, 205.0], [60.0, 140.0, 110.0]),
    ([238.0, 238.0, 244.0], [160.0, 170.0, 190.0]),
    ([250.0, 205.0, 214.0], [180.0, 90.0, 120.0]),
    ([214.0, 196.0, 250.0], [90.0, 70.0, 170.0]),
];

/// The backdrop of drawn ad `r` at (fx, fy) in [0, 1]: a wall gradient, a
/// table top, and a prop of its own (a lamp disc, stripes or a plant).
fn backdrop(r: usize, fx: f32, fy: f32) -> [f32; 3] {
    let (top, bottom) = PALETTES[r % PALETTES.len()];
    let floor = fy > 0.72;
    let t = if floor { 1.0 } else { fy / 0.72 };
    let mut c = [0, 1, 2].map(|i| top[i] + (bottom[i] - top[i]) * t);
    if floor {
        let grain = 0.72 + 0.06 * ((fy * 90.0).sin() * 0.5 + 0.5);
        c = c.map(|v| v * grain);
    }
    match r % 3 {
        0 if (fx - 0.2).hypot(fy - 0.2) < 0.11 => [255.0, 236.0, 170.0],
        1 if !floor && ((fx * 12.0) as i32) % 2 == 0 => c.map(|v| v * 0.88),
        2 if (fx - 0.84).hypot((fy - 0.55) * 0.5) < 0.09 && fy < 0.72 => [70.0, 150.0, 80.0],
        _ => c,
    }
}

/// The drawn ad of render `r`: a mug (its colour from `product`) with a
/// handle and a shadow, on the backdrop of render `r`.
pub fn drawn_ad(product: usize, r: usize, size: u32) -> image::RgbImage {
    let mugs = [
        [200.0, 60.0, 50.0],
        [40.0, 110.0, 200.0],
        [240.0, 180.0, 40.0],
    ];
    let mug = mugs[product % mugs.len()];
    let s = size as f32;
    image::RgbImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f32 / s, y as f32 / s);
        let body = (0.36..0.62).contains(&fx) && (0.38..0.74).contains(&fy);
        let ring = (fx - 0.62).hypot(fy - 0.55);
        let handle = fx > 0.62 && (0.06..0.1).contains(&ring);
        let c = if body || handle {
            // Light from the left: darker to the right.
            let shade = 1.05 - 0.45 * ((fx - 0.36) / 0.3).clamp(0.0, 1.0);
            mug.map(|v| v * shade)
        } else if (fx - 0.5).hypot((fy - 0.75) * 4.0) < 0.2 && fy > 0.74 {
            backdrop(r, fx, fy).map(|v| v * 0.55)
        } else {
            backdrop(r, fx, fy)
        };
        image::Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
    })
}

/// Adds `renders` renders to `product` whose images are drawn ads (product
/// colour `p`) written under `data_dir/drawn` (absolute paths in the store)
/// and whose prompts are `prompt(p, render)`.
pub fn add_drawn_renders(
    data_dir: &Path,
    product: ProductId,
    p: usize,
    renders: usize,
    prompt: &dyn Fn(usize, usize) -> String,
) -> Vec<RenderId> {
    let store = Store::open(&database(data_dir)).expect("open store");
    let drawn = data_dir.join("drawn");
    std::fs::create_dir_all(&drawn).expect("drawn dir");
    (0..renders)
        .map(|r| {
            let path = drawn.join(format!("p{}-r{r}.png", product.0));
            drawn_ad(p, r, 512).save(&path).expect("save drawn ad");
            store
                .insert_render(&NewRender {
                    product_id: product,
                    params_json: json!({"request": {"params": {"prompt": prompt(p, r)}}}),
                    seed: 1000 + r as u64,
                    model_ids_json: json!([]),
                    image_hash: "cd".repeat(32),
                    image_path: path.display().to_string(),
                    width: 256,
                    height: 256,
                })
                .expect("render")
        })
        .collect()
}

/// Creates the store of `data_dir` with one product per title (no image
/// file: it cannot be opened in the studio), each with `renders` drawn
/// renders (see [`add_drawn_renders`]).
pub fn drawn_products(
    data_dir: &Path,
    titles: &[&str],
    renders: usize,
    prompt: impl Fn(usize, usize) -> String,
) -> Vec<(ProductId, Vec<RenderId>)> {
    let store = Store::open(&database(data_dir)).expect("open store");
    titles
        .iter()
        .enumerate()
        .map(|(p, title)| {
            let product = store
                .insert_product(&NewProduct {
                    title: title.to_string(),
                    source_name: format!("p{p}.png"),
                    image_hash: "ab".repeat(32),
                    image_ext: "png".to_string(),
                    width: 256,
                    height: 256,
                    has_transparency: false,
                    settings: ProductSettings {
                        mask_settings_json: json!({}),
                        mask_edits_json: json!([]),
                        canvas_settings_json: json!({}),
                    },
                })
                .expect("product");
            (
                product,
                add_drawn_renders(data_dir, product, p, renders, &prompt),
            )
        })
        .collect()
}
