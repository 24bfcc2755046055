//! Rows for store tests: a product and its renders, with made-up hashes
//! (no image files behind them).

use adstudio::store::{NewProduct, NewRender, ProductId, ProductSettings, RenderId, Store};
use serde_json::json;

/// A product titled `title` whose image hash is `hash` repeated.
pub fn new_product(title: &str, hash: char) -> NewProduct {
    NewProduct {
        title: title.to_string(),
        source_name: format!("{title}.png"),
        image_hash: hash.to_string().repeat(64),
        image_ext: "png".to_string(),
        width: 8,
        height: 8,
        has_transparency: false,
        settings: ProductSettings {
            mask_settings_json: json!({}),
            mask_edits_json: json!([]),
            canvas_settings_json: json!({}),
        },
    }
}

/// Render `seed` of `product_id`.
pub fn new_render(product_id: ProductId, seed: u64) -> NewRender {
    NewRender {
        product_id,
        params_json: json!({"prompt": format!("p{seed}")}),
        seed,
        model_ids_json: json!([]),
        image_hash: format!("{seed:064x}"),
        image_path: format!("r{seed}.png"),
        width: 8,
        height: 8,
    }
}

/// A product ("mug") with `n` renders (seeds 1..=n).
pub fn renders(store: &Store, n: u64) -> (ProductId, Vec<RenderId>) {
    let p = store
        .insert_product(&new_product("mug", 'a'))
        .expect("product");
    let ids = (1..=n)
        .map(|seed| store.insert_render(&new_render(p, seed)).expect("render"))
        .collect();
    (p, ids)
}
