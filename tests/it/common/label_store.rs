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

/// The drawn ad of render `r`: a product box (its colour from `product`)
/// on a background of its own (a gradient, stripes, a floor line).
pub fn drawn_ad(product: usize, r: usize, size: u32) -> image::RgbImage {
    let palettes = [
        ([250, 228, 196], [214, 140, 90]),
        ([40, 52, 84], [18, 22, 36]),
        ([170, 220, 190], [60, 140, 110]),
        ([235, 235, 240], [160, 170, 190]),
        ([250, 200, 210], [180, 90, 120]),
        ([210, 190, 250], [90, 70, 170]),
    ];
    let (top, bottom) = palettes[r % palettes.len()];
    let boxes = [[200, 60, 50], [40, 110, 200], [240, 180, 40]];
    let product_rgb = boxes[product % boxes.len()];
    let s = size as f32;
    image::RgbImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f32 / s, y as f32 / s);
        let in_box = (0.35..0.65).contains(&fx) && (0.3..0.72).contains(&fy);
        if in_box {
            let shade = if fx < 0.4 { 0.8 } else { 1.0 };
            return image::Rgb(product_rgb.map(|c| (c as f32 * shade) as u8));
        }
        let floor = fy > 0.72;
        let stripe = r % 3 == 1 && (x / (size / 16).max(1)).is_multiple_of(2);
        let t = if floor { 1.0 } else { fy / 0.72 };
        let mix = |i: usize| {
            let v = top[i] as f32 + (bottom[i] as f32 - top[i] as f32) * t;
            let v = if stripe { v * 0.9 } else { v };
            let v = if floor { v * 0.75 } else { v };
            v as u8
        };
        image::Rgb([mix(0), mix(1), mix(2)])
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
            drawn_ad(p, r, 256).save(&path).expect("save drawn ad");
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
