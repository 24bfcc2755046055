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
